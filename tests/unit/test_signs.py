"""Failure signs on scripted timelines: each sign stops a wait on the observation that shows it.

Every sign of `kwait.signs` has a test here: the wait stops at the sign's observation (not
at the timeout), the error names the sign, its resourceVersion and the time saved, and a
state that is merely close to the sign does not stop it.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kwait
from kwait import signs
from kwait.testing import FakeClock, Hang, Pause, ScriptedSource, ScriptStep, event
from kwait.watch import RawEvent

TIMEOUT = 120.0


def obj(kind: str, rv: int, status: dict[str, Any], *, uid: str = "u-1") -> dict[str, Any]:
    """A raw object of `kind` named ``web`` in ``ci`` with the given status."""
    return {
        "kind": kind,
        "apiVersion": "v1",
        "metadata": {"name": "web", "namespace": "ci", "uid": uid, "resourceVersion": str(rv)},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
        "status": copy.deepcopy(status),
    }


def container(
    *,
    waiting: str | None = None,
    message: str | None = None,
    restarts: int = 0,
    terminated: str | None = None,
    last: str | None = None,
) -> dict[str, Any]:
    """One container status named ``app``."""
    state: dict[str, Any]
    if waiting:
        state = {"waiting": {"reason": waiting, **({"message": message} if message else {})}}
    elif terminated:
        state = {"terminated": {"reason": terminated, "exitCode": 137}}
    else:
        state = {"running": {}}
    status: dict[str, Any] = {"name": "app", "state": state, "restartCount": restarts}
    if last:
        status["lastState"] = {"terminated": {"reason": last, "exitCode": 137}}
    return status


def pod(rv: int, *, phase: str = "Pending", ready: bool = False, **c: Any) -> dict[str, Any]:
    """A pod with one container (see `container`) and a Ready condition."""
    return obj(
        "Pod",
        rv,
        {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [container(**c)],
        },
    )


def mod(o: dict[str, Any]) -> RawEvent:
    """A MODIFIED event."""
    return event("MODIFIED", o)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock that jumps when every participant waits."""
    return FakeClock(autojump=True)


@pytest.fixture
def tracker_for(clock: FakeClock) -> Iterator[Any]:
    """Start a tracker over a scripted LIST and WATCH; stop it after the test."""
    started: list[kwait.Tracker] = []

    def start(listed: list[dict[str, Any]], *steps: ScriptStep) -> kwait.Tracker:
        source = ScriptedSource(clock, "objects in namespace 'ci'")
        source.add_list(listed, "10")
        source.add_watch(*steps, Hang())
        tracker = kwait.Tracker(source=source, clock=clock, name="web").start()
        started.append(tracker)
        return tracker

    yield start
    for tracker in started:
        tracker.stop()


def stops(tracker: kwait.Tracker, clock: FakeClock, **wait: Any) -> kwait.errors.FailureSignError:
    """Run a Ready wait that must stop on a failure sign; return the error."""
    until = wait.pop("until", "condition=Ready")
    with pytest.raises(kwait.errors.FailureSignError) as err:
        tracker.wait_for(until, timeout=TIMEOUT, **wait)
    assert clock.monotonic() < TIMEOUT, "stopped at the timeout, not at the sign"
    return err.value


# ---------------------------------------------------------------- Job


def job(rv: int, *conditions: str) -> dict[str, Any]:
    """A Job with the given True conditions (BackoffLimitExceeded for failures)."""
    return obj(
        "Job",
        rv,
        {
            "conditions": [
                {
                    "type": c,
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                }
                for c in conditions
            ]
        },
    )


def test_job_failed_stops_a_complete_wait_at_the_failed_condition(
    tracker_for: Any, clock: FakeClock
) -> None:
    """condition=Complete on a Job that fails: stops at the Failed event, 117 s early."""
    tracker = tracker_for([job(5)], Pause(3), mod(job(11, "Failed")))
    err = stops(tracker, clock, until="condition=Complete", fail_on=signs.job_failed())
    assert clock.monotonic() == pytest.approx(3.0)
    assert err.sign == "job-failed"
    assert err.resource_version == "11"
    assert err.saved == pytest.approx(117.0)
    assert err.report.summary.startswith(
        "job/ci/web (uid u-1): Job condition Failed: BackoffLimitExceeded: "
        "Job has reached the specified backoff limit (rv 11, +3.0 s); stopped 117 s before"
    )


def test_job_failure_target_stops_before_failed(tracker_for: Any, clock: FakeClock) -> None:
    """FailureTarget comes before Failed (1.31+): fail_fast stops on the first of them."""
    tracker = tracker_for([job(5)], Pause(2), mod(job(11, "FailureTarget")), Pause(5))
    err = stops(tracker, clock, until="condition=Complete", fail_fast=True)
    assert err.sign == "job-failure-target"
    assert clock.monotonic() == pytest.approx(2.0)


def test_a_met_condition_wins_over_a_sign_in_the_same_state(tracker_for: Any) -> None:
    """Waiting for Failed itself succeeds on the state that is also the job-failed sign."""
    tracker = tracker_for([job(5, "Failed")])
    [timeline] = tracker.wait_for("condition=Failed", timeout=TIMEOUT, fail_fast=True)
    assert timeline.last is not None
    assert timeline.last.resource_version == "5"


# ---------------------------------------------------------------- pod containers


@pytest.mark.parametrize(
    ("sign", "reason", "message"),
    [
        (
            signs.invalid_image_name(),
            "InvalidImageName",
            'couldn\'t parse image name "app::1": invalid reference format',
        ),
        (
            signs.create_container_config_error(),
            "CreateContainerConfigError",
            'secret "db" not found',
        ),
        (signs.create_container_error(), "CreateContainerError", "context deadline exceeded"),
        (
            signs.err_image_never_pull(),
            "ErrImageNeverPull",
            'Container image "app:1" is not present with pull policy of Never',
        ),
    ],
    ids=lambda v: getattr(v, "name", None) or "",
)
def test_waiting_reasons_stop_a_ready_wait(
    tracker_for: Any, clock: FakeClock, sign: signs.Sign, reason: str, message: str
) -> None:
    """A container waiting with the reason stops the wait at once, quoting the message."""
    tracker = tracker_for(
        [pod(5, waiting="ContainerCreating")],
        Pause(0.8),
        mod(pod(11, waiting=reason, message=message)),
    )
    err = stops(tracker, clock, fail_on=sign)
    assert err.message == f"container app {reason}: {message}"
    assert err.report.summary.startswith(
        f"pod/ci/web (uid u-1): container app {reason}: {message} (rv 11, +0.8 s); "
        "stopped 119.2 s before the timeout"
    )


def test_the_report_puts_the_sign_first_and_marks_its_row(
    tracker_for: Any, clock: FakeClock
) -> None:
    """The object report says which sign failed it, and the table marks that row."""
    tracker = tracker_for(
        [pod(5, waiting="ContainerCreating")],
        mod(pod(11, waiting="CreateContainerConfigError", message='secret "db" not found')),
    )
    err = stops(tracker, clock, fail_on="create-container-config-error")
    text = str(err)
    assert text.splitlines()[0] == err.report.summary
    assert "impossible: failure sign create-container-config-error: container app" in text
    [row] = [line for line in text.splitlines() if "failed here" in line]
    assert " 11 " in row
    assert err.report.to_json()["details"]["sign"] == "create-container-config-error"
    again = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own object
    assert (again.sign, again.resource_version) == ("create-container-config-error", "11")


def test_image_pull_failing_counts_attempts(tracker_for: Any, clock: FakeClock) -> None:
    """The N-th transition into ErrImagePull stops it; the ones before do not."""
    steps: list[ScriptStep] = []
    rv = 11
    for attempt in range(4):
        steps += [Pause(10), mod(pod(rv, waiting="ErrImagePull")), Pause(1)]
        steps += [mod(pod(rv + 1, waiting="ImagePullBackOff"))]
        rv += 2
        del attempt
    tracker = tracker_for([pod(5, waiting="ContainerCreating")], *steps)
    err = stops(tracker, clock, fail_on=signs.image_pull_failing(3))
    assert err.resource_version == "15"  # the third ErrImagePull
    assert clock.monotonic() == pytest.approx(32.0)
    assert "(3 failed pulls)" in err.message


def test_crash_loop_stops_at_the_nth_restart(tracker_for: Any, clock: FakeClock) -> None:
    """CrashLoopBackOff with restartCount < N goes on; the N-th stops it."""
    steps: list[ScriptStep] = []
    for restarts in range(1, 6):
        steps += [
            Pause(5),
            mod(
                pod(10 + 2 * restarts, waiting="CrashLoopBackOff", restarts=restarts, last="Error")
            ),
        ]
        steps += [Pause(5), mod(pod(11 + 2 * restarts, phase="Running", restarts=restarts))]
    tracker = tracker_for([pod(5, phase="Running")], *steps)
    err = stops(tracker, clock, fail_on=signs.crash_loop(restarts=3))
    assert err.resource_version == "16"
    assert err.message == (
        "container app CrashLoopBackOff after 3 restarts, last exit Error (code 137)"
    )


def test_oom_killed_reads_the_last_termination(tracker_for: Any, clock: FakeClock) -> None:
    """An OOMKilled last state stops the wait, even though the container was restarted."""
    tracker = tracker_for(
        [pod(5, phase="Running")],
        Pause(4),
        mod(pod(11, phase="Running", restarts=1, last="OOMKilled")),
    )
    err = stops(tracker, clock, fail_on=signs.oom_killed())
    assert err.message == "container app OOMKilled (exit code 137)"


def test_pod_failed_is_a_fail_fast_default(tracker_for: Any, clock: FakeClock) -> None:
    """Phase Failed stops a Ready wait under fail_fast, with the pod's reason."""
    failed = pod(11, phase="Failed", terminated="Error")
    failed["status"]["reason"] = "Evicted"
    failed["status"]["message"] = "The node was low on resource: memory."
    tracker = tracker_for([pod(5, phase="Running")], Pause(1), mod(failed))
    err = stops(tracker, clock, fail_fast=True)
    assert err.sign == "pod-failed"
    assert err.message == "pod phase Failed: Evicted: The node was low on resource: memory."


def test_completed_without_ready_stops_a_ready_wait(tracker_for: Any, clock: FakeClock) -> None:
    """A pod that completes without being Ready ends a Ready wait (kubectl issue 1451)."""
    tracker = tracker_for(
        [pod(5, waiting="ContainerCreating")],
        Pause(2),
        mod(pod(11, phase="Succeeded", terminated="Completed")),
    )
    err = stops(tracker, clock, fail_fast=True)
    assert err.sign == "completed-without-ready"
    assert clock.monotonic() == pytest.approx(2.0)


def test_completed_after_being_ready_is_not_the_sign(tracker_for: Any, clock: FakeClock) -> None:
    """A pod that was Ready, then completed, does not show completed-without-ready."""
    tracker = tracker_for(
        [pod(5, phase="Running", ready=True)],
        Pause(2),
        mod(pod(11, phase="Succeeded", terminated="Completed")),
    )
    with pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for(
            "jsonpath={.metadata.labels.done}=yes",
            timeout=10,
            fail_on=signs.completed_without_ready(),
        )
    assert clock.monotonic() == pytest.approx(10.0)


def test_unschedulable_fires_after_its_grace_period_without_a_new_event(
    tracker_for: Any, clock: FakeClock
) -> None:
    """PodScheduled=False/Unschedulable: the clock, not an event, ends the grace period."""
    pending = obj(
        "Pod",
        11,
        {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/3 nodes are available: 3 Insufficient cpu.",
                }
            ],
        },
    )
    tracker = tracker_for([obj("Pod", 5, {"phase": "Pending"})], Pause(5), mod(pending))
    err = stops(tracker, clock, fail_on=signs.unschedulable(grace=30))
    assert clock.monotonic() == pytest.approx(35.0)
    assert err.message == "unschedulable for 30.0 s: 0/3 nodes are available: 3 Insufficient cpu."


def test_unschedulable_that_clears_in_its_grace_period_does_not_fire(
    tracker_for: Any, clock: FakeClock
) -> None:
    """Scheduled within the grace period: the wait goes on and succeeds."""
    pending = obj(
        "Pod",
        11,
        {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
        },
    )
    tracker = tracker_for([pending], Pause(20), mod(pod(12, phase="Running", ready=True)))
    tracker.wait_for("condition=Ready", timeout=TIMEOUT, fail_on=signs.unschedulable(grace=30))
    assert clock.monotonic() == pytest.approx(20.0)


def deployment(rv: int, reason: str) -> dict[str, Any]:
    """A Deployment whose Progressing condition has `reason`."""
    return obj(
        "Deployment",
        rv,
        {
            "conditions": [
                {
                    "type": "Progressing",
                    "status": "False" if reason == "ProgressDeadlineExceeded" else "True",
                    "reason": reason,
                    "message": 'ReplicaSet "web-5d8f" has timed out progressing.',
                }
            ]
        },
    )


def test_progress_deadline_exceeded_stops_an_available_wait(
    tracker_for: Any, clock: FakeClock
) -> None:
    """condition=Available on a Deployment past its progress deadline stops there."""
    tracker = tracker_for(
        [deployment(5, "ReplicaSetUpdated")],
        Pause(6),
        mod(deployment(11, "ProgressDeadlineExceeded")),
    )
    err = stops(
        tracker, clock, until="condition=Available", fail_on=signs.progress_deadline_exceeded()
    )
    assert err.message == (
        'Deployment ProgressDeadlineExceeded: ReplicaSet "web-5d8f" has timed out progressing.'
    )


class EventsTracker(kwait.Tracker):
    """A scripted tracker whose object has Events: one answer per listing, the last repeated."""

    answers: list[list[dict[str, Any]]]
    fetches: list[float]

    def events_for(self, identity: kwait.Identity) -> list[dict[str, Any]]:
        """The next answer, recording when the Events were listed."""
        self.fetches.append(self.clock.monotonic())
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [e for e in answer if e["involvedObject"]["uid"] == identity.uid]


def provisioning_failed_event(count: int) -> dict[str, Any]:
    """A ProvisioningFailed Event about the claim, seen `count` times."""
    return {
        "involvedObject": {"uid": "u-1"},
        "reason": "ProvisioningFailed",
        "type": "Warning",
        "count": count,
        "message": 'storageclass.storage.k8s.io "fast" not found',
    }


def test_provisioning_failed_reads_events_while_the_claim_is_pending(clock: FakeClock) -> None:
    """Events are listed when the claim is seen, then every `every` s; N failures stop it."""
    source = ScriptedSource(clock, "persistentvolumeclaims in namespace 'ci'")
    source.add_list([obj("PersistentVolumeClaim", 5, {"phase": "Pending"})], "10")
    source.add_watch(Hang())
    tracker = EventsTracker(source=source, clock=clock, name="web")
    tracker.answers = [[provisioning_failed_event(1)], [provisioning_failed_event(3)]]
    tracker.fetches = []
    with tracker, pytest.raises(kwait.errors.FailureSignError) as err:
        tracker.wait_for(
            "jsonpath={.status.phase}=Bound",
            timeout=TIMEOUT,
            fail_on=signs.provisioning_failed(3, every=10),
        )
    # Listed when the claim was seen, at the recheck, and once more for the report.
    assert tracker.fetches == [pytest.approx(0.0), pytest.approx(10.0), pytest.approx(10.0)]
    assert "ProvisioningFailed (x3)" in str(err.value).split("events (")[1]
    assert err.value.message == (
        "PersistentVolumeClaim ProvisioningFailed (x3): "
        'storageclass.storage.k8s.io "fast" not found'
    )
    assert err.value.offset == pytest.approx(10.0)


def test_provisioning_failed_ignores_a_bound_claim(clock: FakeClock) -> None:
    """A claim that is Bound despite old failure Events is fine (the wait is met anyway)."""
    source = ScriptedSource(clock, "persistentvolumeclaims in namespace 'ci'")
    source.add_list([obj("PersistentVolumeClaim", 5, {"phase": "Bound"})], "10")
    source.add_watch(Hang())
    tracker = EventsTracker(source=source, clock=clock, name="web")
    tracker.answers = [[provisioning_failed_event(5)]]
    tracker.fetches = []
    with tracker, pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for(
            "jsonpath={.status.capacity.storage}",
            timeout=20,
            fail_on=signs.provisioning_failed(3, every=10),
        )
    assert len(tracker.fetches) >= 2


# ---------------------------------------------------------------- the vocabulary of fail_on


def test_fail_on_takes_kubectl_forms_and_predicates_or_ed(
    tracker_for: Any, clock: FakeClock
) -> None:
    """A --for string and a predicate in one list: whichever shows first ends the wait."""
    tracker = tracker_for([pod(5)], Pause(3), mod(pod(11, phase="Unknown")))
    err = stops(
        tracker,
        clock,
        fail_on=["condition=PodFailed", kwait.states.phase().equals("Unknown")],
    )
    assert err.sign == "pod phase == 'Unknown'"


def test_fail_on_delete(tracker_for: Any, clock: FakeClock) -> None:
    """fail_on='delete' names the deletion as the sign."""
    tracker = tracker_for([pod(5)], Pause(3), event("DELETED", pod(11)))
    err = stops(tracker, clock, fail_on="delete")
    assert err.message == "deleted (the object was deleted)"


def test_an_unknown_sign_name_lists_the_catalogue() -> None:
    """A typo in a sign name is an error that shows the names there are."""
    with pytest.raises(ValueError, match=r"no failure sign named 'crashloop'.*crash-loop"):
        signs.as_sign("crashloop")


def test_signs_of_another_kind_do_not_apply(tracker_for: Any) -> None:
    """job_failed() on a pod wait is ignored: the pod has no Job conditions to read."""
    failed_like = pod(11)
    failed_like["status"]["conditions"].append({"type": "Failed", "status": "True"})
    tracker = tracker_for([pod(5)], Pause(1), mod(failed_like))
    with pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for("condition=Ready", timeout=5, fail_on=signs.job_failed())


def test_fail_fast_never_applies_signs_that_might_clear(tracker_for: Any, clock: FakeClock) -> None:
    """A missing Secret may be created later: fail_fast waits it out, and the pod starts."""
    tracker = tracker_for(
        [pod(5, waiting="CreateContainerConfigError", message='secret "db" not found')],
        Pause(30),
        mod(pod(11, phase="Running", ready=True)),
    )
    tracker.wait_for("condition=Ready", timeout=TIMEOUT, fail_fast=True)
    assert clock.monotonic() == pytest.approx(30.0)


def test_fail_fast_comes_from_the_environment(
    tracker_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KWAIT_FAIL_FAST=1 turns fail_fast on for waits that do not say; False still wins."""
    monkeypatch.setenv("KWAIT_FAIL_FAST", "1")
    tracker = tracker_for([pod(5, phase="Failed")])
    with pytest.raises(kwait.errors.FailureSignError):
        tracker.wait_for("condition=Ready", timeout=TIMEOUT)
    with pytest.raises(kwait.WaitTimeoutError):
        tracker.wait_for("condition=Ready", timeout=1, fail_fast=False)


def test_expect_transitions_and_never_take_fail_on(tracker_for: Any) -> None:
    """Transitions and never-assertions stop on a sign too (the window's end is named)."""
    tracker = tracker_for(
        [pod(5, waiting="ContainerCreating")],
        Pause(2),
        mod(pod(11, waiting="InvalidImageName")),
    )
    with pytest.raises(kwait.errors.FailureSignError):
        tracker.expect_transitions(
            kwait.states.phase(), ["Pending", "Running"], timeout=TIMEOUT, fail_fast=True
        )
    with pytest.raises(kwait.errors.FailureSignError) as err:
        tracker.expect_never("condition=Ready", during=60, fail_on=signs.invalid_image_name())
    assert "before the end of the window" in err.value.report.summary


def test_either_tells_which_alternative_held(tracker_for: Any) -> None:
    """until=either(Complete, Failed) ends at whichever comes; which() names it."""
    tracker = tracker_for([job(5)], Pause(3), mod(job(11, "Failed")))
    done = kwait.states.either("condition=Complete", "condition=Failed")
    [timeline] = tracker.wait_for(done, timeout=TIMEOUT)
    assert done.which(timeline) is done.alternatives[1]
    assert repr(done.which(timeline)) == "condition('Failed')"
    assert done.which({"status": {}}) is None


def test_the_catalogue_documents_every_sign() -> None:
    """Every sign says what it reads and has a docs row; fail_fast takes those that cannot clear."""
    page = (Path(__file__).parents[2] / "docs" / "how-to" / "fail-fast.md").read_text(
        encoding="utf-8"
    )
    catalogue = signs.catalogue()
    for name, sign in catalogue.items():
        assert sign.reads
        assert sign.kinds
        assert signs.named(name).name == name
        rows = [line for line in page.splitlines() if line.startswith(f"| `{name}` |")]
        assert len(rows) == 1, f"docs/fail-fast.md has no row for {name}"
        function = repr(sign).split("(")[0]
        assert f"| `{function}(" in rows[0]
        assert f"| {'no' if sign.might_clear else 'yes'} |" in rows[0], name
    assert {s.name for s in signs.defaults_for("Pod")} == {
        "pod-failed",
        "completed-without-ready",
        "invalid-image-name",
    }


def test_the_fail_fast_default_does_not_apply_to_never(
    tracker_for: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pod that completes never was Ready: KWAIT_FAIL_FAST must not fail 'never Ready'."""
    monkeypatch.setenv("KWAIT_FAIL_FAST", "1")
    tracker = tracker_for(
        [pod(5, waiting="ContainerCreating")],
        Pause(2),
        mod(pod(11, phase="Succeeded", terminated="Completed")),
    )
    tracker.expect_never("condition=Ready", during=30)
    assert clock.monotonic() == pytest.approx(30.0)
    with pytest.raises(kwait.errors.FailureSignError):
        tracker.expect_never("condition=Ready", during=30, fail_fast=True)


def test_fail_fast_leaves_deletions_alone(
    tracker_for: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pod that fails on its way out, or a failed pod waited out until deleted, is no sign."""
    monkeypatch.setenv("KWAIT_FAIL_FAST", "1")
    leaving = pod(11, phase="Failed", terminated="Error")
    leaving["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    script = [Pause(1), mod(leaving), Pause(1), event("DELETED", leaving)]
    tracker = tracker_for([pod(5, waiting="ImagePullBackOff")], *script)
    [timeline] = tracker.wait_for("delete", timeout=TIMEOUT)
    assert timeline.deleted
    assert clock.monotonic() == pytest.approx(2.0)
    # A Ready wait on such a pod ends at the deletion (kwait's own early stop), not on the
    # Failed phase the kubelet wrote while stopping it.
    again = tracker_for([pod(5, waiting="ImagePullBackOff")], *script)
    with pytest.raises(kwait.errors.TransitionMismatchError) as err:
        again.wait_for("condition=Ready", timeout=TIMEOUT)
    assert not isinstance(err.value, kwait.errors.FailureSignError)
    assert "deleted" in err.value.report.summary
    # Waiting for a failed pod to be deleted (by a controller) is no failure either.
    failed = tracker_for(
        [pod(5, phase="Failed", terminated="Error")],
        Pause(3),
        event("DELETED", pod(12, phase="Failed", terminated="Error")),
    )
    [gone] = failed.wait_for("delete", timeout=TIMEOUT)
    assert gone.deleted


def test_a_sign_on_one_of_several_targets_ends_the_wait_and_leads_the_report(
    clock: FakeClock,
) -> None:
    """A selector wait on two pods: the one that shows a sign is reported first."""

    def named(name: str, uid: str, rv: int, **c: Any) -> dict[str, Any]:
        obj = pod(rv, **c)
        obj["metadata"].update(name=name, uid=uid)
        return obj

    source = ScriptedSource(clock, "pods in namespace 'ci' with labelSelector 'app=web'")
    source.add_list(
        [named("web-0", "u-0", 5, phase="Running", ready=True), named("web-1", "u-1", 6)], "10"
    )
    source.add_watch(
        Pause(2), mod(named("web-1", "u-1", 11, waiting="InvalidImageName", message="bad")), Hang()
    )
    tracker = kwait.Tracker(source=source, clock=clock)
    with tracker, pytest.raises(kwait.errors.FailureSignError) as err:
        tracker.wait_for("condition=Ready", timeout=TIMEOUT, fail_fast=True)
    assert clock.monotonic() == pytest.approx(2.0)
    report = err.value.report
    assert [o.identity.name for o in report.objects] == ["web-1", "web-0"]
    assert report.summary.startswith("pod/ci/web-1 (uid u-1): container app InvalidImageName: bad")


def test_the_first_observation_decides_even_within_one_batch(
    tracker_for: Any, clock: FakeClock
) -> None:
    """A sign followed at once by the awaited state (no time between): the sign came first."""
    tracker = tracker_for(
        [pod(5, waiting="ContainerCreating")],
        Pause(1),
        mod(pod(11, phase="Running", restarts=1, last="OOMKilled")),
        mod(pod(12, phase="Running", ready=True, restarts=1, last="OOMKilled")),
    )
    err = stops(tracker, clock, fail_on=signs.oom_killed())
    assert err.resource_version == "11"
