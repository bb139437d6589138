"""The parts of a failure report, and building one yourself.

A failed expectation raises a `kwait.ExpectationError` whose ``report`` is a
`kwait.Report`: a summary and one `ObjectReport` per object involved (its
timeline as `Row` s, the pattern's progress, its Events as `EventRow` s, its
last state). `object_report` builds one from a timeline; `error_for` picks the
exception type a report calls for. `to_svg` draws a report (or timelines) as a
picture: one lane per object, its states as coloured spans over time. `classify`
sums up what pods' containers went through (verdict, restarts, reasons with
counts), as a table and as JSON; reports about pods include it.

>>> from kwait import Report
>>> from kwait.reports import error_for
>>> type(error_for(Report("wait", "web-0 did not become Ready"))).__name__
'WaitTimeoutError'
"""

from __future__ import annotations

from kwait._publish import publish
from kwait._verdict.classify import Classification, ContainerRecord, classify
from kwait._verdict.failures import error_for
from kwait._verdict.report import EventRow, ObjectReport, Row, object_report
from kwait._verdict.svg import default_state, to_svg

__all__ = [
    "Classification",
    "ContainerRecord",
    "EventRow",
    "ObjectReport",
    "Row",
    "classify",
    "default_state",
    "error_for",
    "object_report",
    "to_svg",
]

publish(__name__, globals(), __all__)
