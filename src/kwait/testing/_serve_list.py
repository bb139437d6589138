"""LIST requests on the fake API server: selectors, list options, chunking, continue tokens.

`list_response` answers a LIST as kube-apiserver does: it validates the
list options, serves the latest state, a consistent snapshot at an exact
resourceVersion or from a continue token (410 once compacted), waits for a
"not older than" resourceVersion the store has not reached (504 Too large
after a while), and pages with ``limit`` and ``continue``. The selector and
option helpers are shared with WATCH (`kwait.testing._serve_watch`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from kwait.testing._errors import StatusError, bad_request
from kwait.testing._http import Route, parse_int
from kwait.testing._lifecycle import Store
from kwait.testing._resources import ResourceType, field_value
from kwait.testing._selectors import (
    FieldSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)

__all__ = [
    "TOO_LARGE_WAIT",
    "decode_continue",
    "encode_continue",
    "list_options_invalid",
    "list_response",
    "parse_selectors",
    "selector",
    "too_large",
]

_DEFAULT_FIELDS = ("metadata.name", "metadata.namespace")
TOO_LARGE_WAIT = 3.0
"""Seconds a request for a future resourceVersion waits before 504 Too large."""


def list_options_invalid(errors: list[tuple[str, str, str]]) -> StatusError:
    """422 Invalid for ``(field, reason, message)`` errors in the ListOptions."""
    texts = [f"{f}: {m}" for f, _, m in errors]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return StatusError(
        422,
        "Invalid",
        f'ListOptions.meta.k8s.io "" is invalid: {joined}',
        {
            "group": "meta.k8s.io",
            "kind": "ListOptions",
            "causes": [{"reason": r, "message": m, "field": f} for f, r, m in errors],
        },
    )


def too_large(requested: int, current: int) -> StatusError:
    """504 Too large resource version, with a Retry-After of one second."""
    return StatusError(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {requested}, current: {current}",
        {
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ],
            "retryAfterSeconds": 1,
        },
        headers={"Retry-After": "1"},
    )


def _parse_rv(value: str) -> int:
    if not value.isdigit():
        raise bad_request(
            f'invalid resource version: resourceVersion: Invalid value: "{value}": '
            f'strconv.ParseUint: parsing "{value}": invalid syntax'
        )
    return int(value)


def selector(rtype: ResourceType, query: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """The query's label and field selectors as a predicate on objects (400 if invalid)."""
    labels, fields = parse_selectors(rtype, query)

    def select(obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        if not labels.matches(meta.get("labels")):
            return False
        return fields.matches(lambda name: field_value(rtype, obj, name))

    return select


def parse_selectors(rtype: ResourceType, query: dict[str, str]) -> tuple[Any, FieldSelector]:
    """Parse the query's label and field selectors (400 if invalid or not supported)."""
    try:
        labels = parse_label_selector(query.get("labelSelector", ""))
        fields = parse_field_selector(query.get("fieldSelector", ""))
    except SelectorError as err:
        raise bad_request(str(err)) from None
    allowed = rtype.field_selectors
    for name in fields.fields():
        if allowed is None:
            if name not in _DEFAULT_FIELDS:
                raise bad_request(
                    f'"{name}" is not a known field selector: only "metadata.name", '
                    '"metadata.namespace"'
                )
        elif name not in allowed:
            raise bad_request(f"field label not supported: {name}")
    return labels, fields


def list_response(store: Store, route: Route, query: dict[str, str]) -> dict[str, Any]:  # noqa: C901, PLR0912, PLR0915 - mirrors the API server's decision table
    """The body of the answer to a LIST of `route` with `query` (raises `StatusError`)."""
    rtype = route.rtype
    clock = store.clock
    select = selector(rtype, query)
    labels, fields = parse_selectors(rtype, query)
    rv = query.get("resourceVersion", "")
    rvm = query.get("resourceVersionMatch", "")
    token = query.get("continue", "")
    limit = parse_int("limit", query.get("limit")) or 0
    errors: list[tuple[str, str, str]] = []
    if "sendInitialEvents" in query:
        errors.append(
            (
                "sendInitialEvents",
                "FieldValueForbidden",
                "Forbidden: sendInitialEvents is forbidden for list",
            )
        )
    if rvm:
        if token:
            errors.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    "Forbidden: resourceVersionMatch is forbidden when continue is provided",
                )
            )
        elif not rv:
            errors.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    (
                        "Forbidden: resourceVersionMatch is forbidden unless resourceVersion "
                        "is provided"
                    ),
                )
            )
        elif rvm == "Exact" and rv == "0":
            errors.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    (
                        'Forbidden: resourceVersionMatch "exact" is forbidden for '
                        'resourceVersion "0"'
                    ),
                )
            )
        elif rvm not in {"Exact", "NotOlderThan"}:
            errors.append(
                (
                    "resourceVersionMatch",
                    "FieldValueNotSupported",
                    (f'Unsupported value: "{rvm}": supported values: "Exact", "NotOlderThan", ""'),
                )
            )
    if errors:
        raise list_options_invalid(errors)
    if token and rv not in {"", "0"}:
        raise bad_request("specifying resource version is not allowed when using continue")
    at_rv: int | None = None
    after_key: str | None = None
    if token:
        token_rv, after_key = decode_continue(token)
        if token_rv >= 0:
            with store.cond:
                too_old = token_rv < store.history_start
            if too_old:
                raise StatusError(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent "
                    "list result. You can start a new list without the continue parameter, "
                    "or use the continue token in this response to retrieve the remainder "
                    "of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted "
                    "between the time the first chunk was returned and now may show up in "
                    "the list.",
                    metadata={"continue": encode_continue(-1, after_key)},
                )
            at_rv = token_rv
    elif rv == "0":
        limit = 0
    elif rv:
        wanted = _parse_rv(rv)
        exact = rvm == "Exact" or (not rvm and limit > 0)
        with store.cond:
            current = store.rv
        if wanted > current:
            if exact:
                raise too_large(wanted, current)
            with clock.participant(), store.cond:
                reached = clock.wait_for(
                    store.cond, lambda: store.rv >= wanted or store.closed, TOO_LARGE_WAIT
                )
                current = store.rv
            if not reached or current < wanted:
                raise too_large(wanted, current)
        elif exact:
            at_rv = wanted
    items, snapshot_rv, last_key, remaining = store.list_objects(
        rtype, route.namespace, select, at_rv=at_rv, after_key=after_key, limit=limit
    )
    metadata: dict[str, Any] = {"resourceVersion": str(snapshot_rv)}
    if last_key is not None:
        metadata["continue"] = encode_continue(snapshot_rv if at_rv != -1 else -1, last_key)
        if labels.empty and fields.empty:
            metadata["remainingItemCount"] = remaining
    if not rtype.custom:
        for item in items:
            item.pop("kind", None)
            item.pop("apiVersion", None)
    return {
        "kind": rtype.list_kind_name,
        "apiVersion": rtype.api_version,
        "metadata": metadata,
        "items": items,
    }


def encode_continue(rv: int, start: str) -> str:
    """Make a continue token in the real server's format."""
    raw = json.dumps(
        {"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """Decode a continue token into (rv, key of the last item returned)."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        rv = int(data["rv"])
        start = str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad_request(f"invalid continue token: continue key is not valid: {exc}") from None
    if data.get("v") != "meta.k8s.io/v1":
        raise bad_request(
            "invalid continue token: continue key is not valid: incorrect encoded start "
            "resourceVersion (version meta.k8s.io/v1)"
        )
    return rv, start.removesuffix("\x00")
