"""The online matchers behind every expectation, for building your own checks.

`Matcher` runs a transition pattern over one object's timeline, one entry at a
time; `CountMatcher` counts changes. Both say after each entry where they stand
(`Outcome` with a `Status`) and how far they got (`Progress`).

>>> from kwait.matchers import Matcher
>>> m = Matcher(lambda pod: pod["status"]["phase"], ["Pending", "Running"])
>>> m.pattern
in_order('Pending', 'Running')
"""

from __future__ import annotations

from kwait._match.counting import Change, CountMatcher
from kwait._match.matcher import Matcher
from kwait._match.verdict import Check, Outcome, Progress, Status, Step
from kwait._publish import publish

__all__ = ["Change", "Check", "CountMatcher", "Matcher", "Outcome", "Progress", "Status", "Step"]

publish(__name__, globals(), __all__)
