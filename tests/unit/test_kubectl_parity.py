"""kubectl's own wait tests (``pkg/cmd/wait/wait_test.go``), replayed on kwait.

Each case names the kubectl test it replays. kwait agrees with kubectl on all
of them except the differences listed in docs/kubectl-differences.md, which
are asserted here too, so that a change in either shows up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

import kwait
from kwait import errors, states
from kwait.testing import Fail, FakeClock, Hang, Pause, ScriptedSource, ScriptStep, event

# The pod of kubectl's wait_test.go (the fields its cases read).
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "foo-b6699dcfb-rnv7t",
        "namespace": "default",
        "resourceVersion": "14203463",
        "uid": "e2cc99fa-5a28-44da-b880-4dded28882ef",
    },
    "spec": {
        "containers": [{"image": "nginx", "name": "nginx", "ports": [{"containerPort": 80}]}],
        "nodeName": "knode0",
    },
    "status": {
        "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
            {"type": "ContainersReady", "status": "True"},
            {"type": "PodScheduled", "status": "True"},
        ],
        "containerStatuses": [{"name": "nginx", "ready": True, "restartCount": 0}],
        "phase": "Running",
    },
}


# ---------------------------------------------------------------- TestConditionFuncFor

ACCEPTED = [
    "jsonpath={.metadata.name}",
    "jsonpath=abc",
    "jsonpath={.metadata.name}=foo-b6699dcfb-rnv7t",
    "jsonpath=.metadata.name=foo-b6699dcfb-rnv7t",
    'jsonpath={.status.containerStatuses[?(@.name=="foo")].ready}=True',
    'jsonpath=status.conditions[?(@.type=="Available")].status=True',
    'jsonpath={.status.containerStatuses[?(@.name=="foo")].ready}',
    'jsonpath=.status.containerStatuses[?(@.name=="foo")].ready',
    "delete",
    "condition=hello",
]

REFUSED = [
    ("jsonpath=", "jsonpath expression cannot be empty"),
    (
        "jsonpath={.metadata.name}='test=wrong'",
        (
            "jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or "
            "--for=jsonpath='{.status.readyReplicas}'"
        ),
    ),
    ("jsonpath={.metadata.name}=", "jsonpath wait has to have a value after equal sign"),
    (
        'jsonpath={.status.conditions[?(@.type=="Failed"||@.type=="Complete")].status}=True',
        "unrecognized character in action: U+007C '|'",
    ),
    (
        "jsonpath={=True",
        (
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
            "'{name1.name2}' or '{.name1.name2}'"
        ),
    ),
    ("cond=invalid", 'unrecognized condition: "cond=invalid"'),
]


@pytest.mark.parametrize("spec", ACCEPTED)
def test_condition_forms_kubectl_accepts_parse(spec: str) -> None:
    """TestConditionFuncFor: every form kubectl accepts parses into a predicate."""
    assert isinstance(states.parse_for(spec), states.Predicate)


@pytest.mark.parametrize(("spec", "message"), REFUSED)
def test_condition_forms_kubectl_refuses_fail_with_its_words(spec: str, message: str) -> None:
    """TestConditionFuncFor: what kubectl refuses, kwait refuses with kubectl's message."""
    with pytest.raises(ValueError, match=re.escape(message)):
        states.parse_for(spec)


def test_a_status_no_condition_can_have_is_a_documented_difference() -> None:
    """TestConditionFuncFor "condition with value" (``condition=hello=world``) parses in kubectl.

    kwait refuses it: a condition's status is True, False or Unknown, so the wait
    could only time out (docs/kubectl-differences.md).
    """
    with pytest.raises(ValueError, match="can never match"):
        states.parse_for("condition=hello=world")


# ---------------------------------------------------------------- TestWaitForDifferent...Expression

JSONPATH_CASES = [
    ("{.foo.bar}", "baz", False),
    ("{.status.containerStatuses[0].ready}", "true", True),
    ("{.status.containerStatuses[0].ready}", "false", False),
    ("{.spec.containers[0].ports[0].containerPort}", "80", True),
    ("{.spec.containers[0].ports[0].containerPort}", "81", False),
    ("{.spec.nodeName}", "knode0", True),
    ("{.spec.nodeName}", "kmaster", False),
]


@pytest.mark.parametrize(("expr", "value", "met"), JSONPATH_CASES)
def test_jsonpath_comparisons_agree(expr: str, value: str, met: bool) -> None:  # noqa: FBT001
    """TestWaitForDifferentJSONPathExpression: the same values are met, the same are not."""
    assert states.jsonpath(expr, value)(POD) is met


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("{.status.conditions[*]}", "given jsonpath expression matches more than one value"),
        (
            "{.status.conditions}",
            "jsonpath leads to a nested object or list which is not supported",
        ),
        ("{.spec}", "jsonpath leads to a nested object or list which is not supported"),
    ],
)
def test_jsonpath_errors_agree(expr: str, message: str) -> None:
    """TestWaitForDifferentJSONPathExpression: unsupported results fail with kubectl's words."""
    with pytest.raises(errors.JSONPathError, match=message):
        states.jsonpath(expr, "True")(POD)


# ---------------------------------------------------------------- TestWaitForCondition / Deletion


def obj(rv: int, *, uid: str = "some-UID-value", **conditions: str) -> dict[str, Any]:
    """Kubectl's ``newUnstructured`` in ns-foo, with ``addCondition`` conditions."""
    return {
        "apiVersion": "group/version",
        "kind": "TheKind",
        "metadata": {
            "namespace": "ns-foo",
            "name": "name-foo",
            "uid": uid,
            "resourceVersion": str(rv),
        },
        "status": {"conditions": [{"type": t, "status": s} for t, s in conditions.items()]},
    }


@pytest.fixture
def clock() -> FakeClock:
    """Fake time that jumps: kubectl's 1-10 s timeouts take no real time."""
    return FakeClock(autojump=True)


@pytest.fixture
def tracker_for(clock: FakeClock) -> Iterator[Any]:
    """Start a tracker of name-foo over a scripted LIST and WATCH."""
    started: list[kwait.Tracker] = []

    def start(listed: list[dict[str, Any]], *steps: ScriptStep, **options: Any) -> kwait.Tracker:
        source = ScriptedSource(clock, "theresource in namespace 'ns-foo'")
        source.add_list(listed, "10")
        source.add_watch(*steps, Hang())
        tracker = kwait.Tracker(source=source, clock=clock, name="name-foo", **options)
        started.append(tracker.start())
        return tracker

    yield start
    for tracker in started:
        tracker.stop()


def test_present_on_list(tracker_for: Any) -> None:
    """TestWaitForCondition "present on get": a condition already met passes at once."""
    tracker = tracker_for([obj(1, **{"the-condition": "True"})])
    assert len(tracker.wait_for("condition=the-condition", timeout=10)) == 1


def test_empty_object_name_is_refused() -> None:
    """TestWaitForCondition "handles empty object name": refused, in kubectl's words."""
    with pytest.raises(ValueError, match="resource name must be provided"):
        kwait.Tracker("pods", "")


def test_times_out_on_another_condition(tracker_for: Any) -> None:
    """TestWaitForCondition "times out": only another condition is there."""
    tracker = tracker_for([obj(1, **{"some-other-condition": "True"})])
    with pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for("condition=the-condition", timeout=1)


def test_timeout_zero_checks_once(tracker_for: Any) -> None:
    """TestWaitForCondition "for existing resource with no timeout": fails at once."""
    tracker = tracker_for([obj(1)])
    with pytest.raises(kwait.WaitTimeoutError, match="within 0 s"):
        tracker.wait_for("condition=the-condition", timeout=0)


def test_watch_condition_change(tracker_for: Any) -> None:
    """TestWaitForCondition "handles watch condition change": met by a later event."""
    tracker = tracker_for([obj(1)], event("MODIFIED", obj(2, **{"the-condition": "True"})))
    timelines = tracker.wait_for("condition=the-condition", timeout=10)
    assert timelines[0].observations[-1].resource_version == "2"


def test_stale_observed_generation_times_out(tracker_for: Any) -> None:
    """TestWaitForCondition "times out due to stale ...observedGeneration"."""
    stale = obj(1)
    stale["metadata"]["generation"] = 2
    stale["status"]["conditions"] = [
        {"type": "the-condition", "status": "True", "observedGeneration": 1}
    ]
    tracker = tracker_for([stale])
    with pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for("condition=the-condition", timeout=1)


def test_watch_error_is_survived(clock: FakeClock) -> None:
    """TestWaitForCondition "ignores watch error": a 500 on the watch, then the change."""
    source = ScriptedSource(clock, "theresource in namespace 'ns-foo'")
    source.add_list([obj(1)], "10")
    source.add_watch(Pause(1), Fail(errors.ApiTransientError(500, "InternalError", "Bad")))
    source.add_watch(event("MODIFIED", obj(2, **{"the-condition": "True"})), Hang())
    with kwait.Tracker(source=source, clock=clock, name="name-foo") as tracker:
        assert len(tracker.wait_for("condition=the-condition", timeout=10)) == 1


def test_delete_of_nothing_succeeds(tracker_for: Any) -> None:
    """TestWaitForDeletion "handles no infos" / kubectl's delete of a missing object."""
    tracker = tracker_for([])
    assert tracker.wait_for("delete", timeout=0) == []


def test_delete_by_uid_ignores_a_replacement(clock: FakeClock) -> None:
    """TestWaitForDeletion "uid conflict on get": a replacement under the name is not it."""
    source = ScriptedSource(clock, "theresource in namespace 'ns-foo'")
    source.add_list([obj(3, uid="the-new-one")], "10")
    source.add_watch(Hang())
    manifest = obj(1, uid="the-old-one")
    with kwait.Tracker(manifest, source=source, clock=clock) as tracker:
        assert tracker.wait_for("delete", timeout=10) == []


def test_delete_watch(tracker_for: Any) -> None:
    """TestWaitForDeletion "handles watch delete": the DELETED event ends the wait."""
    tracker = tracker_for([obj(1)], Pause(1), event("DELETED", obj(2)))
    timelines = tracker.wait_for("delete", timeout=10)
    assert timelines[0].deleted


# ---------------------------------------------------------------- several --for flags


def test_several_for_flags_are_waited_for_in_turn(tracker_for: Any) -> None:
    """``--for=condition=Ready=false --for=condition=Ready`` succeeds, as in kubectl."""
    tracker = tracker_for(
        [obj(1, Ready="True")],
        Pause(1),
        event("MODIFIED", obj(2, Ready="False")),
        Pause(1),
        event("MODIFIED", obj(3, Ready="True")),
    )
    timelines = tracker.wait_for(["condition=Ready=false", "condition=Ready"], timeout=10)
    assert timelines[0].observations[-1].resource_version == "3"


def test_together_is_the_other_named_choice(tracker_for: Any) -> None:
    """``order="together"`` asks for all at once: contradictory conditions never hold."""
    tracker = tracker_for(
        [obj(1, Ready="True")], Pause(1), event("MODIFIED", obj(2, Ready="False"))
    )
    with pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for(["condition=Ready=false", "condition=Ready"], order="together", timeout=5)


def test_predicates_in_a_list_hold_together_by_default(tracker_for: Any) -> None:
    """A list of predicates (not kubectl strings) keeps meaning "all at once"."""
    tracker = tracker_for([obj(1, Ready="True", Synced="True")])
    ready, synced = states.condition("Ready"), states.condition("Synced")
    assert len(tracker.wait_for([ready, synced], timeout=0)) == 1


# ---------------------------------------------------------------- following a replacement


def test_a_replaced_object_fails_the_wait_by_default(tracker_for: Any) -> None:
    """Kwait's default: the object asked about was deleted, so its condition never came."""
    tracker = tracker_for(
        [obj(1, Ready="False")],
        Pause(1),
        event("DELETED", obj(2, Ready="False")),
        event("ADDED", obj(3, uid="second", Ready="True")),
    )
    with pytest.raises(errors.TransitionMismatchError):
        tracker.wait_for("condition=Ready", timeout=10)


def test_follow_replacement_follows_the_name(tracker_for: Any) -> None:
    """``follow_replacement=True``: as kubectl, the wait goes on with the replacement."""
    tracker = tracker_for(
        [obj(1, Ready="False")],
        Pause(1),
        event("DELETED", obj(2, Ready="False")),
        Pause(1),
        event("ADDED", obj(3, uid="second", Ready="False")),
        Pause(1),
        event("MODIFIED", obj(4, uid="second", Ready="True")),
    )
    timelines = tracker.wait_for("condition=Ready", timeout=10, follow_replacement=True)
    assert timelines[0].identity.uid == "second"


def test_no_matching_objects_is_an_error(clock: FakeClock) -> None:
    """TestWaitForCondition "handles no infos": nothing matches the selector: an error."""
    source = ScriptedSource(clock, "theresource in namespace 'ns-foo' with labelSelector 'a=b'")
    source.add_list([], "10")
    source.add_watch(Hang())
    with (
        kwait.Tracker(source=source, clock=clock) as tracker,
        pytest.raises(kwait.KwaitError, match="no object matches"),
    ):
        tracker.wait_for("condition=Ready", timeout=1)


def test_delete_times_out_while_the_object_stays(tracker_for: Any) -> None:
    """TestWaitForDeletion "times out": the object is still there at the deadline."""
    tracker = tracker_for([obj(1)])
    with pytest.raises(kwait.WaitTimeoutError, match="did not become deleted"):
        tracker.wait_for("delete", timeout=1)


def test_delete_of_several_objects(clock: FakeClock) -> None:
    """TestWaitForDeletion "handles watch delete multiple": every target must go."""
    first, second = obj(1), obj(2, uid="other")
    second["metadata"]["name"] = "name-foo-2"
    source = ScriptedSource(clock, "theresource in namespace 'ns-foo' with labelSelector 'a=b'")
    source.add_list([first, second], "10")
    source.add_watch(
        Pause(1), event("DELETED", obj(3)), Pause(1), event("DELETED", {**second}), Hang()
    )
    with kwait.Tracker(source=source, clock=clock) as tracker:
        timelines = tracker.wait_for("delete", timeout=10)
    assert sorted(t.identity.name for t in timelines) == ["name-foo", "name-foo-2"]
    assert all(t.deleted for t in timelines)
