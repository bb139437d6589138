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

__all__ = [
    "EventType",
    "ExpiredError",
    "ListResult",
    "RawEvent",
    "WatchSource",
    "WatchStream",
]

EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One event of a watch stream, as the server sent it (the object is the raw JSON dict).

    >>> from kwait.watch import RawEvent
    >>> change = RawEvent("MODIFIED", {"metadata": {"name": "web-0", "resourceVersion": "42"}})
    >>> change.resource_version
    '42'
    """

    type: EventType
    object: dict[str, Any]

    @property
    def resource_version(self) -> str:
        """The event's resourceVersion (for DELETED, the RV of the deletion)."""
        rv = self.object.get("metadata", {}).get("resourceVersion", "")
        return str(rv)


@dataclass(frozen=True, slots=True)
class ListResult:
    """A complete (all pages) LIST: the items and the snapshot's resourceVersion.

    >>> from kwait.watch import ListResult
    >>> ListResult([{"metadata": {"name": "web-0"}}], "100").resource_version
    '100'
    """

    items: list[dict[str, Any]]
    resource_version: str
    pages: int = 1


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
