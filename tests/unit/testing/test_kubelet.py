"""The scripted kubelet: pod lifecycles and status shapes on a fake clock (checklist 17)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as _client
from kubernetes import config as _config

from kwait.testing import LIFECYCLE_LABEL, FakeApiServer, FakeClock

from .conftest import EPOCH, pod_body

# The official client is only partly typed; treat it as dynamic here.
client: Any = _client
config: Any = _config


@pytest.fixture
def kserver(clock: FakeClock) -> Iterator[FakeApiServer]:
    """A fake API server with the kubelet, on the fake clock."""
    with FakeApiServer(clock=clock, epoch=EPOCH, seed=3) as srv:
        yield srv


@pytest.fixture
def kcore(kserver: FakeApiServer) -> Iterator[Any]:
    """CoreV1Api on the kubelet-enabled server."""
    api = config.new_client_from_config_dict(kserver.kubeconfig_dict())
    yield client.CoreV1Api(api)
    api.close()


def settle(clock: FakeClock, advance: float = 0.0) -> None:
    """Advance the clock, then wait until the kubelet has done everything due."""
    if advance:
        clock.advance(advance)
    assert clock.wait_for_blocked(1)


def summary(obj: dict[str, Any]) -> str:
    """One word per state: phase plus the container state (reason, restart count)."""
    status = obj.get("status") or {}
    containers = status.get("containerStatuses") or []
    if not containers:
        bound = "bound" if (obj.get("spec") or {}).get("nodeName") else "unbound"
        return f"{status.get('phase')}/{bound}"
    c = containers[0]
    state = c["state"]
    if "waiting" in state:
        what = state["waiting"]["reason"]
    elif "running" in state:
        what = "running"
    else:
        what = "terminated:" + state["terminated"]["reason"]
    return f"{status.get('phase')}/{what}/{c['restartCount']}"


def history(server: FakeApiServer, name: str) -> list[str]:
    """The pod's states, one per write, from the server's event history."""
    out = []
    for event in server.store.iter_events():
        if event.rkey == "pods" and event.name == name:
            prefix = "" if event.type == "MODIFIED" else event.type + " "
            out.append(prefix + summary(event.obj))
    return out


def test_node_is_created_and_ready(kcore: Any) -> None:
    """The kubelet registers a Ready node that the 37.x client deserializes."""
    nodes = kcore.list_node().items
    assert [n.metadata.name for n in nodes] == ["kwait-node"]
    assert nodes[0].status.conditions[-1].type == "Ready"
    assert nodes[0].status.conditions[-1].status == "True"


def test_normal_start(kserver: FakeApiServer, clock: FakeClock, kcore: Any) -> None:
    """An unlabelled pod is bound, shows ContainerCreating, then runs Ready, as in 6.6."""
    kcore.create_namespaced_pod("default", pod_body("web"))
    settle(clock)
    assert history(kserver, "web") == [
        "ADDED Pending/unbound",
        "Pending/bound",
        "Pending/ContainerCreating/0",
        "Pending/ContainerCreating/0",
        "Running/running/0",
    ]
    pod = kcore.read_namespaced_pod("web", "default")
    assert pod.spec.node_name == "kwait-node"
    assert [c.type for c in pod.status.conditions] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    assert all(c.status == "True" for c in pod.status.conditions)
    status = pod.status.container_statuses[0]
    assert status.image == "docker.io/library/nginx:1.27"
    assert status.image_id.startswith("docker.io/library/nginx@sha256:")
    assert status.container_id.startswith("containerd://")
    assert pod.status.pod_ip == pod.status.pod_ips[0].ip
    assert pod.status.qos_class == "BestEffort"


def test_the_kwok_stage_name_normal_is_a_normal_start(
    kserver: FakeApiServer, clock: FakeClock, kcore: Any
) -> None:
    """A pod labelled as the real test ground's Stages expect ('normal') starts normally."""
    kcore.create_namespaced_pod("default", pod_body("web", {LIFECYCLE_LABEL: "normal"}))
    settle(clock)
    assert history(kserver, "web")[-1] == "Running/running/0"


def test_waiting_container_has_empty_image_id(
    kserver: FakeApiServer, clock: FakeClock, kcore: Any
) -> None:
    """While ContainerCreating the status has imageID "" and no containerID, and Ready is False."""
    body = pod_body("slow")
    body["metadata"]["annotations"] = {"kwait.dev/step-delay-ms": "1000"}
    kcore.create_namespaced_pod("default", body)
    settle(clock)
    assert history(kserver, "slow") == ["ADDED Pending/unbound"]
    settle(clock, 1)
    settle(clock, 1)
    pod = kserver.objects("pods", "default")[0]
    container = pod["status"]["containerStatuses"][0]
    assert container["imageID"] == ""
    assert "containerID" not in container
    assert container["state"] == {"waiting": {"reason": "ContainerCreating"}}
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [app]"
    settle(clock, 1)
    settle(clock, 1)
    assert history(kserver, "slow")[-1] == "Running/running/0"


def test_image_pull_failure_cycles_with_backoff(
    kserver: FakeApiServer, clock: FakeClock, kcore: Any
) -> None:
    """ErrImagePull and ImagePullBackOff alternate with 10 s, then 20 s back-off; still Pending."""
    body = pod_body("bad", {LIFECYCLE_LABEL: "image-pull-failure"})
    body["spec"]["containers"][0]["image"] = "nginx:nope"
    kcore.create_namespaced_pod("default", body)
    settle(clock)
    states = history(kserver, "bad")
    assert states[-2:] == ["Pending/ErrImagePull/0", "Pending/ImagePullBackOff/0"]
    assert kserver.kubelet is not None
    assert kserver.kubelet.pending() == [10.0]
    settle(clock, 10)
    assert kserver.kubelet.pending() == [30.0]
    settle(clock, 20)
    assert history(kserver, "bad")[len(states) :] == [
        "Pending/ErrImagePull/0",
        "Pending/ImagePullBackOff/0",
        "Pending/ErrImagePull/0",
        "Pending/ImagePullBackOff/0",
    ]
    waiting = kserver.objects("pods")[0]["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {
        "reason": "ImagePullBackOff",
        "message": 'Back-off pulling image "nginx:nope"',
    }


def test_zero_delays_stop_after_three_cycles(
    kserver: FakeApiServer, clock: FakeClock, kcore: Any
) -> None:
    """With every delay 0 and no max-cycles, the pull failure cycles three times and stops."""
    body = pod_body("fast", {LIFECYCLE_LABEL: "image-pull-failure"})
    body["metadata"]["annotations"] = {"kwait.dev/backoff-ms": "0"}
    kcore.create_namespaced_pod("default", body)
    settle(clock)
    assert history(kserver, "fast").count("Pending/ErrImagePull/0") == 3
    assert kserver.kubelet is not None
    assert kserver.kubelet.pending() == []


def test_crash_loop_backoff(kserver: FakeApiServer, clock: FakeClock, kcore: Any) -> None:
    """The first exit restarts at once; later exits wait in CrashLoopBackOff 10 s, then 20 s."""
    body = pod_body("crash", {LIFECYCLE_LABEL: "crash-loop"})
    body["metadata"]["annotations"] = {"kwait.dev/run-ms": "1000"}
    kcore.create_namespaced_pod("default", body)
    settle(clock)
    settle(clock, 1)
    settle(clock, 1)
    settle(clock, 10)
    settle(clock, 1)
    assert history(kserver, "crash")[4:] == [
        "Running/running/0",
        "Running/terminated:Error/0",
        "Running/running/1",
        "Running/terminated:Error/1",
        "Running/CrashLoopBackOff/1",
        "Running/running/2",
        "Running/terminated:Error/2",
        "Running/CrashLoopBackOff/2",
    ]
    pod = kserver.objects("pods")[0]
    container = pod["status"]["containerStatuses"][0]
    uid = pod["metadata"]["uid"]
    assert container["state"]["waiting"]["message"] == (
        f"back-off 20s restarting failed container=app pod=crash_default({uid})"
    )
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert container["ready"] is False


def test_graceful_deletion_finishes(kserver: FakeApiServer, clock: FakeClock, kcore: Any) -> None:
    """Deleting a running pod: deletionTimestamp, containers stop (Succeeded), then DELETED."""
    kcore.create_namespaced_pod("default", pod_body("web"))
    settle(clock)
    kcore.delete_namespaced_pod("web", "default")
    settle(clock)
    assert history(kserver, "web")[-3:] == [
        "Running/running/0",
        "Succeeded/terminated:Completed/0",
        "DELETED Succeeded/terminated:Completed/0",
    ]
    assert kcore.list_namespaced_pod("default").items == []


def test_other_schedulers_pods_are_left_alone(
    kserver: FakeApiServer, clock: FakeClock, kcore: Any
) -> None:
    """A pod for another scheduler stays unbound and Pending."""
    kcore.create_namespaced_pod("default", pod_body("elsewhere", schedulerName="other"))
    settle(clock)
    assert history(kserver, "elsewhere") == ["ADDED Pending/unbound"]


def test_autojump_runs_a_pull_failure_timeline(clock: FakeClock) -> None:
    """On an autojump clock the kubelet's back-off passes without real waiting."""
    clock.autojump = True
    with FakeApiServer(clock=clock, epoch=EPOCH) as srv:
        body = pod_body("bad", {LIFECYCLE_LABEL: "image-pull-failure"})
        body["metadata"]["annotations"] = {"kwait.dev/max-cycles": "4"}
        api = config.new_client_from_config_dict(srv.kubeconfig_dict())
        client.CoreV1Api(api).create_namespaced_pod("default", body)
        api.close()
        clock.sleep(1000)
        assert history(srv, "bad").count("Pending/ErrImagePull/0") == 4
        assert clock.monotonic() == 1000.0
