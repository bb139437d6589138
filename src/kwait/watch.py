"""Watch sources and the recorder: for writing a source of your own, or reading raw entries.

A `WatchSource` is what a tracker's engine reads: ``list()`` gives a
`ListResult`, ``watch(resource_version)`` a `WatchStream` of `RawEvent` s. The
engine records every observation, gap and reconnect into a `Recorder`, which a
`kwait.Tracker` exposes as ``tracker.recorder``. A source may hand over objects as
the server's JSON bytes with their `Head` (identity, resourceVersion, generation),
so nothing is decoded that no state function reads.

>>> from kwait.watch import RawEvent
>>> RawEvent("ADDED", {"metadata": {"name": "web-0"}}).type
'ADDED'
"""

from __future__ import annotations

from kwait._publish import publish
from kwait._watch.source import ListResult, RawEvent, WatchSource, WatchStream
from kwait._watch.timeline import Recorder, RecorderStats
from kwait._watch.wire import Head

__all__ = [
    "Head",
    "ListResult",
    "RawEvent",
    "Recorder",
    "RecorderStats",
    "WatchSource",
    "WatchStream",
]

publish(__name__, globals(), __all__)
