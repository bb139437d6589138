"""Compare Kubernetes objects: a diff that ignores what the server fills in, and subsets.

Two questions come up in tests on real clusters:

* *Is this the same object?* An object exported and imported again, or
  re-created from a backup, must equal the original except for what the API
  server manages (uid, resourceVersion, timestamps, managedFields, status ...).
  `diff` answers it, ignoring `SERVER_FIELDS` (extensible).
* *Does the object say at least this?* A manifest written by the test is a
  subset of what the server holds (which adds defaults). `subset_diff` and the
  predicate `matches` answer it: dicts by key, lists by an element key such as
  ``name`` (or ``type`` for conditions), or by position.

Paths are written ``metadata.annotations[kubectl.kubernetes.io/last-applied-configuration]``:
dots separate keys, brackets hold a key with dots in it, ``*`` stands for any key
and ``[*]`` for any list element (``spec.containers[*].terminationMessagePath``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from kwait._errors import KwaitError
from kwait._match.states import DELETED, Predicate

__all__ = [
    "LIST_KEYS",
    "SERVER_FIELDS",
    "Change",
    "Diff",
    "ObjectMismatchError",
    "diff",
    "expect_matches",
    "expect_same",
    "load",
    "load_all",
    "matches",
    "subset_diff",
    "to_plain",
]

#: The fields the API server (and kubectl) manage; `diff` ignores them by default.
SERVER_FIELDS: tuple[str, ...] = (
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.creationTimestamp",
    "metadata.deletionTimestamp",
    "metadata.deletionGracePeriodSeconds",
    "metadata.managedFields",
    "metadata.selfLink",
    "metadata.annotations[kubectl.kubernetes.io/last-applied-configuration]",
    "metadata.annotations[deployment.kubernetes.io/revision]",
    "status",
)

#: Keys that identify the elements of a list of objects, tried in order.
LIST_KEYS: tuple[str, ...] = ("name", "type", "containerPort", "mountPath")

Segment = Union[str, int, tuple[str, Any]]  # noqa: UP007 - a runtime alias on 3.10
_ANY_KEY = "*"
_ANY_ITEM = "[*]"


# ------------------------------------------------------------------ plain objects


def to_plain(obj: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """Return `obj` as the JSON-like value the API server would send.

    Dicts and lists are copied; a model object of the official client (anything
    with ``attribute_map`` and ``openapi_types``) becomes a dict with the
    server's field names (``apiVersion``, not ``api_version``), None fields left
    out; dates become RFC 3339 text; another object with ``to_dict()`` is
    converted by it.

    >>> class Meta:  # shaped like kubernetes.client.V1ObjectMeta
    ...     attribute_map = {"name": "name", "resource_version": "resourceVersion"}
    ...     openapi_types = {"name": "str", "resource_version": "str"}
    ...     name, resource_version = "web", None
    >>> to_plain({"metadata": Meta()})
    {'metadata': {'name': 'web'}}
    """
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dt.datetime):
        text = obj.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(obj, dt.date):
        return obj.isoformat()
    attribute_map = getattr(obj, "attribute_map", None)
    if isinstance(attribute_map, Mapping) and hasattr(obj, "openapi_types"):
        out: dict[str, Any] = {}
        for attr, key in attribute_map.items():
            value = getattr(obj, attr, None)
            if value is not None:
                out[str(key)] = to_plain(value)
        return out
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_plain(to_dict())
    raise TypeError(f"cannot turn {type(obj).__name__} into a Kubernetes object")


def _yaml_documents(source: str | os.PathLike[str] | Any) -> list[Any]:
    if isinstance(source, os.PathLike):
        text = Path(source).read_text(encoding="utf-8")
    elif isinstance(source, str):
        text = source
    else:
        return [to_plain(source)]
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        where = f"{os.fspath(source)}: " if isinstance(source, os.PathLike) else ""
        raise ValueError(f"{where}not valid YAML: {error}") from error


def load_all(source: str | os.PathLike[str] | Any) -> list[dict[str, Any]]:
    r"""Load every object from YAML text, a YAML file (a `pathlib.Path`), or objects.

    A ``str`` is YAML text (one or more ``---`` separated documents); a path
    object is a file to read; a dict or a client model object is taken as it is
    (see `to_plain`). A ``kind: List`` document gives its items.

    >>> [o["metadata"]["name"] for o in load_all("kind: ConfigMap\nmetadata: {name: a}\n---\n"
    ...                                         "kind: ConfigMap\nmetadata: {name: b}\n")]
    ['a', 'b']
    """
    out: list[dict[str, Any]] = []
    for doc in _yaml_documents(source):
        if not isinstance(doc, dict):
            raise TypeError(f"a Kubernetes object is a mapping, got {type(doc).__name__}: {doc!r}")
        if doc.get("kind") == "List" or str(doc.get("kind", "")).endswith("List"):
            out.extend(dict(i) for i in doc.get("items") or [])
        else:
            out.append(doc)
    return out


def load(source: str | os.PathLike[str] | Any) -> dict[str, Any]:
    r"""Load exactly one object from YAML text, a YAML file, or an object (see `load_all`).

    >>> load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n")["metadata"]
    {'name': 'settings'}
    """
    docs = load_all(source)
    if len(docs) != 1:
        raise ValueError(f"expected exactly one object, found {len(docs)}")
    return docs[0]


# ------------------------------------------------------------------ paths

_PATH_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def _parse_path(path: str) -> tuple[str, ...]:
    """``a.b[c.d][*]`` -> ``("a", "b", "c.d", "[*]")``."""
    parts: list[str] = []
    for bracket, plain in _PATH_TOKEN.findall(path):
        if plain:
            parts.append(plain)
        elif bracket == "*":
            parts.append(_ANY_ITEM)
        else:
            parts.append(bracket.strip("'\""))
    if not parts:
        raise ValueError(f"empty path {path!r}")
    return tuple(parts)


def _seg_matches(pattern: str, seg: Segment) -> bool:
    if isinstance(seg, str):
        return pattern in {seg, _ANY_KEY}
    return pattern == _ANY_ITEM


def _ignored(patterns: Sequence[tuple[str, ...]], path: Sequence[Segment]) -> bool:
    return any(
        len(p) == len(path) and all(_seg_matches(a, b) for a, b in zip(p, path, strict=True))
        for p in patterns
    )


_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path: Sequence[Segment]) -> str:
    """Render a path: ``.spec.containers[name=app].image``, ``.args[1]``."""
    out = []
    for seg in path:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif isinstance(seg, tuple):
            out.append(f"[{seg[0]}={seg[1]}]")
        elif _SIMPLE_KEY.match(seg):
            out.append(f".{seg}")
        else:
            out.append(f"[{seg}]")
    return "".join(out) or "."


def _short(value: Any, width: int = 80) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------ diffs


@dataclass(frozen=True)
class Change:
    """One difference between the expected and the actual object.

    Attributes:
        path: Where, as segments (keys, list indexes, ``(key, value)`` for keyed elements).
        kind: ``changed`` (both have it, differently), ``missing`` (expected, not
            there) or ``unexpected`` (there, not expected; full diffs only).
        expected: The expected value (None when unexpected).
        actual: The actual value (None when missing).

    >>> from kwait.compare import diff
    >>> [str(change) for change in diff({"data": {"k": "v"}}, {"data": {"k": "w"}}).changes]
    ['.data.k: expected "v", got "w"']
    """

    path: tuple[Segment, ...]
    kind: Literal["changed", "missing", "unexpected"]
    expected: Any = None
    actual: Any = None

    @property
    def where(self) -> str:
        """The path as text, e.g. ``.spec.containers[name=app].image``."""
        return format_path(self.path)

    def __str__(self) -> str:
        """One line: where, and what differs."""
        if self.kind == "missing":
            return f"{self.where}: missing (expected {_short(self.expected)})"
        if self.kind == "unexpected":
            return f"{self.where}: unexpected {_short(self.actual)}"
        return f"{self.where}: expected {_short(self.expected)}, got {_short(self.actual)}"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "path": self.where,
            "kind": self.kind,
            "expected": self.expected,
            "actual": self.actual,
        }


@dataclass(frozen=True)
class Diff:
    r"""The differences between two objects; falsy when there are none.

    >>> d = diff({"spec": {"replicas": 3}}, {"spec": {"replicas": 2}})
    >>> bool(d), str(d)
    (True, '1 difference:\n  .spec.replicas: expected 3, got 2')
    """

    changes: tuple[Change, ...] = ()

    def __bool__(self) -> bool:
        """True when there is a difference."""
        return bool(self.changes)

    def __len__(self) -> int:
        """The number of differences."""
        return len(self.changes)

    def to_text(self, max_lines: int = 40) -> str:
        """Render as text: a count, then one line per difference (bounded)."""
        if not self.changes:
            return "no differences"
        n = len(self.changes)
        lines = [f"{n} difference{'s' if n != 1 else ''}:"]
        lines.extend(f"  {c}" for c in self.changes[:max_lines])
        if n > max_lines:
            lines.append(f"  … {n - max_lines} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        """Render as `to_text`."""
        return self.to_text()

    def to_json(self) -> list[dict[str, Any]]:
        """Return the changes as JSON-serialisable dicts."""
        return [c.to_json() for c in self.changes]


class _Differ:
    def __init__(self, ignore: Iterable[str], list_keys: Sequence[str], *, subset: bool) -> None:
        self.ignore = [_parse_path(p) for p in ignore]
        self.list_keys = tuple(list_keys)
        self.subset = subset
        self.changes: list[Change] = []

    def walk(self, exp: Any, act: Any, path: tuple[Segment, ...]) -> None:
        if path and _ignored(self.ignore, path):
            return
        if isinstance(exp, Mapping) and isinstance(act, Mapping):
            self.mapping(exp, act, path)
        elif isinstance(exp, list) and isinstance(act, list):
            self.sequence(exp, act, path)
        elif not _same_scalar(exp, act):
            self.changes.append(Change(path, "changed", exp, act))

    def mapping(
        self, exp: Mapping[str, Any], act: Mapping[str, Any], path: tuple[Segment, ...]
    ) -> None:
        for key, value in exp.items():
            here = (*path, key)
            if _ignored(self.ignore, here):
                continue
            if key not in act:
                if not (self.subset and value is None):
                    self.changes.append(Change(here, "missing", value, None))
                continue
            self.walk(value, act[key], here)
        if self.subset:
            return
        for key, value in act.items():
            here = (*path, key)
            if key not in exp and not _ignored(self.ignore, here):
                self.changes.append(Change(here, "unexpected", None, value))

    def _key_for(self, exp: list[Any], act: list[Any]) -> str | None:
        for key in self.list_keys:
            if not all(isinstance(i, Mapping) and i.get(key) is not None for i in (*exp, *act)):
                continue
            if all(len({_hashable(i[key]) for i in items}) == len(items) for items in (exp, act)):
                return key
        return None

    def sequence(self, exp: list[Any], act: list[Any], path: tuple[Segment, ...]) -> None:
        key = self._key_for(exp, act) if exp else None
        if key is not None:
            self.keyed(exp, act, path, key)
            return
        self.positional(exp, act, path)

    def keyed(self, exp: list[Any], act: list[Any], path: tuple[Segment, ...], key: str) -> None:
        by_key = {_hashable(i[key]): i for i in act}
        for item in exp:
            here = (*path, (key, item[key]))
            other = by_key.pop(_hashable(item[key]), None)
            if other is None:
                self.changes.append(Change(here, "missing", item, None))
            else:
                self.walk(item, other, here)
        if not self.subset:
            for item in by_key.values():
                here = (*path, (key, item[key]))
                self.changes.append(Change(here, "unexpected", None, item))

    def positional(self, exp: list[Any], act: list[Any], path: tuple[Segment, ...]) -> None:
        if (
            self.subset
            and any(isinstance(i, (Mapping, list)) for i in exp)
            and len(exp) == len(act)
        ):
            for i, (a, b) in enumerate(zip(exp, act, strict=False)):
                self.walk(a, b, (*path, i))
            return
        if self.subset:
            if exp != act:
                self.changes.append(Change(path, "changed", exp, act))
            return
        for i, (a, b) in enumerate(zip(exp, act, strict=False)):
            self.walk(a, b, (*path, i))
        for i in range(len(act), len(exp)):
            self.changes.append(Change((*path, i), "missing", exp[i], None))
        for i in range(len(exp), len(act)):
            self.changes.append(Change((*path, i), "unexpected", None, act[i]))


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True, default=str)


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def diff(
    expected: Any,
    actual: Any,
    *,
    ignore: Iterable[str] = SERVER_FIELDS,
    list_keys: Sequence[str] = LIST_KEYS,
) -> Diff:
    """Compare two whole objects, ignoring the fields the server manages.

    Both may be dicts, YAML text, or client model objects (see `load`). Lists
    of objects that all carry one of `list_keys` (``name`` first) are compared
    element by element by that key, so order does not matter; other lists by
    position. To ignore more, extend the default:
    ``ignore=(*SERVER_FIELDS, "spec.clusterIP", "spec.clusterIPs")``.

    >>> original = {"kind": "ConfigMap", "metadata": {"name": "a", "uid": "1",
    ...     "resourceVersion": "7"}, "data": {"k": "v"}}
    >>> imported = {"kind": "ConfigMap", "metadata": {"name": "a", "uid": "2",
    ...     "resourceVersion": "90"}, "data": {"k": "v", "x": "y"}}
    >>> print(diff(original, imported))
    1 difference:
      .data.x: unexpected "y"
    """
    differ = _Differ(ignore, list_keys, subset=False)
    differ.walk(_object(expected), _object(actual), ())
    return Diff(tuple(differ.changes))


def subset_diff(
    partial: Any,
    actual: Any,
    *,
    ignore: Iterable[str] = (),
    list_keys: Sequence[str] = LIST_KEYS,
) -> Diff:
    """What `actual` lacks of the partial manifest `partial` (extra fields are fine).

    Every key of `partial` must be in `actual` with a matching value; a list of
    objects keyed by one of `list_keys` needs each of its elements in the
    actual list (found by key, matched as a subset); other lists of objects match
    element by element, and lists of scalars must be equal.

    >>> pod = {"spec": {"containers": [{"name": "sidecar", "image": "envoy"},
    ...     {"name": "app", "image": "app:2", "imagePullPolicy": "IfNotPresent"}]}}
    >>> print(subset_diff({"spec": {"containers": [{"name": "app", "image": "app:1"}]}}, pod))
    1 difference:
      .spec.containers[name=app].image: expected "app:1", got "app:2"
    """
    differ = _Differ(ignore, list_keys, subset=True)
    differ.walk(_object(partial), _object(actual), ())
    return Diff(tuple(differ.changes))


def _object(value: Any) -> Any:
    if isinstance(value, (str, os.PathLike)):
        return load(value)
    return to_plain(value)


# ------------------------------------------------------------------ predicate and expectations


class _Matches(Predicate):
    """A predicate that can also say what differs (failure reports show it)."""

    __slots__ = ("list_keys", "partial")

    def __init__(self, partial: Any, list_keys: Sequence[str]) -> None:
        self.partial = partial
        self.list_keys = tuple(list_keys)
        super().__init__(
            lambda obj: not subset_diff(partial, obj, list_keys=self.list_keys),
            _describe_manifest(partial),
            name="matches(...)",
            reads_objects=True,
        )

    def explain(self, obj: Any) -> list[str]:
        """The differences between the object and the partial manifest, as lines."""
        if obj is None or obj is DELETED:
            return []
        found = subset_diff(self.partial, obj, list_keys=self.list_keys)
        return [str(c) for c in found.changes]


def _describe_manifest(partial: Mapping[str, Any]) -> str:
    meta = partial.get("metadata") or {}
    what = "/".join(str(p) for p in (partial.get("kind"), meta.get("name")) if p)
    return f"matches the manifest {what}".rstrip() if what else "matches the partial manifest"


def matches(partial: Any, *, list_keys: Sequence[str] = LIST_KEYS) -> Predicate:
    r"""A predicate: the object holds everything the partial manifest says (`subset_diff`).

    Use it wherever kwait takes a condition: ``tracker.wait_for(matches(manifest))``.
    A failure report lists what still differs in the last state seen.

    >>> want = matches("spec:\n  replicas: 3\n")
    >>> want({"spec": {"replicas": 3, "paused": False}}), want({"spec": {"replicas": 1}})
    (True, False)
    >>> want.description
    'matches the partial manifest'
    """
    return _Matches(_object(partial), list_keys)


class ObjectMismatchError(KwaitError, AssertionError):
    """An object is not what the test expected; the message is the diff.

    Attributes:
        diff: The `Diff`.

    >>> from kwait.compare import ObjectMismatchError, expect_same
    >>> try:
    ...     expect_same({"data": {"k": "v"}}, {"data": {"k": "w"}})
    ... except ObjectMismatchError as error:
    ...     print(error.diff.changes[0])
    .data.k: expected "v", got "w"
    """

    def __init__(self, message: str, found: Diff) -> None:
        """Keep the diff with the message."""
        super().__init__(message)
        self.diff = found


def _name_of(obj: Any) -> str:
    if not isinstance(obj, Mapping):
        return "the object"
    meta = obj.get("metadata") or {}
    parts = [str(obj.get("kind") or "object").lower(), meta.get("namespace"), meta.get("name")]
    return "/".join(str(p) for p in parts if p)


def expect_same(
    expected: Any,
    actual: Any,
    *,
    ignore: Iterable[str] = SERVER_FIELDS,
    list_keys: Sequence[str] = LIST_KEYS,
) -> None:
    """Raise `ObjectMismatchError` with the diff unless the objects are the same (see `diff`).

    >>> expect_same({"data": {"k": "v"}, "metadata": {"uid": "1"}},
    ...             {"data": {"k": "w"}, "metadata": {"uid": "2"}})
    Traceback (most recent call last):
    ...
    kwait.compare.ObjectMismatchError: object differs from the expected one ...: 1 difference:
      .data.k: expected "v", got "w"
    """
    __tracebackhide__ = True
    exp, act = _object(expected), _object(actual)
    found = diff(exp, act, ignore=ignore, list_keys=list_keys)
    if found:
        raise ObjectMismatchError(
            f"{_name_of(act)} differs from the expected one (server-managed fields ignored): "
            f"{found}",
            found,
        )


def expect_matches(actual: Any, partial: Any, *, list_keys: Sequence[str] = LIST_KEYS) -> None:
    """Raise `ObjectMismatchError` with the diff unless `actual` holds the partial manifest.

    >>> expect_matches({"kind": "Pod", "metadata": {"name": "web"}, "spec": {"nodeName": "n1"}},
    ...                "spec: {nodeName: n2}")
    Traceback (most recent call last):
    ...
    kwait.compare.ObjectMismatchError: pod/web does not match the manifest: 1 difference:
      .spec.nodeName: expected "n2", got "n1"
    """
    __tracebackhide__ = True
    act = _object(actual)
    found = subset_diff(partial, act, list_keys=list_keys)
    if found:
        raise ObjectMismatchError(f"{_name_of(act)} does not match the manifest: {found}", found)
