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
from kwait._expect import (
    expect_consistently,
    expect_count,
    expect_never,
    expect_transitions,
    wait_for,
)
from kwait._failures import (
    CountMismatchError,
    ExpectationError,
    NeverViolatedError,
    TransitionMismatchError,
    UndecidableError,
    WaitTimeoutError,
    error_for,
)
from kwait._patterns import (
    Changes,
    CountMatcher,
    Matcher,
    Outcome,
    Pattern,
    Progress,
    Status,
    any_of,
    at_least,
    at_most,
    between,
    consecutive,
    exactly,
    in_order,
    matches,
    never,
    one_of,
    optional,
)
from kwait._report import Report, object_report
from kwait._retry import Retrier, RetryAttempt, RetryPolicy, is_transient
from kwait._states import (
    DELETED,
    JSONPathError,
    Predicate,
    State,
    condition,
    condition_status,
    container_state,
    deleted,
    exists,
    field,
    field_equals,
    generation,
    generation_observed,
    image,
    image_id,
    jsonpath,
    jsonpath_value,
    parse_for,
    phase,
    predicate,
    restart_count,
    rollout_complete,
    rollout_status,
    state,
    terminated_reason,
    waiting_reason,
)
from kwait._tenacity import ClockRetrying, tenacity_retrying, tenacity_stop_at, tenacity_wait
from kwait._timeline import Gap, Identity, Observation, Reconnect, Recorder, Timeline
from kwait._tracker import Tracker, track
from kwait._typing import Clock
from kwait._version import __version__

__all__ = [
    "DELETED",
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
    "Changes",
    "Clock",
    "ClockRetrying",
    "ConnectionLostError",
    "ConstantBackoff",
    "CountMatcher",
    "CountMismatchError",
    "Deadline",
    "ExpectationError",
    "ExponentialBackoff",
    "FakeClock",
    "Gap",
    "Identity",
    "JSONPathError",
    "KwaitError",
    "Matcher",
    "NeverViolatedError",
    "Observation",
    "Outcome",
    "Pattern",
    "Predicate",
    "Progress",
    "Reconnect",
    "Recorder",
    "Report",
    "Retrier",
    "RetryAttempt",
    "RetryPolicy",
    "State",
    "Status",
    "SystemClock",
    "Timeline",
    "Tracker",
    "TransitionMismatchError",
    "UndecidableError",
    "UnknownResourceError",
    "WaitTimeoutError",
    "__version__",
    "any_of",
    "as_deadline",
    "at_least",
    "at_most",
    "between",
    "condition",
    "condition_status",
    "consecutive",
    "container_state",
    "deleted",
    "error_for",
    "exactly",
    "exists",
    "expect_consistently",
    "expect_count",
    "expect_never",
    "expect_transitions",
    "field",
    "field_equals",
    "generation",
    "generation_observed",
    "image",
    "image_id",
    "in_order",
    "is_transient",
    "jsonpath",
    "jsonpath_value",
    "matches",
    "never",
    "object_report",
    "one_of",
    "optional",
    "parse_for",
    "phase",
    "predicate",
    "restart_count",
    "rollout_complete",
    "rollout_status",
    "state",
    "tenacity_retrying",
    "tenacity_stop_at",
    "tenacity_wait",
    "terminated_reason",
    "track",
    "wait_for",
    "waiting_reason",
]


def _publish() -> None:
    """Make reprs and docs name public objects as ``kwait.X``."""
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith("kwait._"):
            obj.__module__ = __name__


_publish()
