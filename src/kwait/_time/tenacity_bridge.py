"""tenacity, both ways: kwait backoffs as tenacity waits, tenacity on kwait's clock.

tenacity lets a caller replace how it *sleeps* (``sleep=``), but it reads
``time.monotonic()`` itself: `tenacity.RetryCallState` stamps ``start_time``
when it is created and ``outcome_timestamp`` in ``set_result`` and
``set_exception``, and ``stop_after_delay``, ``stop_before_delay`` and the
``statistics`` are computed from those stamps. tenacity 9 has no hook for
another time source. `ClockRetrying` therefore re-stamps both from a kwait
clock at the one place every attempt passes through, ``Retrying.iter`` (called
right after the outcome is set, before the stop strategy runs), and
overrides ``begin`` for the statistics. With a `kwait.testing.FakeClock`, the
unchanged tenacity stop strategies then measure fake time.

Only the synchronous `tenacity.Retrying` is covered; kwait has no async API.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base
from typing_extensions import Self

from kwait._time.backoff import Backoff, BackoffState
from kwait._time.deadline import Deadline
from kwait._time.protocol import Clock

__all__ = ["ClockRetrying", "tenacity_retrying", "tenacity_stop_at", "tenacity_wait"]

_STARTED = "_kwait_clock_started"


class _BackoffWait(wait_base):
    """A tenacity wait strategy drawing its delays from a kwait `Backoff`."""

    def __init__(self, backoff: Backoff) -> None:
        self.backoff = backoff
        self._lock = threading.Lock()
        self._calls: weakref.WeakKeyDictionary[
            tenacity.RetryCallState, tuple[BackoffState, list[float]]
        ]
        self._calls = weakref.WeakKeyDictionary()

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        """Return delay number ``attempt_number - 1`` of this call's own schedule."""
        with self._lock:
            entry = self._calls.get(retry_state)
            if entry is None:
                entry = (self.backoff.start(), [])
                self._calls[retry_state] = entry
            state, given = entry
            wanted = max(retry_state.attempt_number, 1)
            while len(given) < wanted and not state.exhausted:
                given.append(state.next_delay())
            if not given:
                return 0.0
            return given[min(wanted, len(given)) - 1]

    def __repr__(self) -> str:
        return f"kwait.retry.tenacity_wait({self.backoff!r})"


def tenacity_wait(backoff: Backoff) -> wait_base:
    """Use a kwait backoff as tenacity's ``wait=``.

    Each retried call gets its own `BackoffState` (seeded by the backoff's
    ``seed``), so every call sees the same schedule: attempt *k* failing waits
    delay number *k - 1*. Once a schedule with ``max_steps`` is used up, its
    last delay repeats; limit attempts with tenacity's ``stop=`` as usual.

    >>> import tenacity
    >>> from kwait.retry import ExponentialBackoff
    >>> from kwait.testing import FakeClock
    >>> clock = FakeClock(autojump=True)
    >>> retrying = tenacity_retrying(
    ...     clock,
    ...     wait=tenacity_wait(ExponentialBackoff(initial=1, factor=2)),
    ...     stop=tenacity.stop_after_attempt(4),
    ...     reraise=True,
    ... )
    >>> retrying(lambda: 1 / 0)
    Traceback (most recent call last):
    ...
    ZeroDivisionError: division by zero
    >>> clock.monotonic()  # slept 1 + 2 + 4 fake seconds
    7.0
    """
    return _BackoffWait(backoff)


class ClockRetrying(tenacity.Retrying):
    """`tenacity.Retrying` that sleeps on, and measures time with, a kwait clock.

    Takes every argument `tenacity.Retrying` takes, plus ``clock``; ``sleep``
    defaults to ``clock.sleep``. Decorating (``.wraps``), calling and the
    ``for attempt in retrying:`` form all work; copies keep the clock.

    >>> import tenacity
    >>> from kwait.retry import ClockRetrying
    >>> from kwait.testing import FakeClock
    >>> clock, failures = FakeClock(autojump=True), [OSError("reset"), OSError("reset")]
    >>> def flaky() -> str:
    ...     if failures:
    ...         raise failures.pop()
    ...     return "ok"
    >>> retrying = ClockRetrying(clock=clock, wait=tenacity.wait_fixed(10), reraise=True)
    >>> retrying(flaky), clock.monotonic()
    ('ok', 20.0)
    """

    def __init__(self, *args: Any, clock: Clock | None = None, **kwargs: Any) -> None:
        """Create the retrying controller on `clock` (default `kwait.SystemClock`)."""
        if clock is None:
            from kwait._time.clock import SystemClock  # noqa: PLC0415 - only when no clock is given

            clock = SystemClock()
        kwargs.setdefault("sleep", clock.sleep)
        super().__init__(*args, **kwargs)
        self.clock = clock

    def copy(self, *args: Any, **kwargs: Any) -> Self:
        """Copy with some settings changed, keeping the clock."""
        new = super().copy(*args, **kwargs)
        new.clock = self.clock
        return new

    def begin(self) -> None:
        """Reset the statistics, with ``start_time`` read from the clock."""
        super().begin()
        self.statistics["start_time"] = self.clock.monotonic()

    def iter(self, retry_state: tenacity.RetryCallState) -> Any:
        """Re-stamp the call's times from the clock, then decide as tenacity does."""
        now = self.clock.monotonic()
        if not getattr(retry_state, _STARTED, False):
            retry_state.start_time = now
            setattr(retry_state, _STARTED, True)
        if retry_state.outcome is not None:
            retry_state.outcome_timestamp = now
        return super().iter(retry_state)

    def __repr__(self) -> str:
        """Show tenacity's description and the clock."""
        return f"{super().__repr__()[:-1]}, clock={self.clock!r})>"


def tenacity_retrying(clock: Clock, **kwargs: Any) -> ClockRetrying:
    """Return a `ClockRetrying`: tenacity, sleeping and measuring on `clock`.

    Keyword arguments are tenacity's (``stop=``, ``wait=``, ``retry=``,
    ``reraise=`` ...). ``stop_after_delay`` and ``stop_before_delay`` measure
    `clock`'s time.

    >>> import tenacity
    >>> from kwait.testing import FakeClock
    >>> clock = FakeClock(autojump=True)
    >>> retrying = tenacity_retrying(
    ...     clock, wait=tenacity.wait_fixed(10), stop=tenacity.stop_after_delay(25)
    ... )
    >>> retrying(lambda: 1 / 0)
    Traceback (most recent call last):
    ...
    tenacity.RetryError: RetryError[<Future ... state=finished raised ZeroDivisionError>]
    >>> clock.monotonic(), retrying.statistics["attempt_number"]
    (30.0, 4)
    """
    return ClockRetrying(clock=clock, **kwargs)


class _StopAt(stop_base):
    """Stop when the next attempt would start at or after a kwait deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        """True if sleeping ``upcoming_sleep`` would reach the deadline."""
        return retry_state.upcoming_sleep >= self.deadline.remaining()

    def __repr__(self) -> str:
        return f"kwait.retry.tenacity_stop_at({self.deadline.describe()})"


def tenacity_stop_at(deadline: Deadline) -> stop_base:
    """A tenacity ``stop=`` that shares a kwait `Deadline` with other waits.

    Stops when the next attempt would start at or after the deadline (the
    upcoming sleep does not fit in what is left), so a retried call never runs
    past the budget of the test it is part of. Combine with tenacity's own
    stops as usual (``tenacity_stop_at(d) | tenacity.stop_after_attempt(5)``).

    >>> import tenacity
    >>> from kwait import Deadline
    >>> from kwait.testing import FakeClock
    >>> clock = FakeClock(autojump=True)
    >>> budget = Deadline.after(60, clock=clock)
    >>> clock.advance(50)
    >>> retrying = tenacity_retrying(
    ...     clock, wait=tenacity.wait_fixed(4), stop=tenacity_stop_at(budget), reraise=True
    ... )
    >>> retrying(lambda: 1 / 0)
    Traceback (most recent call last):
    ...
    ZeroDivisionError: division by zero
    >>> clock.monotonic(), budget.remaining()
    (58.0, 2.0)
    """
    return _StopAt(deadline)
