"""Backoff, retries and the tenacity bridge, all on a `kwait.Clock`.

Backoffs are seeded, so their jitter comes out the same every run; retries and
their sleeps read the clock, so a `kwait.testing.FakeClock` makes them instant.

>>> from kwait.retry import ExponentialBackoff
>>> state = ExponentialBackoff(initial=1, factor=2, cap=5, jitter=0).start()
>>> [state.next_delay() for _ in range(4)]
[1.0, 2.0, 4.0, 5.0]
"""

from __future__ import annotations

from kwait._publish import publish
from kwait._time.backoff import (
    ApimachineryBackoff,
    Backoff,
    BackoffState,
    ConstantBackoff,
    ExponentialBackoff,
)
from kwait._time.retry import Retrier, RetryAttempt, RetryPolicy, is_transient
from kwait._time.tenacity_bridge import (
    ClockRetrying,
    tenacity_retrying,
    tenacity_stop_at,
    tenacity_wait,
)

__all__ = [
    "ApimachineryBackoff",
    "Backoff",
    "BackoffState",
    "ClockRetrying",
    "ConstantBackoff",
    "ExponentialBackoff",
    "Retrier",
    "RetryAttempt",
    "RetryPolicy",
    "is_transient",
    "tenacity_retrying",
    "tenacity_stop_at",
    "tenacity_wait",
]

publish(__name__, globals(), __all__)
