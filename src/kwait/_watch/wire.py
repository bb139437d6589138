"""The wire format: watch lines and LIST bodies split into raw objects and small heads.

A tracker keeps every state it observes, so what it keeps per state decides its speed and
memory. It keeps the object's JSON bytes as they came from the server, plus a `Head`: the
few fields every matcher needs cheaply (kind, name, namespace, uid, resourceVersion,
generation, whether a deletion started). Heads are decoded with msgspec from the bytes,
skipping everything else, into structs the cyclic garbage collector does not track; the
full object is decoded only when a state function asks for it.

>>> obj = (b'{"kind":"Pod","metadata":{"name":"web","uid":"u1","resourceVersion":"7",'
...     b'"generation":2}}')
>>> line = b'{"type":"ADDED","object":' + obj + b'}'
>>> type_, raw, head = decode_event(line)
>>> type_, head.name, head.resource_version, head.generation
('ADDED', 'web', '7', 2)
>>> decode_object(raw)["metadata"]["name"]
'web'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = [
    "Head",
    "WireError",
    "decode_event",
    "decode_list",
    "decode_object",
    "encode_object",
    "head_of",
    "head_of_raw",
]


class WireError(ValueError):
    """Bytes that are not the JSON the API server sends."""


class _Meta(msgspec.Struct, frozen=True, gc=False):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    resourceVersion: str = ""  # noqa: N815 - the wire's field name
    generation: int = 0
    deletionTimestamp: str | None = None  # noqa: N815


_NO_META = _Meta()


class _Obj(msgspec.Struct, gc=False):
    kind: str = ""
    apiVersion: str = ""  # noqa: N815
    metadata: _Meta = _NO_META


class _Event(msgspec.Struct, gc=False):
    type: str
    object: msgspec.Raw


class _ListMeta(msgspec.Struct, gc=False):
    resourceVersion: str = ""  # noqa: N815
    # `continue` is a Python keyword: renamed on the wire.
    next: str = msgspec.field(default="", name="continue")


class _List(msgspec.Struct, gc=False):
    kind: str = ""
    apiVersion: str = ""  # noqa: N815
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)
    items: list[msgspec.Raw] | None = None


class Head(msgspec.Struct, frozen=True, gc=False):
    """What matchers read of an object without decoding it: identity, version, generation.

    >>> from kwait.watch import Head, RawEvent
    >>> event = RawEvent("ADDED", raw=b'{"kind":"Pod","metadata":{"name":"web-0","uid":"u1"}}')
    >>> event.head.kind, event.head.name, event.head.deleting
    ('Pod', 'web-0', False)
    """

    kind: str
    name: str
    namespace: str
    uid: str
    resource_version: str
    generation: int
    deleting: bool


_EVENT = msgspec.json.Decoder(_Event)
_OBJ = msgspec.json.Decoder(_Obj)
_LIST = msgspec.json.Decoder(_List)
_ANY = msgspec.json.Decoder()
_ENCODER = msgspec.json.Encoder()


def _head(obj: _Obj) -> Head:
    meta = obj.metadata
    return Head(
        obj.kind,
        meta.name,
        meta.namespace,
        meta.uid,
        meta.resourceVersion,
        meta.generation,
        meta.deletionTimestamp is not None,
    )


def head_of_raw(raw: bytes) -> Head:
    """Decode the head of an object's JSON bytes (everything else is skipped)."""
    try:
        return _head(_OBJ.decode(raw))
    except msgspec.DecodeError as error:
        raise WireError(f"not a Kubernetes object: {error}") from error


def head_of(obj: Mapping[str, Any]) -> Head:
    """The head of an already decoded object.

    >>> head_of({"metadata": {"name": "a", "uid": "u", "generation": "x"}}).generation
    0
    """
    meta = obj.get("metadata") or {}
    gen = meta.get("generation", 0)
    return Head(
        str(obj.get("kind", "") or ""),
        str(meta.get("name", "") or ""),
        str(meta.get("namespace", "") or ""),
        str(meta.get("uid", "") or ""),
        str(meta.get("resourceVersion", "") or ""),
        gen if isinstance(gen, int) and not isinstance(gen, bool) else 0,
        meta.get("deletionTimestamp") is not None,
    )


def decode_event(line: bytes) -> tuple[str, bytes, Head]:
    """Split one watch line into its type, the object's raw bytes and its head.

    For an ``ERROR`` event the head is empty; decode the raw bytes for the Status.
    """
    try:
        event = _EVENT.decode(line)
    except msgspec.DecodeError as error:
        raise WireError(f"malformed event line {line[:80]!r}: {error}") from error
    raw = bytes(event.object)
    if event.type == "ERROR":
        return event.type, raw, Head("Status", "", "", "", "", 0, deleting=False)
    return event.type, raw, head_of_raw(raw)


def decode_list(
    body: bytes, *, kind: str = "", api_version: str = ""
) -> tuple[str, str, list[tuple[bytes, Head]]]:
    """Split a LIST body into its resourceVersion, continue token and items.

    List items of built-in kinds carry no kind and apiVersion; they are restored from the
    list's own (``PodList`` → ``Pod``), else from `kind` and `api_version`. Each item is
    copied out of the body, so keeping some items does not keep the body.

    >>> rv, token, items = decode_list(
    ...     b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},'
    ...     b'"items":[{"metadata":{"name":"a","uid":"u"}}]}'
    ... )
    >>> rv, items[0][1].kind, decode_object(items[0][0])["apiVersion"]
    ('9', 'Pod', 'v1')
    """
    try:
        listed = _LIST.decode(body)
    except msgspec.DecodeError as error:
        raise WireError(f"malformed LIST answer: {error}") from error
    item_kind = listed.kind.removesuffix("List") if listed.kind.endswith("List") else ""
    item_kind = item_kind or kind
    item_api = listed.apiVersion or api_version
    items = []
    for item in listed.items or ():
        raw = bytes(item)
        try:
            obj = _OBJ.decode(raw)
        except msgspec.DecodeError as error:
            raise WireError(f"malformed LIST item: {error}") from error
        missing = b""
        if not obj.kind and item_kind:
            missing += b'"kind":' + _ENCODER.encode(item_kind) + b","
        if not obj.apiVersion and item_api:
            missing += b'"apiVersion":' + _ENCODER.encode(item_api) + b","
        if missing:
            raw = _with_fields(raw, missing)
            obj = _OBJ.decode(raw)
        items.append((raw, _head(obj)))
    return listed.metadata.resourceVersion, listed.metadata.next, items


def _with_fields(raw: bytes, fields: bytes) -> bytes:
    """Insert ``"k":v,`` fields right after an object's opening brace."""
    start = raw.index(b"{") + 1
    rest = raw[start:].lstrip()
    if rest.startswith(b"}"):
        fields = fields[:-1]  # an empty object: no trailing comma
    return raw[:start] + fields + rest


def decode_object(raw: bytes) -> dict[str, Any]:
    """Decode an object's bytes into the dict state functions read, without managedFields."""
    obj = _ANY.decode(raw)
    if not isinstance(obj, dict):
        raise WireError(f"expected a JSON object, got {type(obj).__name__}")
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return obj


def encode_object(obj: Mapping[str, Any]) -> bytes:
    """Encode an object given as a dict (scripted sources, relists) into stored bytes."""
    return _ENCODER.encode(obj)
