"""Tests of internals: errors are built by HTTP status with `api_error_from_status`.

The retry policy: transient errors only, Retry-After honoured, bounded, and self-explaining.
"""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kwait import ApiError, ConnectionLostError, Deadline
from kwait._errors import api_error_from_status
from kwait.retry import ConstantBackoff, ExponentialBackoff, Retrier, RetryPolicy, is_transient
from kwait.testing import FakeClock

STEADY = ExponentialBackoff(initial=1, factor=2)
"""1, 2, 4, 8 ... seconds, no jitter: easy to check by hand."""


def busy(status: int = 503, retry_after: float | None = None) -> ApiError:
    """The typed error kwait raises for `status`."""
    return api_error_from_status(status, None, request="LIST pods", retry_after=retry_after)


class Flaky:
    """A callable that fails with the given errors, then returns "ok", noting fake times."""

    def __init__(self, clock: FakeClock, *errors: BaseException) -> None:
        """Fail with `errors` in order, then succeed."""
        self.clock = clock
        self.errors = list(errors)
        self.calls: list[float] = []

    def __call__(self) -> str:
        """Record the time and fail or succeed."""
        self.calls.append(self.clock.monotonic())
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_429_and_5xx_are_retried(status: int) -> None:
    """Too Many Requests and server errors are transient."""
    assert is_transient(busy(status))
    assert RetryPolicy().delay_for(busy(status), 1) is not None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_other_api_errors_are_not_retried(status: int) -> None:
    """Errors about the request itself are not retried, whatever the server adds."""
    assert not is_transient(busy(status, retry_after=1))
    assert RetryPolicy().delay_for(busy(status), 1) is None


def test_lost_connections_are_retried_and_foreign_errors_are_not() -> None:
    """A dropped connection is transient; an error that is not kwait's is a bug, not retried."""
    assert is_transient(ConnectionLostError("connection reset by peer"))
    assert not is_transient(ValueError("bad"))
    assert not is_transient(KeyboardInterrupt())


def test_delays_follow_the_backoff_and_the_attempt_limit() -> None:
    """After failed attempt k the delay is backoff delay k-1, until max_attempts are used."""
    policy = RetryPolicy(STEADY, max_attempts=4)
    error = ConnectionLostError("reset")
    assert [policy.delay_for(error, k) for k in range(1, 6)] == [1.0, 2.0, 4.0, None, None]
    with pytest.raises(ValueError, match="numbered from 1"):
        policy.delay_for(error, 0)


def test_retry_after_is_a_minimum_not_a_replacement() -> None:
    """The server's Retry-After lengthens a short delay but never shortens a long one."""
    policy = RetryPolicy(STEADY, max_attempts=None)
    assert policy.delay_for(busy(429, retry_after=5), 1) == 5.0
    assert policy.delay_for(busy(429, retry_after=5), 4) == 8.0
    assert RetryPolicy(STEADY, respect_retry_after=False).delay_for(busy(429, 5), 1) == 1.0


def test_retry_after_seconds_from_a_status_body_is_honoured() -> None:
    """A 504 "too large resource version" Status with retryAfterSeconds waits that long."""
    body = {"reason": "Timeout", "details": {"retryAfterSeconds": 3}}
    policy = RetryPolicy(ExponentialBackoff(initial=0.5))
    assert policy.delay_for(api_error_from_status(504, body), 1) == 3.0


def test_call_retries_on_the_fake_clock_until_success() -> None:
    """call() sleeps each delay on the injected clock and returns the first success."""
    clock = FakeClock(autojump=True)
    flaky = Flaky(clock, busy(503), ConnectionLostError("reset"), busy(429, retry_after=10))
    assert RetryPolicy(STEADY).call(flaky, clock=clock) == "ok"
    assert flaky.calls == [0.0, 1.0, 3.0, 13.0]


def test_call_gives_up_after_max_attempts_and_explains() -> None:
    """When attempts run out the last error is raised, carrying the attempt history."""
    clock = FakeClock(autojump=True)
    flaky = Flaky(clock, *(busy(503) for _ in range(5)))
    retrier = RetryPolicy(STEADY, max_attempts=3).start(clock=clock)
    with pytest.raises(ApiError) as caught:
        retrier.call(flaky)
    assert flaky.calls == [0.0, 1.0, 3.0]
    assert retrier.gave_up == "3 of 3 attempts used"
    explanation = retrier.explain()
    assert explanation == (
        "3 failed attempts in 3 s:\n"
        "  attempt 1 at +0 s: ApiTransientError: LIST pods: the API server answered 503; "
        "retrying in 1 s\n"
        "  attempt 2 at +1 s: ApiTransientError: LIST pods: the API server answered 503; "
        "retrying in 2 s\n"
        "  attempt 3 at +3 s: ApiTransientError: LIST pods: the API server answered 503; "
        "gave up: 3 of 3 attempts used"
    )
    if sys.version_info >= (3, 11):
        assert caught.value.__notes__ == [explanation]


def test_a_permanent_error_is_raised_at_once_without_sleeping() -> None:
    """A 403 is raised on the first attempt, with no sleep and no note."""
    clock = FakeClock(autojump=True)
    flaky = Flaky(clock, busy(403))
    retrier = RetryPolicy(STEADY).start(clock=clock)
    with pytest.raises(ApiError, match="403") as caught:
        retrier.call(flaky)
    assert clock.monotonic() == 0.0
    assert retrier.gave_up == "ApiForbiddenError is not a transient error"
    assert not getattr(caught.value, "__notes__", [])


def test_no_attempt_starts_after_the_deadline() -> None:
    """The retrier stops when the next delay would not fit in the shared deadline."""
    clock = FakeClock(autojump=True)
    deadline = Deadline.after(10, clock=clock)
    flaky = Flaky(clock, *(ConnectionLostError("refused") for _ in range(10)))
    retrier = RetryPolicy(STEADY, max_attempts=None).start(clock=clock, deadline=deadline)
    with pytest.raises(ConnectionLostError):
        retrier.call(flaky)
    assert flaky.calls == [0.0, 1.0, 3.0, 7.0]
    assert retrier.gave_up == (
        "the next attempt, in 8 s, would start after the deadline (10 s deadline, 3 s left)"
    )
    assert retrier.explain().startswith("4 failed attempts in 7 s (10 s deadline, 3 s left):")


def test_the_policy_timeout_bounds_each_retrier() -> None:
    """A policy timeout limits a retrier even inside a longer deadline."""
    clock = FakeClock(autojump=True)
    retrier = RetryPolicy(STEADY, max_attempts=None, timeout=5).start(clock=clock, deadline=60)
    assert retrier.deadline.remaining() == 5.0
    flaky = Flaky(clock, *(busy(500) for _ in range(10)))
    with pytest.raises(ApiError):
        retrier.call(flaky)
    assert flaky.calls == [0.0, 1.0, 3.0]


def test_reset_after_success_starts_the_count_and_backoff_over() -> None:
    """A reconnect loop that succeeds in between never runs out of attempts."""
    clock = FakeClock(autojump=True)
    retrier = RetryPolicy(STEADY, max_attempts=3).start(clock=clock)
    delays = []
    for _ in range(4):
        delays.append(retrier.next_delay(ConnectionLostError("reset")))
        delays.append(retrier.next_delay(ConnectionLostError("reset")))
        retrier.reset()
    assert delays == [1.0, 2.0] * 4
    assert retrier.failures == 8
    assert retrier.attempt == 0


def test_an_exhausted_backoff_ends_the_retries() -> None:
    """A backoff with max_steps gives up when its delays are used up."""
    clock = FakeClock(autojump=True)
    retrier = RetryPolicy(ConstantBackoff(1, max_steps=1), max_attempts=None).start(clock=clock)
    assert retrier.next_delay(busy()) == 1.0
    assert retrier.next_delay(busy()) is None
    assert retrier.gave_up == "no delay left in the constant backoff: 1 s, 1 delays at most"


def test_long_histories_keep_the_latest_attempts() -> None:
    """Only the last attempts are kept; the explanation says how many were dropped."""
    clock = FakeClock(autojump=True)
    retrier = Retrier(RetryPolicy(ConstantBackoff(0), max_attempts=None), clock=clock, history=2)
    for _ in range(5):
        retrier.next_delay(busy())
    lines = retrier.explain().splitlines()
    assert lines[0] == "5 failed attempts in 0 s:"
    assert lines[1] == "  ... 3 earlier attempts not kept"
    assert [a.number for a in retrier.history] == [4, 5]
    assert repr(retrier) == "<Retrier attempt 5; no deadline, 0 s elapsed>"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be None or an integer >= 1"),
        ({"max_attempts": True}, "max_attempts must be None or an integer >= 1"),
        ({"timeout": -1.0}, "timeout must be None or >= 0 seconds"),
    ],
)
def test_impossible_limits_are_refused(kwargs: dict[str, object], message: str) -> None:
    """A policy that could never try, or has negative time, fails at construction."""
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


errors = st.sampled_from(
    [busy(503), busy(429, retry_after=3), busy(404), ConnectionLostError("reset"), busy(500, 0.5)]
)


@given(
    st.lists(errors, min_size=1, max_size=12),
    st.integers(min_value=0, max_value=1000),
    st.none() | st.integers(min_value=1, max_value=8),
)
def test_a_fresh_retrier_decides_what_delay_for_says(
    failures: list[BaseException], seed: int, max_attempts: int | None
) -> None:
    """Without a deadline, a retrier's delays are exactly the pure delay_for decisions."""
    policy = RetryPolicy(
        ExponentialBackoff(initial=0.5, cap=20, jitter=0.3, seed=seed), max_attempts=max_attempts
    )
    retrier = policy.start(clock=FakeClock())
    for attempt, error in enumerate(failures, start=1):
        delay = retrier.next_delay(error)
        assert delay == policy.delay_for(error, attempt)
        if delay is None:
            break
