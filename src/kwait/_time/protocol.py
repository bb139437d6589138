"""Protocols that kwait's parts agree on.

Every wait, timeout, retry and reconnect in kwait reads time from a `Clock`.
Two implementations ship: `kwait.SystemClock` (real time) and
`kwait.testing.FakeClock` (time that moves only when a test moves it, or jumps when
every participating thread is blocked on it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "check_clock"]


@runtime_checkable
class Clock(Protocol):
    """A monotonic source of time that can also block a thread.

    All durations are seconds as floats. `monotonic()` only ever moves
    forward; its zero point is arbitrary.

    `kwait.SystemClock` reads real time; `kwait.testing.FakeClock` is moved by the test:

    >>> import kwait
    >>> from kwait.testing import FakeClock
    >>> clock: kwait.Clock = FakeClock(autojump=True)
    >>> start = clock.monotonic()
    >>> clock.sleep(30)
    >>> clock.monotonic() - start
    30.0
    """

    def monotonic(self) -> float:
        """Return the current monotonic time in seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for `seconds` of this clock's time."""
        ...

    def wait(self, cond: threading.Condition, timeout: float | None) -> bool:
        """Wait on `cond` (whose lock the caller holds) for at most `timeout`.

        Semantics of `threading.Condition.wait`, measured on this clock:
        returns False if the timeout elapsed, True if woken (possibly
        spuriously; callers re-check their predicate). `None` waits forever.
        """
        ...

    def wait_for(
        self,
        cond: threading.Condition,
        predicate: Callable[[], bool],
        timeout: float | None,
    ) -> bool:
        """Wait until `predicate()` is true or `timeout` elapses on this clock.

        Semantics of `threading.Condition.wait_for`: the caller holds the
        lock; returns the last value of the predicate.
        """
        ...

    def participant(self) -> AbstractContextManager[None]:
        """Declare that the calling thread takes part in this clock's time.

        A `FakeClock` in autojump mode only jumps while every participating
        thread is blocked on the clock; background threads that kwait starts
        (trackers, the fake API server's kubelet) enter this for their whole
        life. For a real clock it does nothing.

        Participation counts from the *call*: a thread may call this, start
        a worker, and have the worker enter the returned context manager
        first thing, so time cannot jump while the worker is starting up.
        """
        ...


_CLOCK_METHODS = ("monotonic", "sleep", "wait", "wait_for", "participant")


def check_clock(value: object, what: str = "clock") -> Clock:
    """`value` if it is a `Clock`; otherwise a `TypeError` that says what to pass.

    >>> check_clock(object())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: clock= takes a kwait.Clock such as kwait.SystemClock() or ...
    """
    missing = [m for m in _CLOCK_METHODS if not callable(getattr(value, m, None))]
    if isinstance(value, type) and not missing:
        raise TypeError(f"{what}= takes a clock instance, got the class {value.__name__}; add ()")
    if missing:
        shown = getattr(value, "__name__", None) or type(value).__name__
        raise TypeError(
            f"{what}= takes a kwait.Clock such as kwait.SystemClock() or "
            f"kwait.testing.FakeClock(), got {shown!r}, which has no {', '.join(missing)}"
        )
    return value  # type: ignore[return-value]
