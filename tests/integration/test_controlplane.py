"""The test ground itself, checked with the plain ``kubernetes`` client against the real thing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client as k8s

from tests.controlplane.cluster import ControlPlane, listening_ports, process_alive
from tests.controlplane.fixtures import (
    CuttingProxy,
    KubeCluster,
    model,
    raw_lines,
    resource_version,
    watch,
)

pytestmark = pytest.mark.integration

Event = tuple[str, dict[str, Any]]


# ---------------------------------------------------------------------- helpers
def watch_pod(
    v1: k8s.CoreV1Api,
    namespace: str,
    name: str,
    rv: str,
    *,
    until: Callable[[str, dict[str, Any]], bool],
    timeout: int = 30,
) -> list[Event]:
    """Return (type, raw object) of every event for pod `name` after resourceVersion `rv`.

    Stops at the first event for which `until(type, object)` is true, or when the server ends
    the watch after `timeout` seconds.
    """
    events: list[Event] = []
    stream = watch(
        v1.list_namespaced_pod,
        namespace,
        field_selector=f"metadata.name={name}",
        resource_version=rv,
        timeout_seconds=timeout,
    )
    with contextlib.closing(stream):
        for event in stream:
            events.append((event["type"], event["raw_object"]))
            if until(event["type"], event["raw_object"]):
                break
    return events


def container(pod: dict[str, Any]) -> dict[str, Any]:
    """Return the status of the pod's only container, or {} before there is one."""
    statuses = pod.get("status", {}).get("containerStatuses") or [{}]
    status: dict[str, Any] = statuses[0]
    return status


def state_of(pod: dict[str, Any]) -> str:
    """Describe the container state: ``waiting:Reason``, ``running``, ``terminated:Reason``."""
    state = container(pod).get("state") or {}
    for key in ("waiting", "running", "terminated"):
        if key in state:
            reason = state[key].get("reason")
            return f"{key}:{reason}" if reason else key
    return "-"


def condition(pod: dict[str, Any], kind: str) -> dict[str, Any]:
    """Return the pod condition of type `kind`, or {}."""
    for cond in pod.get("status", {}).get("conditions") or []:
        if cond["type"] == kind:
            found: dict[str, Any] = cond
            return found
    return {}


def distinct(items: list[Any]) -> list[Any]:
    """Drop consecutive repeats: the states an object passed through, in order."""
    out: list[Any] = []
    for item in items:
        if not out or out[-1] != item:
            out.append(item)
    return out


def list_rv(v1: k8s.CoreV1Api, namespace: str) -> str:
    """Return the resourceVersion of a pod LIST in `namespace` (where a watch should start)."""
    return resource_version(v1.list_namespaced_pod(namespace))


def config_map(name: str) -> k8s.V1ConfigMap:
    """Return an empty ConfigMap named `name`."""
    return model(k8s.V1ConfigMap, {"metadata": {"name": name}})


@pytest.fixture
def v1(kube_api_client: k8s.ApiClient) -> k8s.CoreV1Api:
    """The core/v1 API of the session's cluster."""
    return k8s.CoreV1Api(kube_api_client)


@pytest.fixture
def read_lines() -> Iterator[Callable[[Any], Iterator[str]]]:
    """Read a raw watch response line by line; every response is released afterwards."""
    responses: list[Any] = []

    def lines(resp: Any) -> Iterator[str]:
        responses.append(resp)
        return raw_lines(resp)

    yield lines
    for resp in responses:
        resp.close()
        resp.release_conn()


# ---------------------------------------------------------------------- stages
def test_normal_start_pod_is_seen_reaching_running_and_ready_through_a_watch(
    kube_cluster: KubeCluster, v1: k8s.CoreV1Api, namespace: str
) -> None:
    """A normal-start pod goes Pending, ContainerCreating, then Running and Ready, in a watch."""
    kube_cluster.require_stages()
    rv = list_rv(v1, namespace)
    v1.create_namespaced_pod(namespace, kube_cluster.pod("web", lifecycle="normal"))

    events = watch_pod(
        v1, namespace, "web", rv, until=lambda _, p: condition(p, "Ready").get("status") == "True"
    )

    assert events[0][0] == "ADDED"
    seen = distinct(
        [
            (p["status"].get("phase"), state_of(p), condition(p, "Ready").get("status"))
            for _, p in events
        ]
    )
    assert seen == [
        ("Pending", "-", None),
        ("Pending", "waiting:ContainerCreating", "False"),
        ("Running", "running", "True"),
    ]
    final = events[-1][1]
    assert [c["type"] for c in final["status"]["conditions"]] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    app = container(final)
    assert (app["ready"], app["started"], app["restartCount"]) == (True, True, 0)
    assert app["image"] == "docker.io/library/nginx:1.27"
    assert app["imageID"].startswith("docker.io/library/nginx@sha256:")
    assert app["containerID"].startswith("containerd://")
    assert final["status"]["podIP"]
    creating = next(p for _, p in events if state_of(p) == "waiting:ContainerCreating")
    assert container(creating)["imageID"] == ""
    assert condition(creating, "Ready")["reason"] == "ContainersNotReady"
    assert condition(creating, "Ready")["message"] == "containers with unready status: [app]"


def test_image_pull_failure_pod_alternates_err_image_pull_and_image_pull_backoff(
    kube_cluster: KubeCluster, v1: k8s.CoreV1Api, namespace: str
) -> None:
    """An image-pull-failure pod shows ErrImagePull and ImagePullBackOff in turn, Pending."""
    kube_cluster.require_stages()
    rv = list_rv(v1, namespace)
    manifest = kube_cluster.pod(
        "bad-image",
        lifecycle="image-pull-failure",
        image="nginx:does-not-exist",
        annotations={
            "kwait.dev/err-image-pull-duration": "20ms",
            "kwait.dev/image-pull-backoff-duration": "50ms",
        },
    )
    v1.create_namespaced_pod(namespace, manifest)

    reasons: list[str] = []

    def two_rounds(_: str, pod: dict[str, Any]) -> bool:
        reasons.append(state_of(pod))
        return distinct(reasons).count("waiting:ImagePullBackOff") >= 2

    events = watch_pod(v1, namespace, "bad-image", rv, until=two_rounds)

    assert distinct(reasons)[1:] == [
        "waiting:ContainerCreating",
        "waiting:ErrImagePull",
        "waiting:ImagePullBackOff",
        "waiting:ErrImagePull",
        "waiting:ImagePullBackOff",
    ]
    assert {p["status"]["phase"] for _, p in events} == {"Pending"}
    pull = next(container(p) for _, p in events if state_of(p) == "waiting:ErrImagePull")
    assert pull["state"]["waiting"]["message"].startswith(
        "rpc error: code = NotFound desc = failed to pull and unpack image "
        '"docker.io/library/nginx:does-not-exist"'
    )
    backoff = container(events[-1][1])
    assert backoff["state"]["waiting"]["message"] == 'Back-off pulling image "nginx:does-not-exist"'
    assert condition(events[-1][1], "Ready")["status"] == "False"


def test_crash_loop_pod_counts_restarts_and_backs_off(
    kube_cluster: KubeCluster, v1: k8s.CoreV1Api, namespace: str
) -> None:
    """A crash-loop pod restarts at once after its first exit, then waits in CrashLoopBackOff."""
    kube_cluster.require_stages()
    rv = list_rv(v1, namespace)
    manifest = kube_cluster.pod(
        "crasher",
        lifecycle="crash-loop",
        annotations={
            "kwait.dev/run-duration": "20ms",
            "kwait.dev/crash-loop-backoff-duration": "50ms",
        },
    )
    created = v1.create_namespaced_pod(namespace, manifest)

    events = watch_pod(
        v1,
        namespace,
        "crasher",
        rv,
        until=lambda _, p: container(p).get("restartCount", 0) >= 2,
    )

    seen = distinct([(state_of(p), container(p).get("restartCount")) for _, p in events])
    assert seen[2:] == [
        ("running", 0),
        ("terminated:Error", 0),
        ("running", 1),
        ("terminated:Error", 1),
        ("waiting:CrashLoopBackOff", 1),
        ("running", 2),
    ]
    backoff = next(container(p) for _, p in events if state_of(p) == "waiting:CrashLoopBackOff")
    assert created.metadata is not None
    uid = created.metadata.uid
    assert backoff["state"]["waiting"]["message"] == (
        f"back-off 10s restarting failed container=app pod=crasher_{namespace}({uid})"
    )
    assert backoff["lastState"]["terminated"]["exitCode"] == 1
    assert backoff["lastState"]["terminated"]["reason"] == "Error"
    started = [p for _, p in events if state_of(p) not in {"-", "waiting:ContainerCreating"}]
    assert {p["status"]["phase"] for p in started} == {"Running"}


def test_deleted_pod_stops_turns_succeeded_and_is_removed(
    kube_cluster: KubeCluster, v1: k8s.CoreV1Api, namespace: str
) -> None:
    """A deleted running pod is marked for deletion, ends Succeeded with Ready False, then goes."""
    kube_cluster.require_stages()
    rv = list_rv(v1, namespace)
    v1.create_namespaced_pod(namespace, kube_cluster.pod("leaving"))
    events = watch_pod(v1, namespace, "leaving", rv, until=lambda _, p: state_of(p) == "running")
    running_rv = events[-1][1]["metadata"]["resourceVersion"]

    v1.delete_namespaced_pod("leaving", namespace)
    events = watch_pod(v1, namespace, "leaving", running_rv, until=lambda t, _: t == "DELETED")

    assert events[0][0] == "MODIFIED"
    assert events[0][1]["metadata"]["deletionTimestamp"]
    assert events[0][1]["metadata"]["deletionGracePeriodSeconds"] == 30
    assert events[-1][0] == "DELETED"
    terminal = events[-1][1]
    assert terminal["status"]["phase"] == "Succeeded"
    assert state_of(terminal) == "terminated:Completed"
    assert condition(terminal, "Ready")["reason"] == "PodCompleted"
    assert distinct([p["status"]["phase"] for _, p in events]) == ["Running", "Succeeded"]


# ---------------------------------------------------------------------- faults
def test_cutting_proxy_breaks_every_watch_mid_stream(
    v1: k8s.CoreV1Api,
    namespace: str,
    cutting_proxy: CuttingProxy,
    read_lines: Callable[[Any], Iterator[str]],
) -> None:
    """Watches through the proxy deliver events until cut(), then their connection breaks."""
    rv = resource_version(v1.create_namespaced_config_map(namespace, config_map("a")))
    v1.create_namespaced_config_map(namespace, config_map("b"))
    proxied = k8s.CoreV1Api(cutting_proxy.api_client())

    # Twice with the same client: the reconnection must go through the proxy as well.
    for _ in range(2):
        resp = proxied.list_namespaced_config_map(
            namespace, watch=True, resource_version=rv, timeout_seconds=30, _preload_content=False
        )
        lines = read_lines(resp)
        assert json.loads(next(lines))["object"]["metadata"]["name"] == "b"

        assert cutting_proxy.cut() == 1

        with pytest.raises(urllib3.exceptions.ProtocolError):
            next(lines)
    stats = cutting_proxy.stats()
    assert (stats.accepted, stats.open, stats.cut) == (2, 0, 2)


# ---------------------------------------------------------------------- teardown
def test_stopping_a_control_plane_leaves_no_process_port_or_directory(
    kube_cluster: KubeCluster,
) -> None:
    """A short-lived second control plane leaves no process, listening port or file after stop."""
    binaries = kube_cluster.local_binaries()
    plane = ControlPlane(binaries, controllers=False, scheduler=False, log=lambda _: None)
    plane.start()
    state = plane.state
    pids = list(state.pids.values())
    ports = set(state.ports.values()) | listening_ports(pids)
    try:
        assert len(pids) == 4  # etcd, its proxy, kube-apiserver, kwok
        assert all(process_alive(pid) for pid in pids)
        assert ports <= listening_ports()
    finally:
        plane.stop()

    assert [pid for pid in pids if process_alive(pid)] == []
    assert ports & listening_ports() == set()
    assert not Path(state.workdir).exists()


# ---------------------------------------------------------------------- compaction
# Last in this file: compaction resets every watch cache, and the controllers take a
# second or two to re-list afterwards.
def test_watch_from_a_compacted_resource_version_receives_the_410_error_event(
    kube_cluster: KubeCluster,
    v1: k8s.CoreV1Api,
    namespace: str,
    read_lines: Callable[[Any], Iterator[str]],
) -> None:
    """A watch from an old resourceVersion replays events, but gets 410 Expired after compaction."""
    kube_cluster.require_control_plane()
    old_rv = resource_version(v1.create_namespaced_config_map(namespace, config_map("old")))
    v1.create_namespaced_config_map(namespace, config_map("new"))

    def first_event() -> dict[str, Any]:
        resp = v1.list_namespaced_config_map(
            namespace,
            watch=True,
            resource_version=old_rv,
            timeout_seconds=5,
            _preload_content=False,
        )
        event: dict[str, Any] = json.loads(next(read_lines(resp)))
        return event

    assert first_event()["type"] == "ADDED"
    revision = kube_cluster.compact(watch_paths=("/api/v1/configmaps",))
    event = first_event()

    assert revision > int(old_rv)
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["status"], status["reason"], status["code"]) == (
        "Status",
        "Failure",
        "Expired",
        410,
    )
    assert status["message"].startswith(f"too old resource version: {old_rv} (")
