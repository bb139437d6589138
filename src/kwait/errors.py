"""Every error kwait raises, by what went wrong.

The bases are also at the top level: `kwait.KwaitError` (everything kwait
raises), `kwait.ExpectationError` (an expectation failed; it carries a
`kwait.Report`), `kwait.WaitTimeoutError`, `kwait.ApiError` and
`kwait.ConnectionLostError`. The rest live here.

>>> import kwait
>>> from kwait import errors
>>> issubclass(errors.ApiNotFoundError, kwait.ApiError)
True
"""

from __future__ import annotations

from kwait._errors import (
    ApiBadRequestError,
    ApiForbiddenError,
    ApiNotFoundError,
    ApiTransientError,
    ApiUnauthorizedError,
    ClockStallError,
    ConfigError,
    StateFunctionError,
    UnknownResourceError,
)
from kwait._match.states import JSONPathError
from kwait._publish import publish
from kwait._time.backoff import BackoffExhaustedError
from kwait._verdict.failures import (
    CountMismatchError,
    FailureSignError,
    NeverViolatedError,
    TransitionMismatchError,
    UndecidableError,
)
from kwait._watch.source import ExpiredError

__all__ = [
    "ApiBadRequestError",
    "ApiForbiddenError",
    "ApiNotFoundError",
    "ApiTransientError",
    "ApiUnauthorizedError",
    "BackoffExhaustedError",
    "ClockStallError",
    "ConfigError",
    "CountMismatchError",
    "ExpiredError",
    "FailureSignError",
    "JSONPathError",
    "NeverViolatedError",
    "StateFunctionError",
    "TransitionMismatchError",
    "UndecidableError",
    "UnknownResourceError",
]

publish(__name__, globals(), __all__)
