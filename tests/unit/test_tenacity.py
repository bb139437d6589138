"""tenacity interop: kwait backoffs as tenacity waits, and tenacity timing on kwait's clock."""

from __future__ import annotations

import pytest
import tenacity

from kwait import ConnectionLostError, Deadline, SystemClock
from kwait.retry import (
    ClockRetrying,
    ConstantBackoff,
    ExponentialBackoff,
    is_transient,
    tenacity_retrying,
    tenacity_stop_at,
    tenacity_wait,
)
from kwait.testing import FakeClock


class Failing:
    """Fails `times` times with a lost connection, then returns "ok"; notes fake call times."""

    def __init__(self, clock: FakeClock, times: int) -> None:
        """Fail the first `times` calls."""
        self.clock = clock
        self.times = times
        self.calls: list[float] = []

    def __call__(self) -> str:
        """Record the time; fail or succeed."""
        self.calls.append(self.clock.monotonic())
        if len(self.calls) <= self.times:
            raise ConnectionLostError("connection reset by peer")
        return "ok"


def sleeps(clock: FakeClock, wait: tenacity.wait.wait_base, attempts: int) -> list[float]:
    """The sleeps tenacity takes with `wait` before `attempts` attempts have failed."""
    taken: list[float] = []
    retrying = tenacity_retrying(
        clock,
        wait=wait,
        stop=tenacity.stop_after_attempt(attempts),
        before_sleep=lambda rs: taken.append(rs.upcoming_sleep),
        reraise=True,
    )
    with pytest.raises(ConnectionLostError):
        retrying(Failing(clock, attempts))
    return taken


def test_a_kwait_backoff_is_a_tenacity_wait() -> None:
    """Tenacity sleeps the kwait schedule: delay k-1 after failed attempt k."""
    clock = FakeClock(autojump=True)
    wait = tenacity_wait(ExponentialBackoff(initial=0.5, factor=2, cap=3))
    assert sleeps(clock, wait, 6) == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert clock.monotonic() == 9.5
    assert repr(wait) == (
        "kwait.retry.tenacity_wait(ExponentialBackoff(initial=0.5, factor=2.0, cap=3.0, "
        "max_steps=None, jitter=0.0, seed=0))"
    )


def test_every_retried_call_gets_the_same_seeded_schedule() -> None:
    """Each call of a retried function starts its own cursor, so jitter repeats call after call."""
    clock = FakeClock(autojump=True)
    backoff = ExponentialBackoff(initial=1, factor=2, jitter=0.5, seed=11)
    wait = tenacity_wait(backoff)
    first = sleeps(clock, wait, 5)
    second = sleeps(clock, wait, 5)
    assert first == second == backoff.delays(4)


def test_an_exhausted_schedule_repeats_its_last_delay() -> None:
    """After max_steps delays tenacity keeps sleeping the last one; stop= ends the retries."""
    clock = FakeClock(autojump=True)
    wait = tenacity_wait(ExponentialBackoff(initial=1, max_steps=2))
    assert sleeps(clock, wait, 5) == [1.0, 2.0, 2.0, 2.0]
    assert sleeps(clock, tenacity_wait(ConstantBackoff(1, max_steps=0)), 3) == [0.0, 0.0]


def test_stop_after_delay_measures_the_kwait_clock() -> None:
    """Tenacity's own stop_after_delay reads fake time: attempts at 0, 10, 20 and 30 s."""
    clock = FakeClock(start=1_000_000.0, autojump=True)
    failing = Failing(clock, 100)
    retrying = tenacity_retrying(
        clock,
        wait=tenacity.wait_fixed(10),
        stop=tenacity.stop_after_delay(25) | tenacity.stop_after_attempt(10),
    )
    with pytest.raises(tenacity.RetryError):
        retrying(failing)
    assert failing.calls == [1_000_000.0, 1_000_010.0, 1_000_020.0, 1_000_030.0]
    assert retrying.statistics["start_time"] == 1_000_000.0
    assert retrying.statistics["delay_since_first_attempt"] == 30.0
    assert retrying.statistics["idle_for"] == 30


def test_stop_before_delay_never_oversleeps_on_fake_time() -> None:
    """stop_before_delay sees fake elapsed time plus the upcoming sleep."""
    clock = FakeClock(autojump=True)
    failing = Failing(clock, 100)
    retrying = tenacity_retrying(
        clock, wait=tenacity.wait_fixed(4), stop=tenacity.stop_before_delay(10), reraise=True
    )
    with pytest.raises(ConnectionLostError):
        retrying(failing)
    assert failing.calls == [0.0, 4.0, 8.0]  # at 8 s, 8 + 4 would pass 10


def test_decorated_and_iterated_forms_keep_the_clock() -> None:
    """wraps(), retry_with() and the for-attempt form all sleep and measure on the clock."""
    clock = FakeClock(autojump=True)
    retrying = tenacity_retrying(
        clock, wait=tenacity.wait_fixed(2), retry=tenacity.retry_if_exception(is_transient)
    )
    failing = Failing(clock, 2)
    decorated = retrying.wraps(failing)
    assert decorated() == "ok"
    assert failing.calls == [0.0, 2.0, 4.0]

    again = Failing(clock, 1)
    assert retrying.wraps(again).retry_with(wait=tenacity.wait_fixed(5))() == "ok"
    assert again.calls == [4.0, 9.0]

    attempts = 0
    for attempt in retrying.copy(stop=tenacity.stop_after_delay(100)):
        with attempt:
            attempts += 1
            if attempts < 3:
                raise ConnectionLostError("reset")
    assert attempts == 3
    assert clock.monotonic() == 13.0


def test_permanent_errors_pass_through_the_kwait_retry_predicate() -> None:
    """With retry_if_exception(is_transient), a foreign error is raised at once."""
    clock = FakeClock(autojump=True)
    retrying = tenacity_retrying(clock, retry=tenacity.retry_if_exception(is_transient))

    def broken() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        retrying(broken)
    assert clock.monotonic() == 0.0


def test_a_shared_deadline_stops_tenacity_before_it_is_spent() -> None:
    """tenacity_stop_at gives up when the next sleep would reach a kwait deadline."""
    clock = FakeClock(autojump=True)
    deadline = Deadline.after(60, clock=clock)
    clock.advance(50)
    failing = Failing(clock, 100)
    stop = tenacity_stop_at(deadline)
    retrying = tenacity_retrying(clock, wait=tenacity.wait_fixed(4), stop=stop, reraise=True)
    with pytest.raises(ConnectionLostError):
        retrying(failing)
    assert failing.calls == [50.0, 54.0, 58.0]
    assert deadline.remaining() == 2.0
    assert repr(stop) == "kwait.retry.tenacity_stop_at(60 s deadline, 2 s left)"


def test_clock_retrying_defaults_to_real_time_and_shows_its_clock() -> None:
    """Without a clock it uses the system clock, and its repr names the clock."""
    retrying = ClockRetrying()
    assert retrying.clock == SystemClock()
    assert repr(retrying).endswith(", clock=SystemClock())>")
    assert retrying(lambda: 5) == 5
    custom: list[float] = []
    explicit = ClockRetrying(clock=FakeClock(), sleep=custom.append)
    assert explicit.sleep == custom.append
