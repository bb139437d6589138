"""Type aliases that appear in kwait's signatures, so annotations can name them.

>>> from kwait.typing import Timeout
>>> def settle(timeout: Timeout = 30.0) -> None: ...
"""

from __future__ import annotations

from kwait._api import Target
from kwait._check import ModelObject
from kwait._match.counting import Countable
from kwait._match.pattern import PatternLike
from kwait._match.states import FieldPath
from kwait._publish import publish
from kwait._time.deadline import Timeout
from kwait._tracker import TrackOptions
from kwait._verdict.judge import Condition
from kwait._verdict.report import ReportKind
from kwait._watch.source import EventType
from kwait._watch.timeline import Entry, ObservationType

__all__ = [
    "Condition",
    "Countable",
    "Entry",
    "EventType",
    "FieldPath",
    "ModelObject",
    "ObservationType",
    "PatternLike",
    "ReportKind",
    "Target",
    "Timeout",
    "TrackOptions",
]

publish(__name__, globals(), __all__)
