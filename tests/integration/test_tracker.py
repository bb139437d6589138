"""Trackers against the real API server: nothing lost, nothing duplicated, gaps explicit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait import Gap, Observation, Reconnect
from tests.controlplane.fixtures import CuttingProxy, KubeCluster, model

pytestmark = pytest.mark.integration

WRITES = 1000


def unscheduled_pod(name: str) -> dict[str, Any]:
    """A pod no scheduler binds and no kubelet (or kwok) touches: only the test writes it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "schedulerName": "kwait-nobody",
            "containers": [{"name": "app", "image": "registry.invalid/app:1"}],
        },
    }


def create(core: k8s.CoreV1Api, namespace: str, name: str) -> str:
    """Create the unscheduled pod `name` and return its uid."""
    created = core.create_namespaced_pod(namespace, model(k8s.V1Pod, unscheduled_pod(name)))
    assert created.metadata is not None
    return str(created.metadata.uid)


@pytest.fixture
def core(kube_api_client: k8s.ApiClient) -> k8s.CoreV1Api:
    """The typed core/v1 API of the session's cluster."""
    return k8s.CoreV1Api(kube_api_client)


@pytest.fixture
def pod_tracker(
    kube_api_client: k8s.ApiClient, namespace: str, core: k8s.CoreV1Api
) -> Iterator[kwait.Tracker]:
    """A tracker of the unscheduled pod 'target', started before the pod exists."""
    with kwait.track("pods", "target", namespace=namespace, api_client=kube_api_client) as tracker:
        create(core, namespace, "target")
        yield tracker


def write_status(core: k8s.CoreV1Api, namespace: str, first: int, last: int) -> None:
    """Write status.message 'write N' for N in [first, last), back to back."""
    for i in range(first, last):
        core.patch_namespaced_pod_status("target", namespace, {"status": {"message": f"write {i}"}})


def messages(tracker: kwait.Tracker) -> list[str]:
    """The status.message of every MODIFIED observation that has one, in order."""
    out = []
    for entry in tracker.entries():
        if isinstance(entry, Observation) and entry.type == "MODIFIED" and entry.object:
            message = entry.object.get("status", {}).get("message")
            if message:
                out.append(message)
    return out


def assert_every_write_once_in_order(tracker: kwait.Tracker) -> None:
    """All WRITES status writes are observed, in order, none twice, with distinct RVs."""
    assert messages(tracker) == [f"write {i}" for i in range(WRITES)]
    rvs = [e.resource_version for e in tracker.entries() if isinstance(e, Observation)]
    assert len(rvs) == len(set(rvs))


def test_a_thousand_back_to_back_status_writes_are_all_recorded(
    pod_tracker: kwait.Tracker, core: k8s.CoreV1Api, namespace: str
) -> None:
    """1,000 status writes with no pause between them: every one in the timeline, in order."""
    write_status(core, namespace, 0, WRITES)
    pod_tracker.sync(timeout=60)
    assert_every_write_once_in_order(pod_tracker)
    assert pod_tracker.recorder.stats.gaps == 0


def test_connections_cut_mid_stream_lose_and_duplicate_nothing(
    cutting_proxy: CuttingProxy, core: k8s.CoreV1Api, namespace: str
) -> None:
    """The same 1,000 writes while the watch connection is cut five times: nothing lost."""
    through_proxy = cutting_proxy.api_client()
    with kwait.track("pods", "target", namespace=namespace, api_client=through_proxy) as tracker:
        create(core, namespace, "target")
        cuts = 0
        for start in range(0, WRITES, 200):
            write_status(core, namespace, start, start + 200)
            cuts += cutting_proxy.cut()
        tracker.sync(timeout=60)
    assert cuts >= 5
    assert_every_write_once_in_order(tracker)
    lost = [e for e in tracker.entries() if isinstance(e, Reconnect) and "lost" in e.reason]
    assert len(lost) >= 5
    assert tracker.recorder.stats.gaps == 0


def test_compaction_relists_records_a_gap_and_carries_on(
    kube_cluster: KubeCluster, cutting_proxy: CuttingProxy, core: k8s.CoreV1Api, namespace: str
) -> None:
    """Writes missed while cut off, then a compaction: 410, relist, a gap naming the pod."""
    through_proxy = cutting_proxy.api_client()
    with kwait.track("pods", "target", namespace=namespace, api_client=through_proxy) as tracker:
        create(core, namespace, "target")
        write_status(core, namespace, 0, 3)
        tracker.sync(timeout=30)
        before = tracker.resource_version
        cutting_proxy.proxy.hold()
        cutting_proxy.cut()
        write_status(core, namespace, 3, 6)
        kube_cluster.compact()
        cutting_proxy.proxy.release()
        tracker.wait_for("jsonpath={.status.message}=write 5", timeout=30)
        write_status(core, namespace, 6, 7)
        tracker.sync(timeout=30)
    [gap] = [e for e in tracker.entries() if isinstance(e, Gap)]
    assert gap.from_rv == before
    assert "too old resource version" in gap.reason
    assert [i.name for i in gap.changed] == ["target"]
    assert messages(tracker) == ["write 0", "write 1", "write 2", "write 6"]
    after_gap = [e for e in tracker.timeline("target").entries if e.seq > gap.seq]
    relisted = after_gap[0]
    assert isinstance(relisted, Observation)
    assert (relisted.type, relisted.synthetic) == ("LISTED", True)
    assert relisted.object is not None
    assert relisted.object["status"]["message"] == "write 5"


def test_a_name_is_tracked_from_creation_and_recreation_is_a_new_identity(
    kube_api_client: k8s.ApiClient, core: k8s.CoreV1Api, namespace: str
) -> None:
    """Tracking a name before it exists sees it created; delete + create gives two uids."""
    with kwait.track("po", "late", namespace=namespace, api_client=kube_api_client) as tracker:
        assert tracker.identities() == []
        first = create(core, namespace, "late")
        tracker.wait_for("create", timeout=30)
        core.delete_namespaced_pod("late", namespace, grace_period_seconds=0)
        tracker.wait_for("delete", timeout=30)
        second = create(core, namespace, "late")
        tracker.sync(timeout=30)
    assert [i.uid for i in tracker.identities()] == [first, second]
    assert tracker.recorder.timeline_of(first).deleted
    assert tracker.timeline("late").identity.uid == second
    assert not tracker.timeline("late").deleted


def test_server_refusals_are_typed_errors_with_the_server_message(
    kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """A bad selector and an unknown resource fail at start, saying what was asked and why."""
    bad = kwait.Tracker(
        "pods", namespace=namespace, label_selector="app in (a b)", api_client=kube_api_client
    )
    with pytest.raises(kwait.errors.ApiBadRequestError) as err:
        bad.start()
    assert "labelSelector 'app in (a b)'" in str(err.value)
    assert "unable to parse requirement" in str(err.value)
    with pytest.raises(kwait.errors.UnknownResourceError) as unknown:
        kwait.Tracker("deploymnets", namespace=namespace, api_client=kube_api_client).start()
    assert "deployments.apps" in unknown.value.suggestions
