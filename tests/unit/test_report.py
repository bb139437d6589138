"""Tests of internals: the report formatting helpers alongside public reports.

Failure reports render the timeline, progress, Events and last state, as text and as JSON.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from kwait import (
    Changes,
    ExpectationError,
    KwaitError,
    Reconnect,
    Report,
    WaitTimeoutError,
    in_order,
    never,
)
from kwait._verdict.report import format_value, redact, to_yamlish
from kwait.errors import (
    CountMismatchError,
    NeverViolatedError,
    TransitionMismatchError,
    UndecidableError,
)
from kwait.matchers import CountMatcher, Matcher
from kwait.reports import EventRow, error_for, object_report
from kwait.states import DELETED, field, waiting_reason
from kwait.testing import FakeClock
from kwait.typing import ObservationType
from kwait.watch import Recorder

UID = "0f3c9a1e-5b7d-4c2a-9e11-2f6b8d0c4a55"
IMAGE = "registry:5000/vm:nope"


def launcher(rv: str, reason: str) -> dict[str, Any]:
    """Return KubeVirt's launcher pod, its container waiting for `reason`."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "virt-launcher-vm",
            "namespace": "kubevirt",
            "uid": UID,
            "resourceVersion": rv,
            "managedFields": [{"manager": "kubelet", "operation": "Update"}],
        },
        "spec": {"containers": [{"name": "compute", "image": IMAGE}]},
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {
                    "name": "compute",
                    "state": {"waiting": {"reason": reason}},
                    "restartCount": 0,
                    "image": IMAGE,
                    "imageID": "",
                }
            ],
        },
    }


EVENTS: list[dict[str, Any]] = [
    {
        "kind": "Event",
        "reason": "BackOff",
        "type": "Normal",
        "count": 3,
        "message": f'Back-off pulling image "{IMAGE}"',
        "lastTimestamp": "2025-01-01T00:00:12Z",
    },
    {
        "kind": "Event",
        "reason": "Failed",
        "type": "Warning",
        "count": 2,
        "message": f'Failed to pull image "{IMAGE}": not found',
        "lastTimestamp": "2025-01-01T00:00:11Z",
    },
    {
        "kind": "Event",
        "reason": "Scheduled",
        "type": "Normal",
        "message": "Successfully assigned kubevirt/virt-launcher-vm to node-1",
        "eventTime": "2025-01-01T00:00:00.120000Z",
    },
]


def kubevirt_report() -> Report:
    """Build the report of a pull-error cycle whose confirmation was lost in a gap."""
    clock = FakeClock(start=50.0)
    rec = Recorder(clock=clock)
    matcher = Matcher(
        waiting_reason(),
        in_order("ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"),
    )
    steps: list[tuple[float, ObservationType, str, str]] = [
        (0.0, "LISTED", "100", "ContainerCreating"),
        (0.25, "MODIFIED", "101", "ErrImagePull"),
        (1.0, "MODIFIED", "102", "ImagePullBackOff"),
    ]
    for dt, type_, rv, reason in steps:
        clock.advance(dt)
        matcher.feed(rec.add_observation(type_, launcher(rv, reason)))
    clock.advance(1.0)
    rec.add_reconnect("102", "watch stream ended")
    clock.advance(9.0)
    matcher.feed(rec.add_gap("102", "140", "too old resource version", rec.identities()))
    clock.advance(0.5)
    matcher.feed(rec.add_observation("LISTED", launcher("140", "ImagePullBackOff"), synthetic=True))
    clock.advance(0.25)
    matcher.feed(rec.add_observation("MODIFIED", launcher("141", "ErrImagePull")))
    matcher.close()
    reconnects = [e for e in rec.entries() if isinstance(e, Reconnect)]
    obj = object_report(rec.timeline_of(UID), matcher, events=EVENTS, reconnects=reconnects)
    return Report(
        "transitions", "kubevirt/virt-launcher-vm: transitions not seen within 30s", (obj,)
    )


KUBEVIRT_TEXT = """\
kubevirt/virt-launcher-vm: transitions not seen within 30s

pod/kubevirt/virt-launcher-vm (uid 0f3c9a1e): undecidable: the window closed; \
the answer depends on what happened inside gap #4 rv 102..140 (too old resource version)
  expected: in_order('ErrImagePull', 'ImagePullBackOff', 'ErrImagePull', 'ImagePullBackOff')
  state: waiting reason of any container
  progress: 3 of 4 steps matched
    step 1: 'ErrImagePull' at #1 (MODIFIED rv 101)
    step 2: 'ImagePullBackOff' at #2 (MODIFIED rv 102)
    step 3: 'ErrImagePull' at #6 (MODIFIED rv 141)
  was waiting for: 'ImagePullBackOff'
  timeline (7 entries):
        time  event            rv        state                     note
     +0.000s  LISTED           100       ContainerCreating
     +0.250s  MODIFIED         101       ErrImagePull              step 1: 'ErrImagePull'
     +1.250s  MODIFIED         102       ImagePullBackOff          step 2: 'ImagePullBackOff'
     +2.250s  RECONNECT        102       watch stream ended
    +11.250s  GAP              102..140  too old resource version  the answer depends on this
    +11.750s  LISTED (relist)  140       ImagePullBackOff
    +12.000s  MODIFIED         141       ErrImagePull              step 3: 'ErrImagePull'
  events (3, oldest first):
    2025-01-01T00:00:00.120000Z  Normal  Scheduled: \
Successfully assigned kubevirt/virt-launcher-vm to node-1
    2025-01-01T00:00:11Z  Warning  Failed (x2): \
Failed to pull image "registry:5000/vm:nope": not found
    2025-01-01T00:00:12Z  Normal  BackOff (x3): Back-off pulling image "registry:5000/vm:nope"
  containers:
    container  verdict     restarts  last state             reasons seen
    compute    image-pull  0         waiting: ErrImagePull  ContainerCreating, \
ErrImagePull x2, ImagePullBackOff
  last state (#6 MODIFIED rv 141):
    apiVersion: v1
    kind: Pod
    metadata:
      name: virt-launcher-vm
      namespace: kubevirt
      uid: 0f3c9a1e-5b7d-4c2a-9e11-2f6b8d0c4a55
      resourceVersion: "141"
    spec:
      containers:
      - name: compute
        image: registry:5000/vm:nope
    status:
      phase: Pending
      containerStatuses:
      - name: compute
        state:
          waiting:
            reason: ErrImagePull
        restartCount: 0
        image: registry:5000/vm:nope
        imageID: \"\""""


def test_text_report_tells_the_whole_story() -> None:
    """Timeline with gap and reconnect rows, progress, Events and last state render exactly."""
    assert kubevirt_report().to_text() == KUBEVIRT_TEXT


def test_json_report_carries_the_same_facts() -> None:
    """to_json() is serialisable and holds the rows, steps, events and last state in full."""
    data = kubevirt_report().to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["kind"] == "transitions"
    obj = data["objects"][0]
    assert obj["identity"] == {
        "kind": "Pod",
        "namespace": "kubevirt",
        "name": "virt-launcher-vm",
        "uid": UID,
    }
    assert obj["outcome"] == {
        "status": "undecidable",
        "reason": "the window closed; the answer depends on what happened inside "
        "gap #4 rv 102..140 (too old resource version)",
        "seq": None,
        "unknown": [4],
    }
    assert [s["resource_version"] for s in obj["progress"]["steps"]] == ["101", "102", "141"]
    assert obj["progress"]["waiting_for"] == ["'ImagePullBackOff'"]
    assert [(r["event"], r["resource_version"], r["value"]) for r in obj["timeline"]] == [
        ("LISTED", "100", "ContainerCreating"),
        ("MODIFIED", "101", "ErrImagePull"),
        ("MODIFIED", "102", "ImagePullBackOff"),
        ("RECONNECT", "102", None),
        ("GAP", "102..140", None),
        ("LISTED (relist)", "140", "ImagePullBackOff"),
        ("MODIFIED", "141", "ErrImagePull"),
    ]
    assert obj["timeline"][5]["flags"] == ["synthetic"]
    assert obj["timeline"][4]["offset"] == 11.25
    assert [e["reason"] for e in obj["events"]] == ["Scheduled", "Failed", "BackOff"]
    assert obj["last_state"]["metadata"]["resourceVersion"] == "141"
    assert "managedFields" not in obj["last_state"]["metadata"]


def cnpg_report() -> Report:
    """Two instances of a cluster; cluster-1 is updated twice (a reused tag pulled again)."""
    clock = FakeClock()
    rec = Recorder(clock=clock)
    counters = {uid: CountMatcher(Changes.generation(), exactly=1) for uid in ("a1", "a2")}
    rv = 200
    for name, uid, gen, image in [
        ("cluster-1", "a1", 1, "pg:16.1"),
        ("cluster-2", "a2", 1, "pg:16.1"),
        ("cluster-2", "a2", 2, "pg:16.2"),
        ("cluster-1", "a1", 2, "pg:16.2"),
        ("cluster-1", "a1", 3, "pg:16.2"),
    ]:
        clock.advance(2)
        rv += 1
        meta = {"name": name, "namespace": "cnpg", "uid": uid, "resourceVersion": str(rv)}
        obj = {
            "kind": "Pod",
            "metadata": {**meta, "generation": gen},
            "spec": {"containers": [{"name": "postgres", "image": image}]},
        }
        counters[uid].feed(rec.add_observation("MODIFIED", obj))
    for counter in counters.values():
        counter.close()
    failed = tuple(
        object_report(rec.timeline_of(uid), c)
        for uid, c in counters.items()
        if not c.outcome.passed
    )
    return Report("count", "cnpg/cluster: each instance must be updated exactly once", failed)


def test_count_report_shows_both_updates() -> None:
    """The instance updated twice is the one reported, with both updates marked in its table."""
    report = cnpg_report()
    assert [o.identity.name for o in report.objects] == ["cluster-1"]
    lines = report.to_text().splitlines()
    assert lines[:14] == [
        "cnpg/cluster: each instance must be updated exactly once",
        "",
        (
            "pod/cnpg/cluster-1 (uid a1): impossible: generation changes: counted 2 "
            "by #4 MODIFIED rv 205; expected exactly 1"
        ),
        "  expected: generation changes: exactly 1",
        "  state: generation",
        "  progress: generation changes: counted 2; expected exactly 1",
        "    change 1: 1 → 2 at #3 (MODIFIED rv 204)",
        "    change 2: 2 → 3 at #4 (MODIFIED rv 205)",
        "  timeline (3 entries):",
        "       time  event     rv   state  note",
        "    +0.000s  MODIFIED  201  1",
        "    +6.000s  MODIFIED  204  2      change 1: 1 → 2",
        "    +8.000s  MODIFIED  205  3      change 2: 2 → 3; failed here",
        "  events: none recorded",
    ]
    assert isinstance(error_for(report), CountMismatchError)


def test_long_timelines_are_cut_but_keep_marked_rows() -> None:
    """A table longer than max_rows keeps its head, its tail and the rows with notes."""
    rec = Recorder(clock=None)
    matcher = Matcher(field("s"), in_order("mark"))
    for i in range(200):
        value = "mark" if i == 100 else f"v{i % 2}"
        meta = {"name": "p", "uid": "u", "resourceVersion": str(i)}
        matcher.feed(rec.add_observation("MODIFIED", {"kind": "Pod", "metadata": meta, "s": value}))
    text = object_report(rec.timeline_of("u"), matcher).to_text(max_rows=10)
    table = text.split("timeline (200 entries):\n")[1].split("\n  events")[0].splitlines()
    assert [line.split()[2] if "omitted" not in line else line.strip() for line in table] == [
        "rv",
        "0",
        "1",
        "… 98 rows omitted …",
        "100",
        "… 94 rows omitted …",
        "195",
        "196",
        "197",
        "198",
        "199",
    ]
    assert "step 1: 'mark'; matched here" in table[4]


def test_secret_values_are_redacted() -> None:
    """A Secret's data, stringData and last-applied annotation never reach the report."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "uid": "s1",
            "resourceVersion": "7",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":...}'},
            "managedFields": [{"manager": "kubectl"}],
        },
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"user": "admin"},
        "type": "Opaque",
    }
    rec = Recorder(clock=None)
    matcher = Matcher(field("type"), never("Opaque"))
    matcher.feed(rec.add_observation("ADDED", secret))
    report = object_report(rec.timeline_of("s1"), matcher)
    text = report.to_text()
    assert "aHVudGVyMg==" not in text
    assert "admin" not in text
    assert '{"data":...}' not in text
    assert '      password: "<redacted>"' in text.splitlines()
    assert report.to_json()["last_state"]["stringData"] == {"user": "<redacted>"}
    plain = {"kind": "ConfigMap", "data": {"k": "v"}, "metadata": {"managedFields": []}}
    assert redact(plain) == {"kind": "ConfigMap", "data": {"k": "v"}, "metadata": {}}


def test_deleted_and_evicted_rows() -> None:
    """DELETED rows show <deleted>, evicted rows <evicted>; the last state is the newest held."""
    states = [
        {"kind": "Pod", "metadata": {"name": "p", "uid": "u", "resourceVersion": str(i)}, "s": v}
        for i, v in enumerate(["x", "a"])
    ]
    gone = {"kind": "Pod", "metadata": {"name": "p", "uid": "u", "resourceVersion": "9"}, "s": "a"}
    # Room for the last two states: the first loses its bytes when the third arrives.
    rec = Recorder(clock=None, max_bytes=len(json.dumps(states[1])) + len(json.dumps(gone)))
    matcher = Matcher(field("s"), ["a", "b"])
    for obj in states:
        matcher.feed(rec.add_observation("MODIFIED", obj))
    matcher.feed(rec.add_observation("DELETED", gone))
    report = object_report(rec.timeline_of("u"), matcher)
    assert [(r.event, r.state, r.flags) for r in report.rows] == [
        ("MODIFIED", "<evicted>", ("evicted",)),
        ("MODIFIED", "a", ()),
        ("DELETED", "<deleted>", ()),
    ]
    assert report.rows[2].note == "failed here"
    assert report.last_where == "#2 DELETED rv 9"


def test_a_failing_state_function_still_renders() -> None:
    """If the state function raises on an object, the cell says so instead of the report failing."""
    rec = Recorder(clock=None)

    def fragile(obj: dict[str, Any]) -> Any:
        return obj["status"]["phase"]

    rec.add_observation("ADDED", {"kind": "Pod", "metadata": {"uid": "u"}})
    report = object_report(rec.timeline_of("u"), Matcher(fragile, ["y"]))
    assert report.rows[0].state == "<error: 'status'>"


def test_event_rows_read_both_event_apis() -> None:
    """core/v1 and events.k8s.io/v1 shapes give the same row fields."""
    core = EventRow.of({"reason": "Killing", "type": "Normal", "count": 1, "message": "Stopping "})
    new = EventRow.of(
        {
            "reason": "BackOff",
            "type": "Warning",
            "note": "Back-off restarting failed container",
            "series": {"count": 4, "lastObservedTime": "2025-01-01T00:01:00.000000Z"},
        }
    )
    assert (core.message, core.count, core.time) == ("Stopping", 1, "")
    assert (new.message, new.count, new.time) == (
        "Back-off restarting failed container",
        4,
        "2025-01-01T00:01:00.000000Z",
    )


def test_format_value_and_yamlish() -> None:
    """Cells are short and unambiguous; the YAML-like dump quotes what would read wrongly."""
    assert format_value(DELETED) == "<deleted>"
    assert format_value(value=True) == "True"
    assert format_value("x" * 100, width=10) == "xxxxxxxxx…"
    assert to_yamlish(
        {"a": "true", "b": "", "c": "10", "d": "key: value", "e": [], "f": None, "g": [[1]]}
    ) == [
        'a: "true"',
        'b: ""',
        'c: "10"',
        'd: "key: value"',
        "e: []",
        "f: null",
        "g:",
        "- - 1",
    ]


# ---------------------------------------------------------------- exceptions


def test_exception_message_is_the_report() -> None:
    """str(error) is the rendered report; the report stays available for artifacts."""
    report = kubevirt_report()
    err = error_for(report)
    assert isinstance(err, UndecidableError)
    assert isinstance(err, ExpectationError)
    assert isinstance(err, KwaitError)
    assert str(err) == KUBEVIRT_TEXT
    assert err.report is report
    assert err.args == ("kubevirt/virt-launcher-vm: transitions not seen within 30s",)


def test_exception_survives_pickling() -> None:
    """The error pickles with its report, as runners that ship failures between processes need."""
    err = error_for(cnpg_report())
    again = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own object
    assert type(again) is CountMismatchError
    assert str(again) == str(err)


def report_with(status_items: list[str], kind: Any = "transitions") -> Report:
    """Return a report whose objects ended with the given matcher verdicts."""
    objects = []
    for i, how in enumerate(status_items):
        rec = Recorder(clock=None)
        matcher = Matcher(field("s"), in_order(never("bad"), "good"))
        for value in {"impossible": ["bad"], "unmet": ["meh"], "undecidable": ["meh", "GAP"]}[how]:
            if value == "GAP":
                matcher.feed(rec.add_gap("1", "5", "too old resource version", rec.identities()))
                continue
            meta = {"name": f"p{i}", "uid": f"u{i}", "resourceVersion": "1"}
            matcher.feed(
                rec.add_observation("MODIFIED", {"kind": "Pod", "metadata": meta, "s": value})
            )
        matcher.close()
        assert matcher.outcome.status.value == how
        objects.append(object_report(rec.timeline_of(f"u{i}"), matcher))
    return Report(kind, "summary", tuple(objects))


@pytest.mark.parametrize(
    ("statuses", "kind", "cls"),
    [
        (["impossible"], "transitions", TransitionMismatchError),
        (["unmet"], "transitions", WaitTimeoutError),
        (["unmet"], "wait", WaitTimeoutError),
        (["impossible"], "never", NeverViolatedError),
        (["impossible"], "count", CountMismatchError),
        (["undecidable"], "transitions", UndecidableError),
        (["undecidable", "impossible"], "transitions", TransitionMismatchError),
        (["undecidable", "unmet"], "wait", WaitTimeoutError),
    ],
)
def test_error_class_follows_kind_and_verdicts(
    statuses: list[str], kind: Any, cls: type[ExpectationError]
) -> None:
    """A definite failure picks the class by kind; only all-undecidable reports are undecidable."""
    assert type(error_for(report_with(statuses, kind))) is cls


def test_timeouts_are_timeout_errors() -> None:
    """Code that catches TimeoutError also catches kwait's wait timeouts."""
    with pytest.raises(TimeoutError):
        raise error_for(report_with(["unmet"], "wait"))


def test_reports_with_many_objects_are_bounded() -> None:
    """Only the first objects are rendered as text; all of them are in the JSON."""
    report = report_with(["unmet"] * 7)
    text = report.to_text(max_objects=2)
    assert text.count("unmet: the window closed") == 2
    assert text.endswith("… 5 more objects in to_json()")
    assert len(report.to_json()["objects"]) == 7
