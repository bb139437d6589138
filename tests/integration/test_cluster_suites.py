"""Scenarios from test suites that run on real clusters, with kwait's plugin fixtures.

Inspektor Gadget's export/import tests (a temporary namespace, the re-imported object
compared with the original ignoring server fields, corrupt input failing), CRI-O's node e2e
lifecycle checks (a crash-looping container classified), a Deployment rollout after which no
old pod is Ready again, and CloudNativePG's "each instance updated exactly once".
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait import compare, states
from kwait.reports import classify
from tests.controlplane.fixtures import KubeCluster
from tests.controlplane.stages import NODE_TAINT, pod_manifest

pytestmark = pytest.mark.integration

CONFIG = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: gadget-config
  labels: {app: gadget}
  annotations: {gadget.dev/source: export-test}
data:
  operator.oci.ebpf.map-fetch-count: "20"
  image: ghcr.io/inspektor-gadget/gadget/trace_exec:latest
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: {type: kwok}
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists}]
      containers:
      - {name: app, image: "web:1"}
"""


@pytest.fixture
def staged(kube_cluster: KubeCluster) -> KubeCluster:
    """The cluster, provided kwok Stages drive its pods (skips otherwise)."""
    kube_cluster.require_stages()
    return kube_cluster


def export(api: Any, obj: Any) -> dict[str, Any]:
    """What an export does: the object as the server holds it, as plain JSON."""
    plain: dict[str, Any] = compare.to_plain(api.sanitize_for_serialization(obj))
    return plain


def manifest(text: str) -> Any:
    """A manifest as the body the client's create calls take (they accept dicts)."""
    return compare.load(text)


def for_import(exported: dict[str, Any]) -> Any:
    """What an import sends: the exported object without the fields only the server may set."""
    body = {k: v for k, v in exported.items() if k != "status"}
    meta = dict(body["metadata"])
    for key in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"):
        meta.pop(key, None)
    body["metadata"] = meta
    return body


def test_export_import_roundtrip_in_a_temporary_namespace(
    kwait_namespace: str, kwait_cluster_api_client: Any
) -> None:
    """Objects deleted and imported again equal the originals, server-managed fields aside."""
    api = kwait_cluster_api_client
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    core.create_namespaced_config_map(kwait_namespace, manifest(CONFIG))
    apps.create_namespaced_deployment(kwait_namespace, manifest(DEPLOYMENT))
    originals = [
        export(api, core.read_namespaced_config_map("gadget-config", kwait_namespace)),
        export(api, apps.read_namespaced_deployment("web", kwait_namespace)),
    ]
    assert compare.matches(CONFIG)(originals[0])  # the server kept what the manifest says

    kwait.wait_for(
        "configmaps",
        "gadget-config",
        namespace=kwait_namespace,
        until="delete",
        act=lambda: core.delete_namespaced_config_map("gadget-config", kwait_namespace),
        api_client=api,
        timeout=30,
    )
    apps.delete_namespaced_deployment("web", kwait_namespace)
    core.create_namespaced_config_map(kwait_namespace, for_import(originals[0]))
    apps.create_namespaced_deployment(kwait_namespace, for_import(originals[1]))
    imported = [
        export(api, core.read_namespaced_config_map("gadget-config", kwait_namespace)),
        export(api, apps.read_namespaced_deployment("web", kwait_namespace)),
    ]
    for original, again in zip(originals, imported, strict=True):
        assert original["metadata"]["uid"] != again["metadata"]["uid"]
        compare.expect_same(original, again)
    # A changed field is caught, and named.
    imported[0]["data"]["image"] = "ghcr.io/inspektor-gadget/gadget/trace_exec:v0.1"
    with pytest.raises(compare.ObjectMismatchError, match=r"\.data\.image: expected"):
        compare.expect_same(originals[0], imported[0])


def test_corrupt_input_fails_and_the_failure_state_is_asserted(
    staged: KubeCluster, kwait_namespace: str, kwait_cluster_api_client: Any
) -> None:
    """Corrupt YAML and an invalid object are refused; a pod with a corrupt image fails."""
    del staged
    api = kwait_cluster_api_client
    core = k8s.CoreV1Api(api)
    with pytest.raises(ValueError, match="not valid YAML"):
        compare.load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [broken\n")
    invalid = manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Name}\n")
    with pytest.raises(k8s.ApiException) as refused:
        core.create_namespaced_config_map(kwait_namespace, invalid)
    assert refused.value.status == 422
    pod: Any = pod_manifest(
        "imported",
        lifecycle="image-pull-failure",
        image="registry.invalid/corrupt@sha256:0000",
        annotations={
            "kwait.dev/err-image-pull-duration": "100ms",
            "kwait.dev/image-pull-backoff-duration": "200ms",
        },
    )
    with kwait.track("pods", "imported", namespace=kwait_namespace, api_client=api) as tracker:
        core.create_namespaced_pod(kwait_namespace, pod)
        tracker.expect_transitions(
            states.waiting_reason(),
            kwait.in_order("ErrImagePull", "ImagePullBackOff", "ErrImagePull"),
            timeout=60,
        )
        with pytest.raises(kwait.WaitTimeoutError) as never_ready:
            tracker.wait_for("condition=Ready", timeout=0)
    [record] = classify(tracker).records
    assert record.verdict == "image-pull"
    assert dict(record.reasons)["ErrImagePull"] >= 2
    text = str(never_ready.value)
    assert "image-pull" in text
    # The simulated kubelet's Events, as a kubelet words them, are in the report.
    assert "Warning  Failed" in text
    assert "Error: ErrImagePull" in text
    assert "BackOff" in text


def test_a_crash_looping_container_is_classified(
    staged: KubeCluster, kwait_namespace: str, kwait_cluster_api_client: Any
) -> None:
    """Running -> exit 1 -> restart -> CrashLoopBackOff ...: verdict crash-loop, exits counted."""
    del staged
    api = kwait_cluster_api_client
    pod: Any = pod_manifest(
        "crasher",
        lifecycle="crash-loop",
        annotations={
            "kwait.dev/run-duration": "100ms",
            "kwait.dev/exit-code": "2",
            "kwait.dev/crash-loop-backoff-duration": "200ms",
        },
    )
    with kwait.track("pods", "crasher", namespace=kwait_namespace, api_client=api) as tracker:
        k8s.CoreV1Api(api).create_namespaced_pod(kwait_namespace, pod)
        tracker.wait_for(states.restart_count().equals(3), timeout=60)
    [record] = classify(tracker).records
    assert record.verdict == "crash-loop"
    assert record.restarts == 3
    reasons = dict(record.reasons)
    assert reasons["Error (exit 2)"] == 3
    assert reasons["CrashLoopBackOff"] >= 1
    assert "crash-loop" in classify(tracker).to_text()


def test_no_pod_of_the_old_replicaset_is_ready_again_after_the_rollout(
    staged: KubeCluster, kwait_namespace: str, kwait_cluster_api_client: Any
) -> None:
    """A real Deployment controller rolls web:1 -> web:2; old pods only go away afterwards."""
    del staged
    api = kwait_cluster_api_client
    apps = k8s.AppsV1Api(api)
    ns = kwait_namespace
    kwait.wait_for(
        "deployments",
        "web",
        namespace=ns,
        until=states.rollout_complete(),
        act=lambda: apps.create_namespaced_deployment(ns, manifest(DEPLOYMENT)),
        api_client=api,
        timeout=60,
    )
    [old_rs] = apps.list_namespaced_replica_set(ns, label_selector="app=web").items
    old_hash = api.sanitize_for_serialization(old_rs)["metadata"]["labels"]["pod-template-hash"]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}}
    with (
        kwait.track("pods", namespace=ns, label_selector="app=web", api_client=api) as pods,
        kwait.track("deployments", "web", namespace=ns, api_client=api) as deployment,
    ):
        apps.patch_namespaced_deployment("web", ns, patch)
        # generation 2: the tracker may not have seen the patch yet, and the rollout of
        # generation 1 is complete too.
        rolled_out = (
            states.generation().equals(2) & states.generation_observed() & states.rollout_complete()
        )
        deployment.wait_for(rolled_out, timeout=90)
        pods.sync()
        done_at = deployment.timeline().last
        assert done_at is not None
        old_ready_live = states.predicate(
            lambda o: (
                o["metadata"]["labels"].get("pod-template-hash") == old_hash
                and not o["metadata"].get("deletionTimestamp")
            ),
            "old ReplicaSet, not terminating",
        ) & states.condition("Ready")
        pods.expect_never(old_ready_live, during=2)
    old = [
        t for t in pods.timelines().values()
        if t.observations[0].object is not None
        and t.observations[0].object["metadata"]["labels"]["pod-template-hash"] == old_hash
    ]  # fmt: skip
    assert len(old) == 3
    new_ready = [
        t for t in pods.timelines().values()
        if t not in old and any(states.condition("Ready")(o.object or {}) for o in t.observations)
    ]  # fmt: skip
    assert len(new_ready) == 3
    for timeline in old:
        # After the rollout completed, an old pod is never a Ready pod that stays.
        later = [o for o in timeline.observations if o.time >= done_at.time and o.object]
        assert not any(old_ready_live(o.object) for o in later if o.object is not None)


def _instance(name: str) -> Any:
    pod = pod_manifest(name, image="postgresql:17.4", labels={"cnpg.io/cluster": "pg"})
    pod["spec"]["tolerations"] = [{"key": NODE_TAINT["key"], "operator": "Exists"}]
    return pod


@pytest.mark.parametrize("extra_update", [False, True], ids=["once-each", "one-twice"])
def test_rolling_image_patch_updates_each_instance_exactly_once(
    staged: KubeCluster,
    kwait_namespace: str,
    kwait_cluster_api_client: Any,
    extra_update: bool,  # noqa: FBT001 - a pytest parameter
) -> None:
    """Three instances patched one at a time: each updated once; a second patch is caught."""
    del staged
    api = kwait_cluster_api_client
    core = k8s.CoreV1Api(api)
    ns = kwait_namespace
    names = ["pg-1", "pg-2", "pg-3"]
    for name in names:
        core.create_namespaced_pod(ns, _instance(name))
    kwait.wait_for(
        "pods",
        namespace=ns,
        label_selector="cnpg.io/cluster=pg",
        until="condition=Ready",
        api_client=api,
        timeout=60,
    )

    def update(name: str, image: str) -> None:
        patch = {"spec": {"containers": [{"name": "app", "image": image}]}}
        core.patch_namespaced_pod(name, ns, patch)

    with kwait.track(
        "pods", namespace=ns, label_selector="cnpg.io/cluster=pg", api_client=api
    ) as tracker:
        for name in names:  # the operator's rolling update: one instance at a time
            update(name, "postgresql:17.5")
            new_and_ready = states.jsonpath("{.spec.containers[0].image}", "postgresql:17.5")
            tracker.wait_for(new_and_ready & states.condition("Ready"), name=name, timeout=30)
        if extra_update:
            update("pg-2", "postgresql:17.5-1")  # the reused tag pulled again
        if not extra_update:
            counts = tracker.expect_count(kwait.Changes.generation(), exactly=1)
            assert sorted((i.name, n) for i, n in counts.items()) == [
                ("pg-1", 1),
                ("pg-2", 1),
                ("pg-3", 1),
            ]
            # The simulated kubelet restarted each container once, with the new image.
            for name in names:
                status = api.sanitize_for_serialization(core.read_namespaced_pod(name, ns))
                [container] = status["status"]["containerStatuses"]
                assert container["image"] == "docker.io/library/postgresql:17.5"
                assert container["restartCount"] == 1
            return
        with pytest.raises(kwait.errors.CountMismatchError) as info:
            tracker.expect_count(kwait.Changes.generation(), exactly=1)
    text = str(info.value)
    assert text.startswith(f"pod/{ns}/pg-2 ")
    assert "counted 2" in text
    assert "pg-1" not in text.split("\n", maxsplit=1)[0]


def test_the_fake_kubelets_lifecycle_name_works_on_the_test_ground(
    staged: KubeCluster, kwait_namespace: str, kwait_cluster_api_client: Any
) -> None:
    """A pod labelled for the fake kubelet (normal-start) starts under the kwok Stages too."""
    del staged
    api = kwait_cluster_api_client
    pod: Any = pod_manifest(
        "same-words", lifecycle="normal-start", annotations={"kwait.dev/delay": "50ms"}
    )
    kwait.wait_for(
        "pods",
        "same-words",
        namespace=kwait_namespace,
        until="condition=Ready",
        act=lambda: k8s.CoreV1Api(api).create_namespaced_pod(kwait_namespace, pod),
        api_client=api,
        timeout=60,
    )
