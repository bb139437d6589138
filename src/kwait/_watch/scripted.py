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

from kwait._errors import ConnectionLostError
from kwait._time.protocol import Clock
from kwait._watch.source import EventType, ExpiredError, ListResult, RawEvent

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
    """Wait this many seconds on the source's clock before the next step."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Drop:
    """The connection drops (the engine sees `kwait.ConnectionLostError`)."""

    message: str = "connection reset by peer"


@dataclass(frozen=True, slots=True)
class Expire:
    """The server sends a 410 ERROR event: the requested resourceVersion is too old."""

    message: str = "too old resource version"


@dataclass(frozen=True, slots=True)
class Fail:
    """The stream fails with this exception (e.g. a `kwait.ApiError`)."""

    error: BaseException


@dataclass(frozen=True, slots=True)
class Hang:
    """The stream stays open with nothing to say until it is closed."""


Step = RawEvent | Pause | Drop | Expire | Fail | Hang


def event(type_: EventType, obj: dict[str, Any]) -> RawEvent:
    """Build a watch event around a raw object."""
    return RawEvent(type_, obj)


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
    """

    def __init__(self, clock: Clock, description: str = "scripted objects") -> None:
        """Create an empty script playing on `clock`."""
        self.clock = clock
        self.description = description
        self.cond: threading.Condition = threading.Condition()
        self.calls: list[tuple[str, str]] = []
        self._lists: deque[ListResult | BaseException] = deque()
        self._watches: deque[list[Step]] = deque()

    def add_list(self, items: list[dict[str, Any]], resource_version: str) -> None:
        """Script the next LIST answer."""
        self._lists.append(ListResult(list(items), resource_version))

    def add_list_error(self, error: BaseException) -> None:
        """Script the next LIST to fail with `error`."""
        self._lists.append(error)

    def add_watch(self, *steps: Step) -> None:
        """Script the next WATCH connection; it ends cleanly after its last step."""
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

    def watch(self, resource_version: str, timeout_seconds: int) -> _ScriptedStream:  # noqa: ARG002
        """Open the next scripted WATCH connection."""
        with self.cond:
            self.calls.append(("WATCH", resource_version))
            steps: list[Step] = self._watches.popleft() if self._watches else [Hang()]
        return _ScriptedStream(self, steps, resource_version)
