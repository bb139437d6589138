"""Deadlines: one time budget that several waits can share.

A test that creates a Deployment, waits for it to roll out, scales it and waits
again usually means "all of this within five minutes", not "five minutes per
step". A `Deadline` is that budget: every wait given the same deadline spends
from it, and an error message can say how it was spent.

Waits accept a *timeout* in any of the forms `as_deadline` understands: a
number of seconds, a `datetime.timedelta`, an existing `Deadline`, or None.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TypeAlias

from kwait._time.clock import SystemClock
from kwait._time.protocol import Clock

__all__ = ["Deadline", "as_deadline", "format_seconds"]

Timeout: TypeAlias = "float | timedelta | Deadline | None"
"""What a wait accepts as its timeout: seconds, a timedelta, a shared Deadline, or None."""


def format_seconds(seconds: float) -> str:
    """Write a duration for people: at most millisecond precision, no trailing zeros.

    >>> format_seconds(30.0), format_seconds(2.5), format_seconds(0.1 + 0.2), format_seconds(1e-9)
    ('30 s', '2.5 s', '0.3 s', '0 s')
    >>> format_seconds(math.inf)
    'forever'
    """
    if math.isinf(seconds):
        return "forever" if seconds > 0 else "-forever"
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    return f"{text} s"


def _seconds_of(timeout: float | timedelta, what: str = "timeout") -> float:
    """Turn a number of seconds or a timedelta into non-negative float seconds."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float, timedelta)):
        raise TypeError(
            f"{what} must be a number of seconds, a datetime.timedelta or a kwait.Deadline, "
            f"not {type(timeout).__name__}"
        )
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if math.isnan(seconds):
        raise ValueError(f"{what} must be a number of seconds, got nan")
    if seconds < 0:
        raise ValueError(
            f"{what} must not be negative, got {format_seconds(seconds)} "
            "(use 0 to check once without waiting)"
        )
    return seconds


class Deadline:
    """A point in time on a clock, with the budget it was created with.

    Create one with `Deadline.after` (or `as_deadline`), pass it to several
    waits, and each spends from the same budget. A deadline of 0 seconds is
    already expired when created: a wait given it checks once and does not block.

    >>> from kwait.testing import FakeClock
    >>> clock = FakeClock()
    >>> deadline = Deadline.after(30, clock=clock)
    >>> clock.advance(12.5)
    >>> deadline.remaining(), deadline.elapsed(), deadline.expired()
    (17.5, 12.5, False)
    >>> print(deadline)
    30 s deadline, 17.5 s left
    >>> clock.advance(20)
    >>> print(deadline)
    30 s deadline, expired 2.5 s ago
    """

    __slots__ = ("at", "clock", "start")

    def __init__(self, at: float, *, clock: Clock, start: float | None = None) -> None:
        """Create a deadline at monotonic time `at` on `clock` (`math.inf`: never).

        Args:
            at: When the deadline expires, in `clock.monotonic()` seconds.
            clock: The clock it reads.
            start: When the budget started (default: now).
        """
        if math.isnan(at):
            raise ValueError("a deadline cannot be at nan")
        self.clock: Clock = clock
        self.start: float = clock.monotonic() if start is None else start
        self.at: float = at

    @classmethod
    def of(cls, timeout: Timeout, *, clock: Clock | None = None) -> Deadline:
        """A `Deadline` from what a ``timeout=`` argument accepts.

        Seconds or a `datetime.timedelta` start a new budget on `clock`; a
        `Deadline` is returned as it is, so several waits can share one budget.

        >>> from kwait.testing import FakeClock
        >>> Deadline.of(5, clock=FakeClock()).remaining()
        5.0
        """
        return as_deadline(timeout, clock=clock)

    @classmethod
    def after(cls, timeout: float | timedelta, *, clock: Clock | None = None) -> Deadline:
        """A deadline `timeout` from now on `clock` (default: `kwait.SystemClock`).

        `timeout` is a number of seconds or a `datetime.timedelta`; 0 means
        "check once"; `math.inf` means never; negative is an error.

        >>> from kwait.testing import FakeClock
        >>> Deadline.after(timedelta(minutes=5), clock=FakeClock()).remaining()
        300.0
        """
        seconds = _seconds_of(timeout)
        clock = SystemClock() if clock is None else clock
        now = clock.monotonic()
        return cls(now + seconds, clock=clock, start=now)

    @classmethod
    def unlimited(cls, *, clock: Clock | None = None) -> Deadline:
        """A deadline that never expires (an unlimited budget).

        >>> from kwait.testing import FakeClock
        >>> print(Deadline.unlimited(clock=FakeClock()))
        no deadline, 0 s elapsed
        """
        return cls(math.inf, clock=SystemClock() if clock is None else clock)

    # ------------------------------------------------------------------ reading
    @property
    def budget(self) -> float:
        """The whole budget in seconds (`math.inf` for `never`)."""
        return self.at - self.start

    def remaining(self) -> float:
        """Seconds left before expiry, never negative (`math.inf` for `never`)."""
        return max(0.0, self.at - self.clock.monotonic())

    def expired(self) -> bool:
        """True once the clock has reached the deadline."""
        return self.clock.monotonic() >= self.at

    def elapsed(self) -> float:
        """Seconds since the budget started."""
        return self.clock.monotonic() - self.start

    def overdue(self) -> float:
        """Seconds since expiry (0 while not expired)."""
        return max(0.0, self.clock.monotonic() - self.at)

    def timeout(self) -> float | None:
        """The remaining time as a timeout argument: None for `never`, else `remaining()`."""
        return None if self.at == math.inf else self.remaining()

    def describe(self) -> str:
        """Say how the budget stands, for error messages.

        >>> from kwait.testing import FakeClock
        >>> clock = FakeClock()
        >>> d = Deadline.after(0, clock=clock)
        >>> d.describe()
        '0 s deadline, expired just now'
        """
        now = self.clock.monotonic()
        if self.at == math.inf:
            return f"no deadline, {format_seconds(now - self.start)} elapsed"
        head = f"{format_seconds(self.at - self.start)} deadline"
        if now < self.at:
            return f"{head}, {format_seconds(self.at - now)} left"
        if now == self.at:
            return f"{head}, expired just now"
        return f"{head}, expired {format_seconds(now - self.at)} ago"

    def __str__(self) -> str:
        """Return `describe()`."""
        return self.describe()

    def __repr__(self) -> str:
        """Show the deadline's state and its clock."""
        return f"<Deadline {self.describe()}; at={self.at!r} on {self.clock!r}>"

    # ------------------------------------------------------------------ deriving, waiting
    def within(self, timeout: float | timedelta) -> Deadline:
        """A deadline `timeout` from now that never outlives this one.

        For one step of a longer test: "this step may take 30 s, but the whole
        test still has its five minutes".

        >>> from kwait.testing import FakeClock
        >>> clock = FakeClock()
        >>> whole = Deadline.after(60, clock=clock)
        >>> clock.advance(45)
        >>> whole.within(30).remaining()
        15.0
        """
        seconds = _seconds_of(timeout)
        now = self.clock.monotonic()
        return Deadline(min(self.at, now + seconds), clock=self.clock, start=now)

    def wait_for(self, cond: threading.Condition, predicate: Callable[[], bool]) -> bool:
        """`clock.wait_for(cond, predicate, remaining)`: wait until true or expired.

        The caller holds `cond`'s lock. An expired deadline still checks the
        predicate once.
        """
        return self.clock.wait_for(cond, predicate, self.timeout())

    def sleep(self) -> None:
        """Sleep on the clock until the deadline (no-op if expired; error for `never`)."""
        if self.at == math.inf:
            raise ValueError("cannot sleep until a deadline that never expires")
        self.clock.sleep(self.remaining())


def as_deadline(timeout: Timeout, *, clock: Clock | None = None) -> Deadline:
    """Turn a user's timeout into a `Deadline` on `clock`.

    Args:
        timeout: A number of seconds or a `datetime.timedelta` (0 means check
            once, `math.inf` waits forever), an existing `Deadline` (returned
            as is, so several waits share it), or None (no limit).
        clock: The clock the deadline reads; default `kwait.SystemClock`. An
            existing deadline must read the same clock.

    Raises:
        ValueError: `timeout` is negative or nan, or a deadline on another clock.
        TypeError: `timeout` is of another type (a bool, a string ...).

    >>> from kwait.testing import FakeClock
    >>> clock = FakeClock()
    >>> shared = as_deadline(300, clock=clock)
    >>> as_deadline(shared, clock=clock) is shared
    True
    >>> as_deadline(-1, clock=clock)
    Traceback (most recent call last):
    ...
    ValueError: timeout must not be negative, got -1 s (use 0 to check once without waiting)
    """
    if isinstance(timeout, Deadline):
        if clock is not None and timeout.clock != clock:
            raise ValueError(
                f"this deadline reads {timeout.clock!r}, but the wait runs on {clock!r}; "
                "create the deadline on the same clock"
            )
        return timeout
    if timeout is None:
        return Deadline.unlimited(clock=clock)
    return Deadline.after(timeout, clock=clock)
