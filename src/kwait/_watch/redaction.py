"""Keeping secrets out of what kwait prints: reports, timelines, error messages.

Objects are recorded as the server sent them (a state function may need any
field), and redacted when they are rendered. What counts as secret:

* a Secret's ``data`` and ``stringData`` values (and their base64-decoded form);
* the ``value`` of every container environment variable (``env[].value``), in
  pods and in pod templates (Deployments, Jobs, CronJobs ...);
* any string under a key named like a credential (``password``, ``token``,
  ``apiKey``, ``privateKey``, ``secret`` ...);
* the ``kubectl.kubernetes.io/last-applied-configuration`` annotation of an
  object holding any of the above (it repeats them).

A report computes each state on the real object, and shows ``<redacted>``
instead of any value that is, or contains, one of the object's secrets; a
final pass replaces every secret (4 characters or longer) left anywhere in the
text. Set the environment variable ``KWAIT_SHOW_SECRETS=1`` to turn all of
this off (for a local debugging session, never in CI).
"""

from __future__ import annotations

import base64
import binascii
import copy
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "REDACTED",
    "SHOW_SECRETS_ENV",
    "contains_secret",
    "redact_object",
    "scrub",
    "scrub_json",
    "secrets_of",
    "secrets_shown",
]

REDACTED = "<redacted>"
SHOW_SECRETS_ENV = "KWAIT_SHOW_SECRETS"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_SCRUB_MIN = 4
_CREDENTIAL_KEY = re.compile(
    r"(?i)(password|passwd|passphrase|token|secret|credentials?|api[-_]?key|private[-_]?key"
    r"|client[-_]?key|access[-_]?key)$"
)


def secrets_shown() -> bool:
    """True when the user opted in to seeing secrets (``KWAIT_SHOW_SECRETS=1``)."""
    return os.environ.get(SHOW_SECRETS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _decoded(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _env(value: list[Any], found: set[str], *, redact: bool) -> bool:
    hit = False
    for var in value:
        if isinstance(var, dict) and isinstance(var.get("value"), str):
            found.add(var["value"])
            hit = True
            if redact:
                var["value"] = REDACTED
    return hit


def _walk(node: Any, found: set[str], *, redact: bool) -> bool:
    """Collect (and with `redact`, blank out in place) secrets below `node`; True if any."""
    hit = False
    if isinstance(node, list):
        for item in node:
            hit = _walk(item, found, redact=redact) or hit
        return hit
    if not isinstance(node, dict):
        return False
    for key, value in list(node.items()):
        if key == "env" and isinstance(value, list):
            hit = _env(value, found, redact=redact) or hit
        elif isinstance(value, str) and _CREDENTIAL_KEY.search(str(key)):
            found.add(value)
            hit = True
            if redact:
                node[key] = REDACTED
        elif isinstance(value, (dict, list)):
            hit = _walk(value, found, redact=redact) or hit
    return hit


def _secret_data(obj: dict[str, Any], found: set[str], *, redact: bool) -> bool:
    hit = False
    for key in ("data", "stringData"):
        values = obj.get(key)
        if not isinstance(values, dict):
            continue
        hit = True
        for value in values.values():
            if isinstance(value, str):
                found.add(value)
                plain = _decoded(value) if key == "data" else None
                if plain:
                    found.add(plain)
        if redact:
            obj[key] = dict.fromkeys(values, REDACTED)
    return hit


def _collect(obj: dict[str, Any], *, redact: bool) -> set[str]:
    found: set[str] = set()
    is_secret = obj.get("kind") == "Secret"
    hit = _secret_data(obj, found, redact=redact) if is_secret else False
    skip = {"metadata", "data", "stringData"} if is_secret else {"metadata"}
    for key, value in obj.items():
        if key not in skip and isinstance(value, (dict, list)):
            hit = _walk(value, found, redact=redact) or hit
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if hit and isinstance(annotations, dict) and LAST_APPLIED in annotations:
        found.add(str(annotations[LAST_APPLIED]))
        if redact:
            annotations[LAST_APPLIED] = REDACTED
    found.discard("")
    found.discard(REDACTED)
    return found


def secrets_of(obj: Mapping[str, Any] | None) -> frozenset[str]:
    """Every secret value `obj` holds (see the module documentation).

    >>> env = [{"name": "PW", "value": "hunter2"}]
    >>> sorted(secrets_of({"kind": "Pod", "spec": {"containers": [{"env": env}]}}))
    ['hunter2']
    """
    if not obj:
        return frozenset()
    return frozenset(_collect(dict(obj), redact=False))


def redact_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `obj` with every secret replaced by ``<redacted>`` (managedFields dropped).

    >>> secret = {"kind": "Secret", "metadata": {"name": "db"}, "stringData": {"user": "admin"}}
    >>> redact_object(secret)["stringData"]
    {'user': '<redacted>'}
    """
    out = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    if not secrets_shown():
        _collect(out, redact=True)
    return out


def contains_secret(value: Any, secrets: Iterable[str]) -> bool:
    """True when `value` (or any string inside it) is, or contains, one of `secrets`."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return False
    if isinstance(value, Mapping):
        return any(contains_secret(v, secrets) for v in value.values()) or any(
            contains_secret(k, secrets) for k in value
        )
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(contains_secret(v, secrets) for v in value)
    if value is None or isinstance(value, bool):
        return False
    text = str(value)
    return any(text == s or (len(s) >= _SCRUB_MIN and s in text) for s in secrets)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret of 4 or more characters in `text` by ``<redacted>``.

    >>> scrub("password is hunter2.", {"hunter2"})
    'password is <redacted>.'
    """
    if secrets_shown():
        return text
    for secret in sorted((s for s in secrets if len(s) >= _SCRUB_MIN), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def scrub_json(value: Any, secrets: Iterable[str]) -> Any:
    """`scrub` every string inside a JSON-like value (keys included)."""
    secrets = frozenset(secrets)
    if not secrets or secrets_shown():
        return value
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {scrub_json(k, secrets): scrub_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v, secrets) for v in value]
    return value
