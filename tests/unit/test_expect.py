"""The headline API on scripted timelines: passes at once, fails fast, explains itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import kwait
from kwait.testing import Expire, FakeClock, Hang, Pause, ScriptedSource, ScriptStep, event
from kwait.watch import RawEvent


def pod(
    rv: int,
    *,
    name: str = "vm",
    uid: str = "u-1",
    reason: str | None = None,
    ready: bool = False,
    generation: int = 1,
    phase: str = "Pending",
) -> dict[str, Any]:
    """A raw pod whose only container waits with `reason` (or runs), Ready as given."""
    state: dict[str, Any] = {"waiting": {"reason": reason}} if reason else {"running": {}}
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": "ci",
            "uid": uid,
            "resourceVersion": str(rv),
            "generation": generation,
        },
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {"name": "app", "state": state, "ready": ready, "restartCount": 0}
            ],
        },
    }


def modified(obj: dict[str, Any]) -> RawEvent:
    """A MODIFIED event for `obj`."""
    return event("MODIFIED", obj)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock that jumps when every participating thread waits on it."""
    return FakeClock(autojump=True)


@pytest.fixture
def tracker_for(clock: FakeClock) -> Iterator[Any]:
    """Start a tracker over a scripted LIST and WATCH; stop it after the test."""
    started: list[kwait.Tracker] = []

    def start(
        listed: list[dict[str, Any]], *steps: ScriptStep, name: str | None = "vm"
    ) -> kwait.Tracker:
        source = ScriptedSource(clock, "pods in namespace 'ci'")
        source.add_list(listed, "10")
        source.add_watch(*steps, Hang())
        tracker = kwait.Tracker(source=source, clock=clock, name=name).start()
        started.append(tracker)
        return tracker

    yield start
    for tracker in started:
        tracker.stop()


def test_kubevirt_cycle_is_matched_even_at_zero_delay(tracker_for: Any, clock: FakeClock) -> None:
    """ErrImagePull ⇄ ImagePullBackOff with no time between states matches, at once."""
    reasons = ["ContainerCreating", "ErrImagePull", "ImagePullBackOff"] * 2 + ["ErrImagePull"]
    tracker = tracker_for(
        [],
        event("ADDED", pod(11, reason=reasons[0])),
        *(modified(pod(12 + i, reason=r)) for i, r in enumerate(reasons[1:])),
    )
    start = clock.monotonic()
    timeline = tracker.expect_transitions(
        kwait.states.waiting_reason(),
        ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"],
        timeout=300,
    )
    assert clock.monotonic() == start
    assert len(timeline.observations) >= 5


def test_deletion_fails_the_pattern_at_once_not_at_the_timeout(
    tracker_for: Any, clock: FakeClock
) -> None:
    """A deleted object cannot go on: TransitionMismatchError on the DELETED event."""
    tracker = tracker_for(
        [pod(5, reason="ErrImagePull")],
        Pause(3),
        event("DELETED", pod(11, reason="ErrImagePull")),
    )
    with pytest.raises(kwait.errors.TransitionMismatchError) as err:
        tracker.expect_transitions(
            kwait.states.waiting_reason(), ["ErrImagePull", "ImagePullBackOff"], timeout=300
        )
    assert clock.monotonic() == pytest.approx(3.0)
    text = str(err.value)
    assert "pod/ci/vm" in text
    assert "DELETED" in text


def test_timeout_reports_the_timeline_and_what_was_awaited(
    tracker_for: Any, clock: FakeClock
) -> None:
    """At the deadline the error carries the states seen and the step it waited for."""
    tracker = tracker_for([], event("ADDED", pod(11, reason="ContainerCreating")))
    with pytest.raises(kwait.WaitTimeoutError) as err:
        tracker.expect_transitions(kwait.states.waiting_reason(), ["ErrImagePull"], timeout=300)
    assert clock.monotonic() == pytest.approx(300.0)
    report = err.value.report.to_json()
    assert report["kind"] == "transitions"
    [obj] = report["objects"]
    assert [row["state"] for row in obj["timeline"]] == ["ContainerCreating"]
    assert obj["progress"]["waiting_for"] == ["'ErrImagePull'"]
    assert "within 300 s" in str(err.value)


def test_wait_for_condition_counts_the_current_state(tracker_for: Any, clock: FakeClock) -> None:
    """An object already Ready satisfies condition=Ready without waiting."""
    tracker = tracker_for([pod(5, ready=True, phase="Running")])
    [timeline] = tracker.wait_for("condition=Ready", timeout=30)
    assert timeline.identity.name == "vm"
    assert clock.monotonic() == 0.0


def test_wait_for_a_name_that_does_not_exist_yet(tracker_for: Any, clock: FakeClock) -> None:
    """A named object created later is waited for, then its condition."""
    tracker = tracker_for(
        [],
        Pause(2),
        event("ADDED", pod(11, reason="ContainerCreating")),
        Pause(5),
        modified(pod(12, ready=True, phase="Running")),
    )
    tracker.wait_for(["create", "jsonpath={.status.phase}=Running"], timeout=30)
    assert clock.monotonic() == pytest.approx(7.0)


def test_wait_for_delete_is_uid_aware(tracker_for: Any) -> None:
    """Deleted then recreated under the same name: the delete wait succeeds on the delete."""
    tracker = tracker_for(
        [pod(5, uid="old")],
        Pause(1),
        event("DELETED", pod(11, uid="old")),
        event("ADDED", pod(12, uid="new")),
    )
    [timeline] = tracker.wait_for("delete", timeout=30)
    assert timeline.identity.uid == "old"
    assert timeline.deleted


def test_wait_for_delete_of_a_missing_object_succeeds_at_once(tracker_for: Any) -> None:
    """Nothing to delete means the delete wait is already satisfied (kubectl does the same)."""
    tracker = tracker_for([])
    assert tracker.wait_for("delete", timeout=0) == []


def test_timeout_zero_checks_once(tracker_for: Any, clock: FakeClock) -> None:
    """timeout=0 looks at the current state only and fails at once if it does not hold."""
    tracker = tracker_for([pod(5)], Pause(1), modified(pod(11, ready=True)))
    with pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for("condition=Ready", timeout=0)
    assert clock.monotonic() == 0.0


def test_a_shared_deadline_spans_several_waits(tracker_for: Any, clock: FakeClock) -> None:
    """Two waits given one Deadline spend one budget: the second gets what is left."""
    tracker = tracker_for(
        [pod(5)], Pause(20), modified(pod(11, ready=True, phase="Running")), Pause(100)
    )
    budget = kwait.Deadline.after(30, clock=clock)
    tracker.wait_for("condition=Ready", timeout=budget)
    with pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for("jsonpath={.status.phase}=Succeeded", timeout=budget)
    assert clock.monotonic() == pytest.approx(30.0)


def test_never_fails_on_the_first_violating_event(tracker_for: Any, clock: FakeClock) -> None:
    """A never-assertion fails when the state appears (t=4), not when the window ends."""
    tracker = tracker_for(
        [pod(5, reason="ContainerCreating")],
        Pause(4),
        modified(pod(11, reason="CrashLoopBackOff")),
        Pause(1),
        modified(pod(12, reason="ContainerCreating")),
    )
    with pytest.raises(kwait.errors.NeverViolatedError) as err:
        tracker.expect_never(kwait.states.waiting_reason().equals("CrashLoopBackOff"), during=60)
    assert clock.monotonic() == pytest.approx(4.0)
    assert "CrashLoopBackOff" in str(err.value)


def test_consistently_passes_when_the_window_ends(tracker_for: Any, clock: FakeClock) -> None:
    """A condition that holds throughout the window passes exactly at its end."""
    tracker = tracker_for(
        [pod(5, ready=True, phase="Running")], Pause(10), modified(pod(11, ready=True))
    )
    tracker.expect_consistently("condition=Ready", during=30)
    assert clock.monotonic() == pytest.approx(30.0)


def test_consistently_is_broken_by_deletion(tracker_for: Any) -> None:
    """An object deleted inside the window no longer satisfies anything."""
    tracker = tracker_for([pod(5, ready=True)], Pause(3), event("DELETED", pod(11, ready=True)))
    with pytest.raises(kwait.errors.NeverViolatedError):
        tracker.expect_consistently("condition=Ready", during=30)


def test_each_pod_updated_exactly_once(tracker_for: Any) -> None:
    """CloudNativePG's case: generation bumps counted per pod; a double update is caught."""
    pods = [pod(5, name=f"db-{i}", uid=f"u{i}") for i in (1, 2, 3)]
    steps: list[ScriptStep] = [
        modified(pod(20 + i, name=f"db-{i}", uid=f"u{i}", generation=2)) for i in (1, 2, 3)
    ]
    ok = tracker_for(pods, *steps, name=None)
    ok.wait_for("jsonpath={.metadata.generation}=2", name="db-3", timeout=10)
    counts = ok.expect_count(kwait.Changes.generation(), exactly=1, sync=False)
    assert sorted(counts.values()) == [1, 1, 1]

    twice = [*steps, modified(pod(30, name="db-2", uid="u2", generation=3))]
    bad = tracker_for(pods, *twice, name=None)
    bad.wait_for("jsonpath={.metadata.generation}=3", name="db-2", timeout=10)
    with pytest.raises(kwait.errors.CountMismatchError) as err:
        bad.expect_count(kwait.Changes.generation(), exactly=1, sync=False)
    text = str(err.value)
    assert "pod/ci/db-2" in text
    assert "rv 21" in text or "21" in text
    assert "30" in text


def test_an_answer_inside_a_gap_is_undecidable(clock: FakeClock) -> None:
    """States lost to a 410 that the pattern needs make the result undecidable, not wrong."""
    source = ScriptedSource(clock, "pods in namespace 'ci'")
    source.add_list([pod(5, reason="ContainerCreating")], "10")
    source.add_watch(Expire())
    source.add_list([pod(40, reason="ImagePullBackOff")], "40")
    tracker = kwait.Tracker(source=source, clock=clock, name="vm")
    with tracker, pytest.raises(kwait.errors.UndecidableError) as err:
        tracker.expect_transitions(
            kwait.states.waiting_reason(), ["ErrImagePull", "ImagePullBackOff"], timeout=60
        )
    assert "10" in str(err.value)
    assert "40" in str(err.value)


def test_one_call_form_starts_tracking_before_acting(clock: FakeClock) -> None:
    """kwait.expect_transitions(source=..., act=...) tracks first, then acts, then matches."""
    source = ScriptedSource(clock, "pods")
    source.add_list([], "1")
    source.add_watch(
        Pause(1),
        event("ADDED", pod(2, reason="ErrImagePull")),
        modified(pod(3, reason="ImagePullBackOff")),
        Hang(),
    )
    acted: list[list[tuple[str, str]]] = []

    timeline = kwait.expect_transitions(
        None,
        "vm",
        state=kwait.states.waiting_reason(),
        pattern=kwait.consecutive("ErrImagePull", "ImagePullBackOff"),
        act=lambda: acted.append(list(source.calls)),
        source=source,
        clock=clock,
    )
    assert acted[0][0] == ("LIST", "")
    assert [o.resource_version for o in timeline.observations] == ["2", "3"]


def test_tracker_options_cannot_be_given_with_a_running_tracker(tracker_for: Any) -> None:
    """Options that would configure a new tracker are refused with a running one."""
    tracker = tracker_for([])
    with pytest.raises(TypeError, match="namespace"):
        kwait.wait_for(tracker, until="delete", namespace="other")


def test_one_call_delete_wait_fixes_its_target_before_acting(clock: FakeClock) -> None:
    """The object present when tracking starts is the target, even if act recreates the name."""
    source = ScriptedSource(clock, "pods")
    source.add_list([pod(5, uid="old")], "10")
    source.add_watch(
        Pause(1),
        event("DELETED", pod(11, uid="old")),
        event("ADDED", pod(12, uid="new")),
        Hang(),
    )
    [timeline] = kwait.wait_for(
        None, "vm", until="delete", act=lambda: None, source=source, clock=clock, timeout=30
    )
    assert timeline.identity.uid == "old"
    assert clock.monotonic() == pytest.approx(1.0)
