"""kwait: watch-based Kubernetes waits and transition assertions for test suites.

kwait records every state an object passes through (list, then watch from the
list's resourceVersion, reconnecting and relisting with explicit gaps) so a
test can assert the *path* an object took, not just where it ended up, and
every failure explains itself.

Public names are re-exported here; the modules they live in are private.
"""

from __future__ import annotations

from kwait._backoff import (
    ApimachineryBackoff,
    Backoff,
    BackoffExhaustedError,
    BackoffState,
    ConstantBackoff,
    ExponentialBackoff,
)
from kwait._clock import FakeClock, SystemClock
from kwait._deadline import Deadline, as_deadline
from kwait._errors import (
    ApiBadRequestError,
    ApiError,
    ApiForbiddenError,
    ApiNotFoundError,
    ApiTransientError,
    ApiUnauthorizedError,
    ConnectionLostError,
    KwaitError,
    UnknownResourceError,
)
from kwait._retry import Retrier, RetryAttempt, RetryPolicy, is_transient
from kwait._tenacity import ClockRetrying, tenacity_retrying, tenacity_stop_at, tenacity_wait
from kwait._timeline import Gap, Identity, Observation, Reconnect, Timeline
from kwait._tracker import Tracker, track
from kwait._typing import Clock
from kwait._version import __version__

__all__ = [
    "ApiBadRequestError",
    "ApiError",
    "ApiForbiddenError",
    "ApiNotFoundError",
    "ApiTransientError",
    "ApiUnauthorizedError",
    "ApimachineryBackoff",
    "Backoff",
    "BackoffExhaustedError",
    "BackoffState",
    "Clock",
    "ClockRetrying",
    "ConnectionLostError",
    "ConstantBackoff",
    "Deadline",
    "ExponentialBackoff",
    "FakeClock",
    "Gap",
    "Identity",
    "KwaitError",
    "Observation",
    "Reconnect",
    "Retrier",
    "RetryAttempt",
    "RetryPolicy",
    "SystemClock",
    "Timeline",
    "Tracker",
    "UnknownResourceError",
    "__version__",
    "as_deadline",
    "is_transient",
    "tenacity_retrying",
    "tenacity_stop_at",
    "tenacity_wait",
    "track",
]


def _publish() -> None:
    """Make reprs and docs name public objects as ``kwait.X``."""
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith("kwait._"):
            obj.__module__ = __name__


_publish()
