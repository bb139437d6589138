"""Tests of internals: `as_deadline` and `format_seconds`, behind every timeout.

Deadlines: one budget shared by several waits, made from what users write, described in words.
"""

from __future__ import annotations

import math
import threading
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kwait import Deadline, SystemClock
from kwait._time.deadline import as_deadline, format_seconds
from kwait.testing import FakeClock

JOIN = 10.0


def test_deadline_reports_remaining_elapsed_and_expiry() -> None:
    """A deadline counts down on its clock and says when it expired."""
    clock = FakeClock(start=1000.0)
    deadline = Deadline.after(30, clock=clock)
    assert (deadline.budget, deadline.remaining(), deadline.elapsed()) == (30.0, 30.0, 0.0)
    clock.advance(29.5)
    assert (deadline.remaining(), deadline.expired(), deadline.overdue()) == (0.5, False, 0.0)
    clock.advance(0.5)
    assert (deadline.remaining(), deadline.expired()) == (0.0, True)
    clock.advance(2.5)
    assert (deadline.overdue(), deadline.elapsed()) == (2.5, 32.5)


@pytest.mark.parametrize(
    ("advance", "text"),
    [
        (0.0, "30 s deadline, 30 s left"),
        (12.5, "30 s deadline, 17.5 s left"),
        (30.0, "30 s deadline, expired just now"),
        (32.5, "30 s deadline, expired 2.5 s ago"),
    ],
)
def test_deadline_describes_itself_for_error_messages(advance: float, text: str) -> None:
    """str() of a deadline says its budget and what is left or how long ago it expired."""
    clock = FakeClock()
    deadline = Deadline.after(30, clock=clock)
    clock.advance(advance)
    assert str(deadline) == text
    assert repr(deadline).startswith(f"<Deadline {text}; at=30.0 on FakeClock(now=")


def test_never_has_infinite_time_and_says_so() -> None:
    """A deadline that never expires has no timeout and reports the time elapsed."""
    clock = FakeClock()
    deadline = as_deadline(None, clock=clock)
    clock.advance(42)
    assert deadline.remaining() == math.inf
    assert deadline.timeout() is None
    assert not deadline.expired()
    assert str(deadline) == "no deadline, 42 s elapsed"
    assert as_deadline(math.inf, clock=clock).timeout() is None
    with pytest.raises(ValueError, match="never expires"):
        deadline.sleep()


@pytest.mark.parametrize(
    "timeout", [90, 90.0, timedelta(minutes=1, seconds=30)], ids=["int", "float", "timedelta"]
)
def test_timeouts_convert_from_seconds_and_timedelta(timeout: float | timedelta) -> None:
    """Seconds as int or float and a timedelta all become the same 90 s budget."""
    clock = FakeClock()
    assert as_deadline(timeout, clock=clock).remaining() == 90.0


def test_an_existing_deadline_is_shared_not_copied() -> None:
    """Passing a deadline where a timeout is expected hands back the very same deadline."""
    clock = FakeClock()
    shared = Deadline.after(60, clock=clock)
    assert as_deadline(shared, clock=clock) is shared
    assert as_deadline(shared) is shared


def test_timeout_zero_checks_once_without_blocking() -> None:
    """A zero timeout is already expired, yet a wait on it still evaluates the predicate once."""
    clock = FakeClock()  # no autojump: a blocking wait would hang (and fail the stall guard)
    deadline = as_deadline(0, clock=clock)
    calls: list[float] = []

    def check() -> bool:
        calls.append(clock.monotonic())
        return False

    cond = threading.Condition()
    with cond:
        assert deadline.wait_for(cond, check) is False
        assert deadline.wait_for(cond, lambda: True) is True
    assert deadline.expired()
    assert calls == [0.0]
    assert clock.monotonic() == 0.0


@pytest.mark.parametrize(
    ("timeout", "error", "message"),
    [
        (-1, ValueError, r"timeout must not be negative, got -1 s \(use 0 to check once"),
        (timedelta(seconds=-0.5), ValueError, "got -0.5 s"),
        (math.nan, ValueError, "got nan"),
        (True, TypeError, "not bool"),
        ("30s", TypeError, "not str"),
    ],
)
def test_bad_timeouts_are_refused_with_a_clear_message(
    timeout: object, error: type[Exception], message: str
) -> None:
    """Negative, nan and non-numeric timeouts fail at once, saying what is accepted."""
    with pytest.raises(error, match=message):
        as_deadline(timeout, clock=FakeClock())  # type: ignore[arg-type]


def test_a_deadline_on_another_clock_is_refused() -> None:
    """Mixing clocks is a bug, so a deadline from another fake clock is refused."""
    deadline = Deadline.after(5, clock=FakeClock())
    with pytest.raises(ValueError, match="create the deadline on the same clock"):
        as_deadline(deadline, clock=FakeClock())
    assert as_deadline(Deadline.after(5), clock=SystemClock()).clock == SystemClock()


def test_the_default_clock_is_real_time() -> None:
    """Without a clock, a deadline reads the system clock."""
    assert Deadline.after(60).clock == SystemClock()
    assert Deadline.unlimited().clock == SystemClock()


def test_within_never_outlives_the_whole_budget() -> None:
    """A step's deadline is the earlier of its own timeout and the shared deadline."""
    clock = FakeClock()
    whole = Deadline.after(60, clock=clock)
    assert whole.within(30).remaining() == 30.0
    clock.advance(45)
    step = whole.within(30)
    assert step.remaining() == 15.0
    assert step.at == whole.at
    assert str(step) == "15 s deadline, 15 s left"


def test_one_deadline_spans_several_waits() -> None:
    """Two waits sharing a 300 s deadline end at 300 s in all, not 300 s each."""
    clock = FakeClock(autojump=True, stall_timeout=JOIN)
    deadline = Deadline.after(300, clock=clock)
    cond = threading.Condition()
    ready: list[bool] = []
    token = clock.participant()

    def producer() -> None:
        with token:
            clock.sleep(120)
            with cond:
                ready.append(True)
                cond.notify_all()

    worker = threading.Thread(target=producer, daemon=True)
    worker.start()
    with cond:
        assert deadline.wait_for(cond, lambda: bool(ready)) is True
        assert clock.monotonic() == 120.0
        assert deadline.wait_for(cond, lambda: len(ready) > 1) is False
    worker.join(JOIN)
    assert not worker.is_alive()
    assert clock.monotonic() == 300.0
    assert str(deadline) == "300 s deadline, expired just now"


def test_sleeping_until_a_deadline_ends_at_it() -> None:
    """sleep() on a deadline wakes exactly at the deadline, and at once when expired."""
    clock = FakeClock(autojump=True)
    deadline = Deadline.after(timedelta(minutes=5), clock=clock)
    deadline.sleep()
    assert clock.monotonic() == 300.0
    deadline.sleep()
    assert clock.monotonic() == 300.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (30, "30 s"),
        (2.5, "2.5 s"),
        (0.1 + 0.2, "0.3 s"),
        (1e-4, "0 s"),
        (-2.5, "-2.5 s"),
    ],
)
def test_format_seconds_is_short_and_exact_to_the_millisecond(seconds: float, text: str) -> None:
    """Durations print without float noise or trailing zeros."""
    assert format_seconds(seconds) == text


def test_a_deadline_cannot_be_at_nan() -> None:
    """Constructing a deadline at nan is an error."""
    with pytest.raises(ValueError, match="nan"):
        Deadline(math.nan, clock=FakeClock())


@given(
    budget=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    steps=st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), max_size=20),
)
def test_deadlines_only_move_one_way(budget: float, steps: list[float]) -> None:
    """As time advances, remaining never grows, elapsed never shrinks, expiry never reverts."""
    clock = FakeClock()
    deadline = Deadline.after(budget, clock=clock)
    remaining, elapsed, expired = deadline.remaining(), deadline.elapsed(), deadline.expired()
    for step in steps:
        clock.advance(step)
        assert deadline.remaining() <= remaining
        assert deadline.elapsed() >= elapsed
        assert deadline.expired() or not expired
        remaining, elapsed, expired = deadline.remaining(), deadline.elapsed(), deadline.expired()
        assert expired == (remaining == 0.0)
        assert 0.0 <= remaining <= budget
