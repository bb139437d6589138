"""Failure classification: per container, verdict, restarts and reasons with counts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait import states
from kwait.reports import classify
from kwait.testing import LIFECYCLE_LABEL


def _pod(name: str, lifecycle: str, **annotations: str) -> Any:
    return {
        "metadata": {
            "name": name,
            "labels": {LIFECYCLE_LABEL: lifecycle, "app": "t"},
            "annotations": {"kwait.dev/step-delay-ms": "0", "kwait.dev/backoff-ms": "0"}
            | annotations,
        },
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }


def test_a_crash_looping_container_is_classified_with_its_exits_and_backoffs(
    kwait_api_client: Any,
) -> None:
    """Three exits with code 1, back-offs between them: verdict crash-loop, counts per reason."""
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "crash", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod(
            "default", _pod("crash", "crash-loop", **{"kwait.dev/max-cycles": "3"})
        )
        tracker.wait_for(states.restart_count().equals(2), timeout=30)
        tracker.wait_for(states.terminated_reason().equals("Error"), timeout=30)
    found = classify(tracker)
    [record] = found.records
    assert record.container == "app"
    assert record.verdict == "crash-loop"
    assert record.restarts == 2
    assert record.last_state == "terminated: Error (exit 1)"
    reasons = dict(record.reasons)
    assert reasons["Error (exit 1)"] == 3
    assert reasons["CrashLoopBackOff"] >= 1
    assert found.failing() == (record,)
    lines = found.to_lines()
    assert lines[0].split() == ["object", "container", "verdict", "restarts", "last", "state",
                                "reasons", "seen"]  # fmt: skip
    assert lines[1].startswith("pod/default/crash  app        crash-loop  2")
    assert json.loads(json.dumps(found.to_json()))[0]["reasons"]["Error (exit 1)"] == 3


def test_image_pull_failures_count_each_entry_into_a_reason(kwait_api_client: Any) -> None:
    """ErrImagePull <-> ImagePullBackOff twice over: each counted twice, verdict image-pull."""
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "pull", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod(
            "default", _pod("pull", "image-pull-failure", **{"kwait.dev/max-cycles": "2"})
        )
        tracker.expect_transitions(
            states.waiting_reason(),
            kwait.in_order("ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"),
            timeout=30,
        )
    [record] = classify(tracker).records
    assert record.verdict == "image-pull"
    assert record.restarts == 0
    assert dict(record.reasons) == {
        "ContainerCreating": 1,
        "ErrImagePull": 2,
        "ImagePullBackOff": 2,
    }


def test_a_healthy_container_is_ok() -> None:
    """Running with no restarts and no failure reason: verdict ok, nothing failing."""
    pod = {
        "kind": "Pod",
        "metadata": {"name": "w", "namespace": "n", "uid": "1"},
        "status": {"containerStatuses": [{"name": "a", "state": {"running": {}}}]},
    }
    found = classify([pod])
    assert [r.verdict for r in found.records] == ["ok"]
    assert found.failing() == ()


def test_oom_kills_win_over_crash_loops() -> None:
    """An OOMKilled termination (exit 137) makes the verdict oom-killed."""
    pod = {
        "kind": "Pod",
        "metadata": {"name": "w", "namespace": "n", "uid": "1"},
        "status": {
            "containerStatuses": [
                {
                    "name": "a",
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                }
            ]
        },
    }
    [record] = classify([pod]).records
    assert record.verdict == "oom-killed"
    assert record.reasons_text() == "OOMKilled (exit 137), CrashLoopBackOff"


def test_a_failed_wait_on_a_pod_shows_its_containers(kwait_api_client: Any) -> None:
    """The failure report of a pod that never became Ready carries the container table."""
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "pull", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod(
            "default", _pod("pull", "image-pull-failure", **{"kwait.dev/max-cycles": "1"})
        )
        tracker.wait_for(states.waiting_reason().equals("ImagePullBackOff"), timeout=30)
        with pytest.raises(kwait.WaitTimeoutError) as info:
            tracker.wait_for("condition=Ready", timeout=0)
    text = str(info.value)
    assert "  containers:" in text
    assert "image-pull" in text
    report = info.value.report.to_json()
    assert report["objects"][0]["containers"][0]["verdict"] == "image-pull"


def test_a_report_says_when_a_condition_is_stale_for_the_generation(
    kwait_api_client: Any,
) -> None:
    """Ready=True written for generation 1 does not count at generation 2; the report says so."""
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "web", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod("default", _pod("web", "normal"))
        tracker.wait_for("condition=Ready", timeout=30)
        # The kubelet would restart the container after this (long) step delay.
        patch = {
            "metadata": {"annotations": {"kwait.dev/step-delay-ms": "600000"}},
            "spec": {"containers": [{"name": "app", "image": "app:2"}]},
        }
        core.patch_namespaced_pod("web", "default", patch)
        tracker.wait_for(states.generation().equals(2), timeout=30)
        with pytest.raises(kwait.WaitTimeoutError) as info:
            tracker.wait_for("condition=Ready", timeout=0)
    line = "condition Ready=True was observed at generation 1; the object is at generation 2"
    assert f"  stale: {line}" in str(info.value)
    assert line in info.value.report.to_json()["objects"][0]["stale"]
