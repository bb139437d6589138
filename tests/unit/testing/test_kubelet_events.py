"""The fake kubelet records the Events a kubelet (and the scheduler) would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait import states
from kwait.testing import LIFECYCLE_LABEL, FakeApiServer


def _pod(name: str, lifecycle: str, **annotations: str) -> Any:
    return {
        "metadata": {
            "name": name,
            "labels": {LIFECYCLE_LABEL: lifecycle},
            "annotations": {"kwait.dev/step-delay-ms": "0", "kwait.dev/backoff-ms": "0"}
            | annotations,
        },
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }


def _events(server: FakeApiServer, name: str) -> list[tuple[str, str, str, int]]:
    found = [e for e in server.objects("events") if e["involvedObject"]["name"] == name]
    found.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["type"], e["reason"], e["message"], e["count"]) for e in found]


def test_a_normal_start_emits_the_kubelets_events(
    kwait_api_server: FakeApiServer, kwait_api_client: Any
) -> None:
    """Scheduled, Pulling, Pulled, Created, Started, in order, with the kubelet's words."""
    core = k8s.CoreV1Api(kwait_api_client)
    kwait.wait_for(
        "pods",
        "web",
        until="condition=Ready",
        act=lambda: core.create_namespaced_pod("default", _pod("web", "normal")),
        api_client=kwait_api_client,
        timeout=30,
    )
    assert [(t, r) for t, r, _, _ in _events(kwait_api_server, "web")] == [
        ("Normal", "Scheduled"),
        ("Normal", "Pulling"),
        ("Normal", "Pulled"),
        ("Normal", "Created"),
        ("Normal", "Started"),
    ]
    messages = [m for _, _, m, _ in _events(kwait_api_server, "web")]
    assert messages[0] == "Successfully assigned default/web to kwait-node"
    assert messages[1] == 'Pulling image "app:1"'
    assert messages[3:] == ["Created container: app", "Started container app"]
    [started] = [e for e in kwait_api_server.objects("events") if e["reason"] == "Started"]
    assert started["involvedObject"]["fieldPath"] == "spec.containers{app}"
    assert started["source"] == {"component": "kubelet", "host": "kwait-node"}


def test_a_crash_loop_emits_back_off_and_restart_events(
    kwait_api_server: FakeApiServer, kwait_api_client: Any
) -> None:
    """BackOff warnings name the container and pod; restarts say the image is present."""
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "crash", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod("default", _pod("crash", "crash-loop"))
        tracker.wait_for(states.restart_count().equals(2), timeout=30)
    events = _events(kwait_api_server, "crash")
    [backoff] = [e for e in events if e[1] == "BackOff"]
    assert backoff[0] == "Warning"
    assert backoff[2].startswith("Back-off restarting failed container app in pod crash_default(")
    started = [e for e in events if e[1] == "Started"]
    assert started[0][3] == 3  # one Event, counted: the first start and two restarts
    assert ("Normal", "Pulled", 'Container image "app:1" already present on machine', 2) in events


def test_a_failed_expectation_shows_the_events(kwait_api_client: Any) -> None:
    """The report of a pod stuck pulling its image lists Failed and BackOff Events."""
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "pull", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod(
            "default", _pod("pull", "image-pull-failure", **{"kwait.dev/max-cycles": "1"})
        )
        tracker.wait_for(states.waiting_reason().equals("ImagePullBackOff"), timeout=30)
        with pytest.raises(kwait.WaitTimeoutError) as info:
            tracker.wait_for("condition=Ready", timeout=0)
    text = str(info.value)
    assert "Warning  Failed: Error: ErrImagePull" in text
    assert 'Normal  BackOff: Back-off pulling image "app:1"' in text


def test_a_failed_expectation_shows_the_current_and_previous_container_logs(
    kwait_api_client: Any,
) -> None:
    """After restarts, the report carries the last lines of the current and the previous run."""
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "crash", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod(
            "default", _pod("crash", "crash-loop", **{"kwait.dev/exit-code": "3"})
        )
        tracker.wait_for(states.restart_count().equals(2), timeout=30)
        with pytest.raises(kwait.WaitTimeoutError) as info:
            tracker.wait_for(states.phase().equals("Succeeded"), timeout=0)
    text = str(info.value)
    assert "  log of app (previous run, last 3 lines):" in text
    assert "    app: run 1 exiting with code 3 (Error)" in text
    logs = info.value.report.to_json()["objects"][0]["logs"]
    assert [(log["container"], log["previous"]) for log in logs] == [
        ("app", False),
        ("app", True),
    ]


def test_the_log_subresource_answers_as_the_kubelet_does(kwait_api_client: Any) -> None:
    """No previous run is a 400; tailLines keeps the last lines."""
    core = k8s.CoreV1Api(kwait_api_client)
    kwait.wait_for(
        "pods",
        "web",
        until="condition=Ready",
        act=lambda: core.create_namespaced_pod("default", _pod("web", "normal")),
        api_client=kwait_api_client,
        timeout=30,
    )
    assert core.read_namespaced_pod_log("web", "default") == (
        "app: run 0 starting (docker.io/library/app:1)\napp: run 0 ready\n"
    )
    assert core.read_namespaced_pod_log("web", "default", tail_lines=1) == "app: run 0 ready\n"
    with pytest.raises(k8s.ApiException) as info:
        core.read_namespaced_pod_log("web", "default", previous=True)
    assert info.value.status == 400
    message = json.loads(info.value.body or "{}")["message"]
    assert message == 'previous terminated container "app" in pod "web" not found'


def test_a_new_image_restarts_the_container_like_a_kubelet(
    kwait_api_server: FakeApiServer, kwait_api_client: Any
) -> None:
    """Killing, a restart with the new image, and conditions at the new generation."""
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "web", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod("default", _pod("web", "normal"))
        tracker.wait_for("condition=Ready", timeout=30)
        patch = {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}
        core.patch_namespaced_pod("web", "default", patch)
        [timeline] = tracker.wait_for(
            [states.image().equals("docker.io/library/app:2"), "condition=Ready"], timeout=30
        )
    last = timeline.last
    assert last is not None
    assert last.object is not None
    [status] = last.object["status"]["containerStatuses"]
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Completed"
    assert last.object["status"]["observedGeneration"] == 2
    reasons = [r for _, r, _, _ in _events(kwait_api_server, "web")]
    assert reasons[-5:] == ["Killing", "Pulling", "Pulled", "Created", "Started"]
