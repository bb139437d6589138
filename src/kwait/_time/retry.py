"""Retrying transient API failures, on the injected clock, with a record of what happened.

What is retried, and what is not:

- `kwait.errors.ApiTransientError` (429 Too Many Requests and every 5xx) is retried,
  waiting at least what the server asked for (``Retry-After`` or
  ``details.retryAfterSeconds``, carried as ``retry_after``);
- `kwait.ConnectionLostError` (a reset or refused connection, a read timeout)
  is retried;
- every other error is not: 400, 401, 403, 404, 409, 410, 422 ... say
  something about the request that asking again will not change, and an
  error that is not kwait's is a bug to show, not to hide.

A `RetryPolicy` is the immutable configuration; `RetryPolicy.start` gives a
`Retrier` that one loop owns: it decides each delay, sleeps on the clock in
`Retrier.call`, and keeps the history that `Retrier.explain` turns into text
(and that is attached to the error as a note when it gives up).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kwait._errors import ApiError, ApiTransientError, ConnectionLostError
from kwait._time.backoff import Backoff, BackoffState, ExponentialBackoff
from kwait._time.deadline import Deadline, Timeout, as_deadline, format_seconds
from kwait._time.protocol import Clock

__all__ = ["Retrier", "RetryAttempt", "RetryPolicy", "is_transient"]

T = TypeVar("T")

DEFAULT_RETRY_BACKOFF = ExponentialBackoff(initial=0.5, factor=2.0, cap=30.0, jitter=0.2, seed=0)
"""0.5 s doubling to a 30 s cap, up to 20 % shorter by seeded jitter."""


def is_transient(error: BaseException) -> bool:
    """True for the errors worth retrying: `ApiTransientError` and `ConnectionLostError`.

    >>> from kwait import ApiError, ConnectionLostError
    >>> from kwait.errors import ApiTransientError
    >>> is_transient(ApiTransientError(503, "ServiceUnavailable", "try later"))
    True
    >>> is_transient(ConnectionLostError("connection reset by peer"))
    True
    >>> is_transient(ApiError(409, "Conflict", "the object has been modified"))
    False
    """
    return isinstance(error, (ApiTransientError, ConnectionLostError))


def _retry_after(error: BaseException) -> float | None:
    if isinstance(error, ApiError) and error.retry_after is not None and error.retry_after > 0:
        return float(error.retry_after)
    return None


def _summary(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass(frozen=True)
class RetryAttempt:
    """One failed attempt, and what the retrier decided about it.

    Attributes:
        number: The attempt's number since the last success (1 is the first try).
        at: Seconds after the retrier started when it failed (on its clock).
        error: What it raised.
        delay: The wait before the next attempt, or None if the retrier gave up.
        note: Why: the server's Retry-After, or the reason for giving up.

    >>> from kwait.errors import ApiTransientError
    >>> from kwait.retry import ConstantBackoff, RetryPolicy
    >>> from kwait.testing import FakeClock
    >>> retrier = RetryPolicy(ConstantBackoff(2.0), max_attempts=2).start(clock=FakeClock())
    >>> _ = retrier.next_delay(ApiTransientError(503, "", "busy"))
    >>> print(retrier.history[0].describe())
    attempt 1 at +0 s: ApiTransientError: the API server answered 503 busy; retrying in 2 s
    """

    number: int
    at: float
    error: BaseException
    delay: float | None
    note: str = ""

    def describe(self) -> str:
        """One line for `Retrier.explain`."""
        head = f"attempt {self.number} at +{format_seconds(self.at)}: {_summary(self.error)}"
        if self.delay is None:
            return f"{head}; gave up: {self.note}"
        extra = f" ({self.note})" if self.note else ""
        return f"{head}; retrying in {format_seconds(self.delay)}{extra}"


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry transient API failures.

    Args:
        backoff: The delays between attempts (default: 0.5 s doubling to 30 s,
            up to 20 % shorter by jitter seeded with 0).
        max_attempts: Attempts in all, the first included (None: no limit
            but the deadline). 1 means never retry.
        timeout: Seconds from `start` after which no new attempt begins
            (None: only the deadline given to `start`, if any).
        respect_retry_after: Wait at least what the server asked for.

    The delay after failed attempt *k* is ``max(backoff delay number k - 1,
    retry_after)``. No attempt is started at or after the deadline: if the
    delay does not fit in what is left, the retrier gives up at once.

    >>> from kwait.errors import ApiForbiddenError, ApiTransientError
    >>> policy = RetryPolicy(ExponentialBackoff(initial=1, factor=2), max_attempts=4)
    >>> busy = ApiTransientError(429, "TooManyRequests", "slow down", retry_after=5)
    >>> [policy.delay_for(busy, k) for k in (1, 2, 3, 4)]
    [5.0, 5.0, 5.0, None]
    >>> policy.delay_for(ApiForbiddenError(403, "Forbidden", "no"), 1) is None
    True
    """

    backoff: Backoff = DEFAULT_RETRY_BACKOFF
    max_attempts: int | None = 6
    timeout: float | None = None
    respect_retry_after: bool = True

    def __post_init__(self) -> None:
        """Validate the limits."""
        if not isinstance(self.backoff, Backoff):
            raise TypeError(
                f"backoff= takes a kwait.retry backoff such as ExponentialBackoff(initial=0.5), "
                f"got {self.backoff!r} ({type(self.backoff).__name__})"
            )
        if not isinstance(self.respect_retry_after, bool):
            raise TypeError(
                f"respect_retry_after= takes True or False, got {self.respect_retry_after!r}"
            )
        if self.timeout is not None and (
            isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float)
        ):
            raise TypeError(f"timeout= takes None or a number of seconds, got {self.timeout!r}")
        if self.max_attempts is not None and (
            isinstance(self.max_attempts, bool)
            or not isinstance(self.max_attempts, int)
            or self.max_attempts < 1
        ):
            raise ValueError(
                f"max_attempts must be None or an integer >= 1, got {self.max_attempts!r}"
            )
        if self.timeout is not None and not self.timeout >= 0:
            raise ValueError(f"timeout must be None or >= 0 seconds, got {self.timeout!r}")

    def retryable(self, error: BaseException) -> bool:
        """True if `error` is worth another attempt (see `is_transient`)."""
        return is_transient(error)

    def delay_for(self, error: BaseException, attempt: int) -> float | None:
        """The wait after failed attempt number `attempt` (from 1), or None to give up.

        Pure: the same as a fresh `Retrier` decides, without a deadline.
        """
        if attempt < 1:
            raise ValueError(f"attempts are numbered from 1, got {attempt}")
        if not self.retryable(error):
            return None
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return None
        delays = self.backoff.delays(attempt)
        if len(delays) < attempt:
            return None
        return self._with_retry_after(delays[-1], error)[0]

    def _with_retry_after(self, delay: float, error: BaseException) -> tuple[float, str]:
        asked = _retry_after(error) if self.respect_retry_after else None
        if asked is not None and asked >= delay:
            return asked, f"the server asked for {format_seconds(asked)}"
        return delay, ""

    def start(self, *, clock: Clock, deadline: Timeout = None) -> Retrier:
        """Return a `Retrier` for one loop on `clock`, bounded by `deadline` and `timeout`."""
        return Retrier(self, clock=clock, deadline=deadline)

    def call(self, fn: Callable[[], T], *, clock: Clock, deadline: Timeout = None) -> T:
        """Call `fn` until it returns, retrying transient failures on `clock`.

        When it gives up, the last error is raised with the history attached as
        a note (Python 3.11 and later). Keep the `Retrier` from `start` instead
        to look at the history yourself.

        >>> from kwait import ConnectionLostError
        >>> from kwait.testing import FakeClock
        >>> clock, calls = FakeClock(autojump=True), []
        >>> def flaky():
        ...     calls.append(clock.monotonic())
        ...     if len(calls) < 3:
        ...         raise ConnectionLostError("connection reset by peer")
        ...     return "ok"
        >>> RetryPolicy(ExponentialBackoff(initial=1, factor=2)).call(flaky, clock=clock)
        'ok'
        >>> calls
        [0.0, 1.0, 3.0]
        """
        return self.start(clock=clock, deadline=deadline).call(fn)


class Retrier:
    """One loop's retry state: decides delays, sleeps on the clock, remembers.

    Not thread-safe; one loop owns it. Call `next_delay` after each failure
    and `reset` after each success, or let `call` do both.

    >>> from kwait.errors import ApiTransientError
    >>> from kwait.retry import ConstantBackoff, RetryPolicy
    >>> from kwait.testing import FakeClock
    >>> retrier = RetryPolicy(ConstantBackoff(2.0), max_attempts=3).start(clock=FakeClock())
    >>> busy = ApiTransientError(503, "", "busy")
    >>> [retrier.next_delay(busy) for _ in range(3)]
    [2.0, 2.0, None]
    >>> print(retrier.explain().splitlines()[-1])
      attempt 3 at +0 s: ApiTransientError: ... 503 busy; gave up: 3 of 3 attempts used
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        clock: Clock,
        deadline: Timeout = None,
        history: int = 50,
    ) -> None:
        """Start retrying under `policy` on `clock`; keep the last `history` attempts."""
        self.policy = policy
        self.clock = clock
        budget = as_deadline(deadline, clock=clock)
        if policy.timeout is not None:
            budget = budget.within(policy.timeout)
        self.deadline: Deadline = budget
        self.backoff: BackoffState = policy.backoff.start()
        self.started: float = clock.monotonic()
        self.attempt: int = 0
        self.failures: int = 0
        self.history: deque[RetryAttempt] = deque(maxlen=history)
        self.gave_up: str | None = None

    def next_delay(self, error: BaseException) -> float | None:
        """Record a failed attempt; return the wait before the next one, or None to give up."""
        self.attempt += 1
        self.failures += 1
        delay, note = self._decide(error)
        at = self.clock.monotonic() - self.started
        self.history.append(RetryAttempt(self.attempt, at, error, delay, note))
        if delay is None:
            self.gave_up = note
        return delay

    def _decide(self, error: BaseException) -> tuple[float | None, str]:
        policy = self.policy
        if not policy.retryable(error):
            return None, f"{type(error).__name__} is not a transient error"
        if policy.max_attempts is not None and self.attempt >= policy.max_attempts:
            return None, f"{self.attempt} of {policy.max_attempts} attempts used"
        if self.backoff.exhausted:
            return None, f"no delay left in the {policy.backoff.describe()}"
        delay, note = policy._with_retry_after(self.backoff.next_delay(), error)  # noqa: SLF001
        if delay >= self.deadline.remaining():
            return None, (
                f"the next attempt, in {format_seconds(delay)}, would start after the "
                f"deadline ({self.deadline.describe()})"
            )
        return delay, note

    def reset(self) -> None:
        """An attempt succeeded: number attempts from 1 again and restart the backoff."""
        self.attempt = 0
        self.gave_up = None
        self.backoff.reset()

    def call(self, fn: Callable[[], T]) -> T:
        """Call `fn` until it returns, sleeping on the clock between transient failures.

        Raises:
            BaseException: The last error, once the retrier gives up, with
                `explain()` attached as a note when there was more than one attempt.
        """
        while True:
            try:
                result = fn()
            except Exception as error:  # noqa: PERF203 - retrying is the point
                delay = self.next_delay(error)
                if delay is None:
                    if self.attempt > 1:
                        add_note = getattr(error, "add_note", None)
                        if add_note is not None:
                            add_note(self.explain())
                    raise
                self.clock.sleep(delay)
            else:
                self.reset()
                return result

    def explain(self) -> str:
        """Say what was tried, when, and why it stopped, one attempt per line.

        >>> from kwait.errors import ApiTransientError
        >>> from kwait.testing import FakeClock
        >>> clock = FakeClock(autojump=True)
        >>> retrier = RetryPolicy(ExponentialBackoff(initial=1), max_attempts=3).start(clock=clock)
        >>> for failure in [
        ...     ApiTransientError(503, "ServiceUnavailable", "try later"),
        ...     ApiTransientError(429, "TooManyRequests", "slow down", retry_after=4),
        ...     ApiTransientError(500, "InternalError", "etcd timed out"),
        ... ]:
        ...     clock.sleep(retrier.next_delay(failure) or 0)
        >>> print(retrier.explain())
        3 failed attempts in 5 s:
          attempt 1 at +0 s: ApiTransientError: the API server answered 503 ServiceUnavailable:
            try later; retrying in 1 s
          attempt 2 at +1 s: ApiTransientError: the API server answered 429 TooManyRequests:
            slow down; retrying in 4 s (the server asked for 4 s)
          attempt 3 at +5 s: ApiTransientError: the API server answered 500 InternalError:
            etcd timed out; gave up:
            3 of 3 attempts used
        """
        elapsed = self.clock.monotonic() - self.started
        plural = "" if self.failures == 1 else "s"
        head = f"{self.failures} failed attempt{plural} in {format_seconds(elapsed)}"
        if self.deadline.budget != math.inf:
            head += f" ({self.deadline.describe()})"
        lines = [f"{head}:"]
        if len(self.history) < self.failures:
            lines.append(f"  ... {self.failures - len(self.history)} earlier attempts not kept")
        lines.extend(f"  {attempt.describe()}" for attempt in self.history)
        return "\n".join(lines)

    def __repr__(self) -> str:
        """Show the attempt count and the budget."""
        state = f"gave up: {self.gave_up}" if self.gave_up else f"attempt {self.attempt}"
        return f"<Retrier {state}; {self.deadline.describe()}>"
