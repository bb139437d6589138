"""Watch sources and the recorder: for writing a source of your own, or reading raw entries.

A `WatchSource` is what a tracker's engine reads: ``list()`` gives a
`ListResult`, ``watch(resource_version)`` a `WatchStream` of `RawEvent` s. The
engine records every observation, gap and reconnect into a `Recorder`, which a
`kwait.Tracker` exposes as ``tracker.recorder``. A source may hand over objects as
the server's JSON bytes with their `Head` (identity, resourceVersion, generation),
so nothing is decoded that no state function reads.

`save_timelines` writes what a tracker recorded to a file (JSON Lines, one
entry a line, after a versioned header); `load_timelines` reads it back as a
`Recording`, whose timelines replay through `kwait.matchers.Matcher` exactly
as they were judged live: a failure recorded in CI can be examined locally.

>>> from kwait.watch import RawEvent
>>> RawEvent("ADDED", {"metadata": {"name": "web-0"}}).type
'ADDED'
"""

from __future__ import annotations

from kwait._publish import publish
from kwait._watch.recording import (
    Recording,
    RecordingFormatError,
    load_timelines,
    save_timelines,
)
from kwait._watch.source import ListResult, RawEvent, WatchSource, WatchStream
from kwait._watch.timeline import Continuity, Recorder, RecorderStats
from kwait._watch.wire import Head

__all__ = [
    "Continuity",
    "Head",
    "ListResult",
    "RawEvent",
    "Recorder",
    "RecorderStats",
    "Recording",
    "RecordingFormatError",
    "WatchSource",
    "WatchStream",
    "load_timelines",
    "save_timelines",
]

publish(__name__, globals(), __all__)
