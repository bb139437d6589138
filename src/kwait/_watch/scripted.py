"""A scripted `WatchSource`: exact LIST results and WATCH streams, played on a clock.

It lets the watch engine, trackers and matchers be tested, by kwait and by its
users, without any server: each LIST answers with the next scripted result,
each WATCH connection plays the next scripted list of steps (events, pauses,
a clean end, a dropped connection, a 410, an error). Every request is logged
in `calls` so a test can assert exactly where the engine resumed from.

>>> from kwait._time.clock import FakeClock
>>> src = ScriptedSource(FakeClock())
>>> src.add_list([], "10")
>>> src.add_watch(event("ADDED", {"metadata": {"name": "a", "uid": "1", "resourceVersion": "11"}}))
>>> [e.type for e in src.watch("10", 60)], src.calls
(['ADDED'], [('WATCH', '10')])
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kwait._check import check_seconds
from kwait._errors import ConnectionLostError
from kwait._time.protocol import Clock, check_clock
from kwait._watch.objects import as_raw
from kwait._watch.source import EventType, ExpiredError, ListResult, RawEvent, WatchStream

__all__ = [
    "Drop",
    "Expire",
    "Fail",
    "Hang",
    "Pause",
    "ScriptedSource",
    "Step",
    "event",
]


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait this many seconds on the source's clock before the next step.

    >>> from kwait.testing import FakeClock, Pause, ScriptedSource
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock)
    >>> source.add_watch(Pause(90))
    >>> list(source.watch("1", 300)), clock.monotonic()
    ([], 90.0)
    """

    seconds: float

    def __post_init__(self) -> None:
        """Refuse a length that is not a number of seconds."""
        check_seconds("seconds", self.seconds)


@dataclass(frozen=True, slots=True)
class Drop:
    """The connection drops (the engine sees `kwait.ConnectionLostError`).

    >>> from kwait.testing import Drop
    >>> from kwait.testing import FakeClock, ScriptedSource
    >>> source = ScriptedSource(FakeClock(autojump=True))
    >>> source.add_watch(Drop())
    >>> list(source.watch("1", 60))
    Traceback (most recent call last):
    ...
    kwait.ConnectionLostError: connection reset by peer
    """

    message: str = "connection reset by peer"


@dataclass(frozen=True, slots=True)
class Expire:
    """The server sends a 410 ERROR event: the requested resourceVersion is too old.

    >>> from kwait.testing import Expire
    >>> from kwait.testing import FakeClock, ScriptedSource
    >>> source = ScriptedSource(FakeClock(autojump=True))
    >>> source.add_watch(Expire())
    >>> list(source.watch("41", 60))
    Traceback (most recent call last):
    ...
    kwait.errors.ExpiredError: resourceVersion 41 expired: too old resource version: 41
    """

    message: str = "too old resource version"


@dataclass(frozen=True, slots=True)
class Fail:
    """The stream fails with this exception (e.g. a `kwait.ApiError`).

    >>> from kwait.errors import ApiForbiddenError
    >>> from kwait.testing import Fail
    >>> from kwait.testing import FakeClock, ScriptedSource
    >>> source = ScriptedSource(FakeClock(autojump=True))
    >>> source.add_watch(Fail(ApiForbiddenError(403, "Forbidden", "no watch for you")))
    >>> list(source.watch("1", 60))
    Traceback (most recent call last):
    ...
    kwait.errors.ApiForbiddenError: the API server answered 403 Forbidden: no watch for you
    """

    error: BaseException


@dataclass(frozen=True, slots=True)
class Hang:
    """The stream stays open with nothing to say until it is closed.

    >>> from kwait.testing import Hang
    >>> from kwait.testing import FakeClock, ScriptedSource
    >>> source = ScriptedSource(FakeClock(autojump=True))
    >>> source.add_watch(Hang())
    >>> stream = source.watch("1", 60)
    >>> stream.close()
    >>> list(stream)
    []
    """


Step = RawEvent | Pause | Drop | Expire | Fail | Hang


_EVENT_TYPES = ("ADDED", "MODIFIED", "DELETED", "BOOKMARK")


def event(type_: EventType, obj: dict[str, Any]) -> RawEvent:
    """Build a watch event around a raw object (a dict, or a client model object).

    >>> from kwait.testing import event
    >>> event("DELETED", {"metadata": {"name": "web-0", "resourceVersion": "9"}}).type
    'DELETED'
    >>> event("UPSERT", {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: event type 'UPSERT' is not one a watch sends: ADDED, MODIFIED, DELETED, BOOKMARK...
    """
    if type_ not in _EVENT_TYPES:
        raise ValueError(
            f"event type {type_!r} is not one a watch sends: {', '.join(_EVENT_TYPES)} "
            "(a 410 or an error is scripted with Expire() or Fail(...))"
        )
    return RawEvent(type_, dict(as_raw(obj, "obj")))


class _ScriptedStream:
    def __init__(self, source: ScriptedSource, steps: list[Step], rv: str) -> None:
        self._source = source
        self._steps = steps
        self._rv = rv
        self._closed = False

    def close(self) -> None:
        with self._source.cond:
            self._closed = True
            self._source.cond.notify_all()

    def _is_closed(self) -> bool:
        return self._closed

    def __iter__(self) -> Iterator[RawEvent]:
        clock = self._source.clock
        for step in self._steps:
            if self._closed:
                return
            if isinstance(step, RawEvent):
                yield step
            elif isinstance(step, Pause):
                with self._source.cond:
                    clock.wait_for(self._source.cond, self._is_closed, step.seconds)
            elif isinstance(step, Drop):
                raise ConnectionLostError(step.message)
            elif isinstance(step, Expire):
                raise ExpiredError(self._rv, f"{step.message}: {self._rv}")
            elif isinstance(step, Fail):
                raise step.error
            else:
                with self._source.cond:
                    clock.wait_for(self._source.cond, self._is_closed, None)
                return


class ScriptedSource:
    """Answers LISTs and WATCHes from scripts (see the module documentation).

    When the WATCH scripts run out, further watches hang until closed, like an
    idle server. When the LIST scripts run out, a LIST fails loudly.

    A script answers only the LISTs it has, so waits on a scripted tracker take their
    targets from what was recorded rather than from a LIST at the call
    (``consistent_reads`` is False).

    >>> from kwait.testing import FakeClock, ScriptedSource, event
    >>> source = ScriptedSource(FakeClock(), "pods in namespace 'ci'")
    >>> source.add_list([{"metadata": {"name": "web-0", "resourceVersion": "5"}}], "5")
    >>> source.add_watch(event("MODIFIED", {"metadata": {"name": "web-0", "resourceVersion": "6"}}))
    >>> source.list().resource_version, [e.resource_version for e in source.watch("5", 60)]
    ('5', ['6'])
    >>> source.calls
    [('LIST', ''), ('WATCH', '5')]
    """

    consistent_reads = False

    def __init__(self, clock: Clock, description: str = "scripted objects") -> None:
        """Create an empty script playing on `clock`."""
        self.clock: Clock = check_clock(clock)
        self.description = description
        self.cond: threading.Condition = threading.Condition()
        self.calls: list[tuple[str, str]] = []
        self._lists: deque[ListResult | BaseException] = deque()
        self._watches: deque[list[Step]] = deque()

    def add_list(self, items: list[dict[str, Any]], resource_version: str) -> None:
        """Script the next LIST answer."""
        if not isinstance(items, list | tuple):
            raise TypeError(f"items= takes a list of objects, got {type(items).__name__}")
        raws = [dict(as_raw(item, "items[]")) for item in items]
        if not isinstance(resource_version, str):
            raise TypeError(
                f"resource_version= takes a string such as '10', got {resource_version!r}"
            )
        self._lists.append(ListResult(raws, resource_version))

    def add_list_error(self, error: BaseException) -> None:
        """Script the next LIST to fail with `error`."""
        self._lists.append(error)

    def add_watch(self, *steps: Step) -> None:
        """Script the next WATCH connection; it ends cleanly after its last step."""
        for step in steps:
            if not isinstance(step, RawEvent | Pause | Drop | Expire | Fail | Hang):
                raise TypeError(
                    "a watch step is event(...), Pause(seconds), Drop(), Expire(), Fail(error) "
                    f"or Hang(), got {step!r} ({type(step).__name__})"
                )
        self._watches.append(list(steps))

    def describe(self) -> str:
        """Say what this source stands for."""
        return self.description

    def list(self) -> ListResult:
        """Answer with the next scripted LIST."""
        with self.cond:
            self.calls.append(("LIST", ""))
            if not self._lists:
                raise AssertionError("the script has no LIST left to answer")
            answer = self._lists.popleft()
        if isinstance(answer, BaseException):
            raise answer
        return ListResult([dict(i) for i in answer.items], answer.resource_version)

    def watch(self, resource_version: str, timeout_seconds: int) -> WatchStream:  # noqa: ARG002
        """Open the next scripted WATCH connection."""
        with self.cond:
            self.calls.append(("WATCH", resource_version))
            steps: list[Step] = self._watches.popleft() if self._watches else [Hang()]
        return _ScriptedStream(self, steps, resource_version)
