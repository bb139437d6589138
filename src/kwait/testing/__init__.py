"""Test doubles for kwait users: an in-process fake API server and scripted watch sources.

`ScriptedSource` plays exact LIST answers and WATCH streams (events, pauses,
drops, 410s, errors) to a tracker on a clock, with no server at all.

`FakeApiServer` speaks the real HTTP protocol on loopback, so the official
client (and kwait) run against it unchanged, with resourceVersions, watches,
bookmarks, 410 Gone, selectors, a scripted kubelet (`FakeKubelet`) and fault
injection (`Faults`). All of its time comes from a `kwait.Clock`.

>>> from kwait.testing import FakeApiServer
>>> with FakeApiServer(kubelet=False) as server:
...     server.kubeconfig_dict()["clusters"][0]["cluster"]["server"] == server.url
True
"""

from __future__ import annotations

from kwait._publish import publish
from kwait._time.clock import FakeClock
from kwait._watch.scripted import Drop, Expire, Fail, Hang, Pause, ScriptedSource, event
from kwait._watch.scripted import Step as ScriptStep
from kwait.testing._faults import Faults, InjectedFailure, WatchFault
from kwait.testing._kubelet import LIFECYCLE_LABEL, FakeKubelet
from kwait.testing._namespace import NAMESPACE_LABEL, TemporaryNamespace, namespace_name
from kwait.testing._server import FakeApiServer, RecordedRequest

__all__ = [
    "LIFECYCLE_LABEL",
    "NAMESPACE_LABEL",
    "Drop",
    "Expire",
    "Fail",
    "FakeApiServer",
    "FakeClock",
    "FakeKubelet",
    "Faults",
    "Hang",
    "InjectedFailure",
    "Pause",
    "RecordedRequest",
    "ScriptStep",
    "ScriptedSource",
    "TemporaryNamespace",
    "WatchFault",
    "event",
    "namespace_name",
]


publish(__name__, globals(), __all__)
