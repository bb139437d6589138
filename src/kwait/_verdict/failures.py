"""Exceptions for failed expectations; each carries a `kwait.Report` and prints it.

::

    KwaitError
    └── ExpectationError             an expectation about objects' states failed
        ├── TransitionMismatchError  a pattern became impossible (fail-fast)
        │   └── FailureSignError     a failure sign (``fail_on=``, ``fail_fast``) showed
        ├── WaitTimeoutError         the deadline passed first (also a TimeoutError)
        ├── NeverViolatedError       a never/consistently assertion saw a violation
        ├── CountMismatchError       a change count is outside its bounds
        └── UndecidableError         the answer depends on states hidden in a gap

``str(error)`` is the report as text (timeline table, progress, Events, last
state); ``error.report.to_json()`` is the same for CI artifacts.
"""

from __future__ import annotations

from kwait._errors import KwaitError
from kwait._match.verdict import Status
from kwait._verdict.report import Report

__all__ = [
    "CountMismatchError",
    "ExpectationError",
    "FailureSignError",
    "NeverViolatedError",
    "TransitionMismatchError",
    "UndecidableError",
    "WaitTimeoutError",
    "error_for",
]


class ExpectationError(KwaitError):
    """An expectation about objects' states failed.

    Attributes:
        report: The `kwait.Report`: summary, then per object the timeline,
            progress, Events and last state.

    >>> import kwait
    >>> err = kwait.ExpectationError(kwait.Report("wait", "web-0 did not become Ready"))
    >>> err.report.summary
    'web-0 did not become Ready'
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(report.summary)

    def __str__(self) -> str:
        """Render the whole report (bounded)."""
        return self.report.to_text()

    def __reduce__(self) -> tuple[type[ExpectationError], tuple[Report]]:
        """Pickle with the report (the default would pass the summary as the report)."""
        return (type(self), (self.report,))


class TransitionMismatchError(ExpectationError):
    """An object's states can no longer match the expected pattern.

    Raised as soon as it is certain: a forbidden state, the object deleted, or
    a terminal state from which the rest of the pattern cannot follow.

    >>> import kwait
    >>> from kwait.errors import TransitionMismatchError
    >>> issubclass(TransitionMismatchError, kwait.ExpectationError)
    True
    """


class FailureSignError(TransitionMismatchError):
    """A failure sign showed: the wait stopped at once instead of at its timeout.

    Raised by ``fail_on=`` and ``fail_fast`` (see `kwait.signs`). It is a
    `TransitionMismatchError`, like kwait's other early stops (a deletion, a
    terminal state). The report's summary puts the sign first::

        pod/ci/web-0: container app CreateContainerConfigError: secret "db" not
        found (rv 1234, +0.8 s); stopped 119.2 s before the timeout

    >>> from kwait._verdict.report import Report
    >>> err = FailureSignError(Report("wait", "job/ci/x: ...", details={
    ...     "sign": "job-failed", "sign_message": "Job condition Failed",
    ...     "resource_version": "42", "offset": 0.5, "saved": 119.5}))
    >>> err.sign, err.resource_version, err.saved
    ('job-failed', '42', 119.5)
    """

    @property
    def sign(self) -> str:
        """The name of the sign that showed (``job-failed``, or a predicate's description)."""
        return str(self.report.details.get("sign", ""))

    @property
    def message(self) -> str:
        """What was seen, e.g. ``container app InvalidImageName: ...``."""
        return str(self.report.details.get("sign_message", ""))

    @property
    def resource_version(self) -> str:
        """The resourceVersion of the observation that showed the sign."""
        return str(self.report.details.get("resource_version", ""))

    @property
    def offset(self) -> float:
        """Seconds from the start of the wait to that observation (negative: before it)."""
        return float(self.report.details.get("offset", 0.0))

    @property
    def saved(self) -> float:
        """Seconds left before the timeout (or end of the window) when the wait stopped."""
        return float(self.report.details.get("saved", 0.0))


class WaitTimeoutError(ExpectationError, TimeoutError):
    """The deadline passed before the expectation was met.

    It is also a `TimeoutError`, so code that catches timeouts catches it:

    >>> import kwait
    >>> issubclass(kwait.WaitTimeoutError, TimeoutError)
    True
    """


class NeverViolatedError(ExpectationError):
    """A ``never``/``consistently`` assertion saw a violating state (on that event).

    >>> import kwait
    >>> from kwait.reports import error_for
    >>> type(error_for(kwait.Report("never", "web-0 became Failed"))).__name__
    'NeverViolatedError'
    """


class CountMismatchError(ExpectationError):
    """An object changed more (or fewer) times than expected.

    >>> import kwait
    >>> from kwait.reports import error_for
    >>> type(error_for(kwait.Report("count", "db-0 restarted 2 times"))).__name__
    'CountMismatchError'
    """


class UndecidableError(ExpectationError):
    """The answer depends on what happened inside a gap in the observations.

    The report names the gap (its resourceVersions and reason). kwait neither
    passes nor fails such an expectation silently.

    >>> import kwait
    >>> from kwait.errors import UndecidableError
    >>> issubclass(UndecidableError, kwait.ExpectationError)
    True
    """


def error_for(report: Report) -> ExpectationError:
    """Return the exception that fits a report: by its kind and its objects' verdicts.

    A definite failure (impossible, or unmet when the window closed) wins over
    an undecidable object: ``wait`` and ``transitions`` reports become
    `WaitTimeoutError` when nothing failed before the deadline; ``never`` becomes
    `NeverViolatedError`, ``count`` `CountMismatchError`. Only when every
    failing object is undecidable is it `UndecidableError`.

    >>> error_for(Report("wait", "pod/web not Ready within 30s")).__class__.__name__
    'WaitTimeoutError'
    """
    statuses = report.statuses()
    definite = statuses & {Status.IMPOSSIBLE, Status.UNMET}
    if Status.UNDECIDABLE in statuses and not definite:
        return UndecidableError(report)
    if report.kind == "never":
        return NeverViolatedError(report)
    if report.kind == "count":
        return CountMismatchError(report)
    if Status.IMPOSSIBLE in statuses:
        return TransitionMismatchError(report)
    return WaitTimeoutError(report)
