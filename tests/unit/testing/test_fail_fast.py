"""Fail-fast waits over HTTP: a 120 s wait stops within a second of the failure sign.

The fake API server's scripted kubelet and Job controller break things on cue.

These run on the real clock with millisecond step delays: each wait is driven by watch
events, so the tests take well under a second each, and the timeout (120 s) is what a
wait without fail-fast would spend.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as _client
from kubernetes import config as _config

import kwait
from kwait import signs
from kwait.testing import LIFECYCLE_LABEL, FakeApiServer

client: Any = _client
config: Any = _config

TIMEOUT = 120.0
PROMPT = 1.0  # acceptance: stopped within 1 s of the sign


@pytest.fixture(scope="module")
def kube() -> Iterator[FakeApiServer]:
    """One fake API server (real clock, scripted kubelet) for the module."""
    with FakeApiServer() as server:
        yield server


@pytest.fixture(scope="module")
def api(kube: FakeApiServer) -> Iterator[Any]:
    """An official client for it."""
    api_client = config.new_client_from_config_dict(kube.kubeconfig_dict())
    yield api_client
    api_client.close()


def broken_pod(name: str, lifecycle: str, **annotations: str) -> dict[str, Any]:
    """A pod with the lifecycle label and timing annotations (milliseconds)."""
    return {
        "metadata": {
            "name": name,
            "labels": {LIFECYCLE_LABEL: lifecycle},
            "annotations": {"kwait.dev/step-delay-ms": "50", **annotations},
        },
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }


def failing_job(name: str, exit_code: str = "1") -> dict[str, Any]:
    """A Job whose pods exit with `exit_code` (the same manifest the real control plane runs)."""
    return {
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {
                    "labels": {LIFECYCLE_LABEL: "complete"},
                    "annotations": {
                        "kwait.dev/exit-code": exit_code,
                        "kwait.dev/run-ms": "300",
                        "kwait.dev/step-delay-ms": "50",
                        "kwait.dev/run-duration": "300ms",
                    },
                },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "app", "image": "busybox:1.36"}],
                },
            },
        },
    }


def stopped(
    api: Any, resource: str, name: str, act: Any, **wait: Any
) -> tuple[kwait.errors.FailureSignError, float]:
    """Run a 120 s wait that must stop on a sign; return the error and its lateness.

    Lateness: the seconds from the sign's observation to the stop.
    """
    until = wait.pop("until", "condition=Ready")
    with kwait.track(resource, name, api_client=api) as tracker:
        act()
        start = tracker.clock.monotonic()  # the wait's start, which offsets count from
        with pytest.raises(kwait.errors.FailureSignError) as err:
            tracker.wait_for(until, timeout=TIMEOUT, **wait)
        late = (tracker.clock.monotonic() - start) - err.value.offset
    assert err.value.saved > TIMEOUT - 10
    return err.value, late


def test_complete_wait_on_a_failing_job_stops_at_the_failed_condition(api: Any) -> None:
    """condition=Complete on a Job that fails: FailureSignError within 1 s of Failed."""
    batch = client.BatchV1Api(api)
    err, late = stopped(
        api,
        "jobs",
        "migrate",
        lambda: batch.create_namespaced_job("default", failing_job("migrate")),
        until="condition=Complete",
        fail_on=signs.job_failed(),
    )
    assert late < PROMPT
    assert err.sign == "job-failed"
    assert err.message == (
        "Job condition Failed: BackoffLimitExceeded: Job has reached the specified backoff limit"
    )


def test_fail_fast_stops_a_failing_job_at_failure_target(api: Any) -> None:
    """With fail_fast the earlier FailureTarget condition already ends the wait."""
    batch = client.BatchV1Api(api)
    err, late = stopped(
        api,
        "jobs.batch",
        "seed",
        lambda: batch.create_namespaced_job("default", failing_job("seed")),
        until="condition=Complete",
        fail_fast=True,
    )
    assert err.sign == "job-failure-target"
    assert late < PROMPT


def test_a_succeeding_job_passes_a_fail_fast_complete_wait(api: Any) -> None:
    """The same Job with exit code 0 completes, and either() says it was Complete."""
    batch = client.BatchV1Api(api)
    done = kwait.states.either("condition=Complete", "condition=Failed")
    [timeline] = kwait.wait_for(
        "jobs",
        "ok",
        api_client=api,
        until=done,
        act=lambda: batch.create_namespaced_job("default", failing_job("ok", "0")),
        timeout=30,
        fail_fast=True,
    )
    assert repr(done.which(timeline)) == "condition('Complete')"


def test_ready_wait_on_an_invalid_image_name_stops_at_once(api: Any) -> None:
    """InvalidImageName can never clear: fail_fast stops the Ready wait within 1 s."""
    core = client.CoreV1Api(api)
    err, late = stopped(
        api,
        "pods",
        "bad-image",
        lambda: core.create_namespaced_pod("default", broken_pod("bad-image", "invalid-image")),
        fail_fast=True,
    )
    assert late < PROMPT
    assert err.sign == "invalid-image-name"
    assert err.message.startswith("container app InvalidImageName: Failed to apply default image")


def test_ready_wait_on_a_missing_secret_stops_at_once(api: Any) -> None:
    """CreateContainerConfigError (on request: it might clear) stops the wait within 1 s."""
    core = client.CoreV1Api(api)
    err, late = stopped(
        api,
        "pods",
        "no-secret",
        lambda: core.create_namespaced_pod("default", broken_pod("no-secret", "config-error")),
        fail_on=signs.create_container_config_error(),
    )
    assert late < PROMPT
    assert err.message == 'container app CreateContainerConfigError: secret "db" not found'
    assert err.report.summary.startswith("pod/default/no-secret (uid ")
    assert 'CreateContainerConfigError: secret "db" not found (rv ' in err.report.summary


def test_pod_that_completes_without_being_ready_fails_the_ready_wait_at_completion(
    api: Any,
) -> None:
    """The Ready wait ends on the Succeeded write, not at the timeout (kubectl issue 1451)."""
    core = client.CoreV1Api(api)
    err, late = stopped(
        api,
        "pods",
        "one-shot",
        lambda: core.create_namespaced_pod("default", broken_pod("one-shot", "complete-unready")),
        fail_fast=True,
    )
    assert err.sign == "completed-without-ready"
    assert late < PROMPT
    last = err.report.objects[0].last_state
    assert last is not None
    assert last["status"]["phase"] == "Succeeded"
    assert last["metadata"]["resourceVersion"] == err.resource_version


def test_crash_loop_stops_at_the_nth_restart(api: Any) -> None:
    """A run-to-completion wait on a crash-looping pod: crash_loop(3) stops at restart 3."""
    core = client.CoreV1Api(api)
    pod = broken_pod(
        "crashy", "crash-loop", **{"kwait.dev/backoff-ms": "30", "kwait.dev/run-ms": "30"}
    )
    err, late = stopped(
        api,
        "pods",
        "crashy",
        lambda: core.create_namespaced_pod("default", pod),
        until="jsonpath={.status.phase}=Succeeded",
        fail_on=signs.crash_loop(restarts=3),
    )
    assert late < PROMPT
    assert err.message.startswith("container app CrashLoopBackOff after 3 restarts")
    rows = err.report.objects[0].rows
    decided = [r for r in rows if "failed here" in r.note]
    assert [r.resource_version for r in decided] == [err.resource_version]


def test_unschedulable_pod_stops_after_its_grace_period(api: Any) -> None:
    """PodScheduled=False/Unschedulable for the grace period (0.3 s here) stops the wait."""
    core = client.CoreV1Api(api)
    err, late = stopped(
        api,
        "pods",
        "nowhere",
        lambda: core.create_namespaced_pod("default", broken_pod("nowhere", "unschedulable")),
        fail_on=signs.unschedulable(grace=0.3),
    )
    assert late < PROMPT
    assert err.message.startswith("unschedulable for 0.3 s: 0/1 nodes are available")


def test_oom_killed_container_stops_the_wait(api: Any) -> None:
    """A container killed with exit 137/OOMKilled stops a run-to-completion wait."""
    core = client.CoreV1Api(api)
    pod = broken_pod(
        "hungry",
        "crash-loop",
        **{
            "kwait.dev/exit-code": "137",
            "kwait.dev/exit-reason": "OOMKilled",
            "kwait.dev/run-ms": "50",
            "kwait.dev/backoff-ms": "50",
        },
    )
    err, late = stopped(
        api,
        "pods",
        "hungry",
        lambda: core.create_namespaced_pod("default", pod),
        until="jsonpath={.status.phase}=Succeeded",
        fail_on=signs.oom_killed(),
    )
    assert late < PROMPT
    assert err.message == "container app OOMKilled (exit code 137)"


def test_provisioning_failed_reads_the_claims_events_over_http(api: Any) -> None:
    """A ProvisioningFailed Event about the claim (listed by involvedObject.uid) stops it."""
    core = client.CoreV1Api(api)

    def act() -> None:
        claim = core.create_namespaced_persistent_volume_claim(
            "default",
            {
                "metadata": {"name": "data"},
                "spec": {
                    "storageClassName": "fast",
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            },
        )
        core.create_namespaced_event(
            "default",
            {
                "metadata": {"name": "data.1"},
                "involvedObject": {
                    "kind": "PersistentVolumeClaim",
                    "namespace": "default",
                    "name": "data",
                    "uid": claim.metadata.uid,
                },
                "reason": "ProvisioningFailed",
                "type": "Warning",
                "count": 2,
                "message": 'storageclass.storage.k8s.io "fast" not found',
                "source": {"component": "persistentvolume-controller"},
            },
        )

    err, late = stopped(
        api,
        "pvc",
        "data",
        act,
        until="jsonpath={.status.phase}=Bound",
        fail_on=signs.provisioning_failed(2, every=0.2),
    )
    assert late < PROMPT
    assert err.message == (
        "PersistentVolumeClaim ProvisioningFailed (x2): "
        'storageclass.storage.k8s.io "fast" not found'
    )
