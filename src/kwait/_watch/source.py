"""What the watch engine consumes: a source of LIST results and WATCH streams.

The engine (`kwait._watch.engine`) is pure: it talks to a `WatchSource`, which the
adapter for the official client (`kwait._watch.kube`) implements over HTTP and unit
tests implement with scripted events. A source only ever does what it is asked;
reconnecting, resuming, relisting and backing off are the engine's job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from kwait._watch.wire import Head, decode_object, encode_object, head_of, head_of_raw

__all__ = [
    "EventType",
    "ExpiredError",
    "ListResult",
    "RawEvent",
    "WatchSource",
    "WatchStream",
]

EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]


class RawEvent:
    """One event of a watch stream: its type and the object, as the server sent it.

    A source may give the object as a decoded dict, or as its JSON bytes (``raw=``) with
    its `kwait._watch.wire.Head`; either is available from the other on demand, so a
    tracker that only records never decodes a whole object.

    >>> event = RawEvent("ADDED", {"metadata": {"name": "web-0", "resourceVersion": "3"}})
    >>> event.resource_version
    '3'
    """

    __slots__ = ("_head", "_object", "_raw", "type")

    def __init__(
        self,
        type: EventType,  # noqa: A002 - the wire's name
        object: dict[str, Any] | None = None,  # noqa: A002
        *,
        raw: bytes | None = None,
        head: Head | None = None,
    ) -> None:
        """Give the object as a dict, or as ``raw`` bytes (with its ``head`` if known)."""
        if object is None and raw is None:
            raise TypeError("a RawEvent needs the object, as a dict or as raw JSON bytes")
        self.type: EventType = type
        self._object = object
        self._raw = raw
        self._head = head

    @property
    def object(self) -> dict[str, Any]:
        """The object as a dict (decoded from the bytes on first use)."""
        if self._object is None:
            assert self._raw is not None  # noqa: S101 - checked in __init__
            self._object = decode_object(self._raw)
        return self._object

    @property
    def raw(self) -> bytes:
        """The object's JSON bytes (encoded from the dict on first use)."""
        if self._raw is None:
            assert self._object is not None  # noqa: S101 - checked in __init__
            self._raw = encode_object(self._object)
        return self._raw

    @property
    def head(self) -> Head:
        """The object's identity, resourceVersion and generation, without decoding it."""
        if self._head is None:
            obj = self._object
            self._head = head_of(obj) if obj is not None else head_of_raw(self.raw)
        return self._head

    @property
    def resource_version(self) -> str:
        """The event's resourceVersion (for DELETED, the RV of the deletion)."""
        return self.head.resource_version

    def __repr__(self) -> str:
        """Show the type and the object's name and resourceVersion."""
        head = self.head
        what = f"{head.kind or 'object'} {head.name!r}"
        return f"RawEvent({self.type}, {what} rv={head.resource_version})"


class ListResult:
    """A complete (all pages) LIST: the items and the snapshot's resourceVersion.

    Items are given as dicts, or as ``raw_items`` (JSON bytes with their heads), each
    available from the other on demand.

    >>> ListResult([{"metadata": {"name": "a"}}], "12").heads()[0].name
    'a'
    """

    __slots__ = ("_items", "_raw_items", "pages", "resource_version")

    def __init__(
        self,
        items: list[dict[str, Any]] | None = None,
        resource_version: str = "",
        pages: int = 1,
        *,
        raw_items: list[tuple[bytes, Head]] | None = None,
    ) -> None:
        """Give the items as dicts or as raw items (bytes with heads)."""
        self._items = items
        self._raw_items = raw_items
        self.resource_version: str = resource_version
        self.pages: int = pages

    @property
    def items(self) -> list[dict[str, Any]]:
        """The items as dicts (decoded on first use)."""
        if self._items is None:
            self._items = [decode_object(raw) for raw, _ in self._raw_items or ()]
        return self._items

    def raw_items(self) -> list[tuple[bytes, Head]]:
        """The items as JSON bytes with their heads (encoded on first use)."""
        if self._raw_items is None:
            self._raw_items = [(encode_object(i), head_of(i)) for i in self._items or ()]
        return self._raw_items

    def heads(self) -> list[Head]:
        """The items' heads."""
        if self._raw_items is None and self._items is not None:
            return [head_of(i) for i in self._items]
        return [head for _, head in self.raw_items()]

    def __len__(self) -> int:
        """Return the number of items."""
        return len(self._raw_items if self._raw_items is not None else self._items or ())

    def __repr__(self) -> str:
        """Summarise without the items."""
        return f"ListResult({len(self)} items, resource_version={self.resource_version!r})"


@dataclass(slots=True)
class ExpiredError(Exception):
    """The server cannot serve a watch from this resourceVersion any more (410 Gone).

    Raised by a source for a watch ERROR event with code 410, and for an HTTP 410
    answer. The engine relists and records a gap.

    >>> from kwait.errors import ExpiredError
    >>> print(ExpiredError("41", "too old resource version: 41 (97)"))
    resourceVersion 41 expired: too old resource version: 41 (97)
    """

    requested: str
    message: str = ""
    status: dict[str, Any] | None = field(default=None, repr=False)

    def __str__(self) -> str:
        """Say which resourceVersion expired and what the server said."""
        return f"resourceVersion {self.requested} expired: {self.message}"


class WatchStream(Protocol):
    """An open watch: iterate its events; a clean end of the iteration is a clean end of stream.

    Iteration raises `kwait.ConnectionLostError` when the connection drops or a read
    times out, `ExpiredError` for 410, and `kwait.ApiError` for other ERROR events.

    >>> from kwait.testing import FakeClock, ScriptedSource, event
    >>> source = ScriptedSource(FakeClock())
    >>> source.add_watch(event("ADDED", {"metadata": {"name": "a", "resourceVersion": "2"}}))
    >>> stream = source.watch("1", 60)
    >>> [e.type for e in stream]
    ['ADDED']
    >>> stream.close()
    """

    def __iter__(self) -> Iterator[RawEvent]:
        """Yield the events as they arrive."""
        ...

    def close(self) -> None:
        """Close the stream from another thread or this one; iteration then ends."""
        ...


class WatchSource(Protocol):
    """LIST and WATCH one collection (a resource, a namespace or all, selectors).

    `kwait.testing.ScriptedSource` is one; pass any to ``kwait.Tracker(source=...)``:

    >>> from kwait.testing import FakeClock, ScriptedSource
    >>> from kwait.watch import WatchSource
    >>> source: WatchSource = ScriptedSource(FakeClock(), "pods in namespace 'ci'")
    >>> source.describe()
    "pods in namespace 'ci'"
    """

    def describe(self) -> str:
        """Say what this source watches.

        For example ``pods in namespace 'ci' with labelSelector 'a=b'``.
        """
        ...

    def list(self) -> ListResult:
        """LIST the collection (following ``continue`` pages) at the latest state."""
        ...

    def watch(self, resource_version: str, timeout_seconds: int) -> WatchStream:
        """Open a WATCH from `resource_version` with bookmarks and a server-side timeout."""
        ...
