"""kwait: watch-based Kubernetes waits and transition assertions for test suites.

kwait records every state an object passes through (list, then watch from the
list's resourceVersion, reconnecting and relisting with explicit gaps) so a
test can assert the *path* an object took, not just where it ended up, and
every failure explains itself.

The top level holds what a test uses every day: trackers, the expectation
functions, timeline types, the pattern combinators, the clock and deadlines,
and the base errors. The rest lives in public submodules: `kwait.states`
(state functions), `kwait.errors`, `kwait.matchers`, `kwait.reports`,
`kwait.retry`, `kwait.signs` (failure signs), `kwait.watch`, `kwait.typing`,
and `kwait.testing` (fake API server, scripted sources, `FakeClock`, pytest
fixtures). `kwait.asyncio` has
the same trackers and expectations for coroutines (``import kwait.asyncio``).

>>> import kwait
>>> kwait.in_order("ErrImagePull", kwait.at_least(1, "ImagePullBackOff"))
in_order('ErrImagePull', at_least(1, 'ImagePullBackOff'))
"""

from __future__ import annotations

# The public submodules, so `kwait.states.phase()` works after `import kwait`.
from kwait import compare, errors, matchers, reports, retry, signs, states, typing, watch  # noqa: F401
from kwait._api import (
    expect_consistently,
    expect_count,
    expect_never,
    expect_transitions,
    wait_for,
)
from kwait._errors import ApiError, ConnectionLostError, KwaitError
from kwait._match.counting import Changes
from kwait._match.pattern import (
    Pattern,
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
from kwait._publish import publish
from kwait._time.clock import SystemClock
from kwait._time.deadline import Deadline
from kwait._time.protocol import Clock
from kwait._tracker import Tracker, track
from kwait._verdict.failures import ExpectationError, WaitTimeoutError
from kwait._verdict.report import Report
from kwait._version import __version__
from kwait._watch.timeline import Gap, Identity, Observation, Reconnect, Timeline

__all__ = [
    "ApiError",
    "Changes",
    "Clock",
    "ConnectionLostError",
    "Deadline",
    "ExpectationError",
    "Gap",
    "Identity",
    "KwaitError",
    "Observation",
    "Pattern",
    "Reconnect",
    "Report",
    "SystemClock",
    "Timeline",
    "Tracker",
    "WaitTimeoutError",
    "__version__",
    "any_of",
    "at_least",
    "at_most",
    "between",
    "consecutive",
    "exactly",
    "expect_consistently",
    "expect_count",
    "expect_never",
    "expect_transitions",
    "in_order",
    "matches",
    "never",
    "one_of",
    "optional",
    "track",
    "wait_for",
]

publish(__name__, globals(), [n for n in __all__ if n != "__version__"])
