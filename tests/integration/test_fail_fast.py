"""Fail-fast waits on the real control plane: each 120 s wait stops within 1 s of the sign.

kwok Stages break pods, the Job controller fails a Job, the scheduler finds no node.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait import signs
from tests.controlplane import stages
from tests.controlplane.fixtures import KubeCluster, model

pytestmark = pytest.mark.integration

TIMEOUT = 120.0
PROMPT = 1.0


@pytest.fixture
def staged(kube_cluster: KubeCluster) -> KubeCluster:
    """The cluster, provided kwok Stages drive its pods (skips otherwise)."""
    kube_cluster.require_stages()
    return kube_cluster


def stopped(
    api: k8s.ApiClient, resource: str, name: str, namespace: str, act: Any, **wait: Any
) -> tuple[kwait.errors.FailureSignError, float]:
    """Run a 120 s wait that must stop on a sign; return the error and its lateness (s)."""
    until = wait.pop("until", "condition=Ready")
    with kwait.track(resource, name, namespace=namespace, api_client=api) as tracker:
        act()
        start = tracker.clock.monotonic()  # the wait's start, which offsets count from
        with pytest.raises(kwait.errors.FailureSignError) as err:
            tracker.wait_for(until, timeout=TIMEOUT, **wait)
        late = (tracker.clock.monotonic() - start) - err.value.offset
    print(f"\n{err.value.report.summary}")  # noqa: T201 - the figure this test is about
    return err.value, late


def test_complete_wait_on_a_failing_job_stops_at_failed(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """The Job controller marks the Job Failed; condition=Complete stops within 1 s of it."""
    staged.require_control_plane()
    pod = stages.pod_manifest(
        "x",
        lifecycle="complete",
        node=staged.node_name,
        annotations={"kwait.dev/exit-code": "1", "kwait.dev/run-duration": "200ms"},
        restart_policy="Never",
    )
    template = {
        "metadata": {
            "labels": pod["metadata"]["labels"],
            "annotations": pod["metadata"]["annotations"],
        },
        "spec": pod["spec"],
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate"},
        "spec": {"backoffLimit": 0, "template": template},
    }
    batch = k8s.BatchV1Api(kube_api_client)
    err, late = stopped(
        kube_api_client,
        "jobs",
        "migrate",
        namespace,
        lambda: batch.create_namespaced_job(namespace, model(k8s.V1Job, job)),
        until="condition=Complete",
        fail_on=signs.job_failed(),
    )
    assert late < PROMPT
    assert err.sign == "job-failed"
    assert err.saved > TIMEOUT - 30


def test_ready_wait_on_an_invalid_image_stops_at_once(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """InvalidImageName (a kwok Stage): fail_fast stops the Ready wait within 1 s."""
    core = k8s.CoreV1Api(kube_api_client)
    pod = staged.pod("bad", lifecycle="invalid-image", image="nginx::1.27")
    err, late = stopped(
        kube_api_client,
        "pods",
        "bad",
        namespace,
        lambda: core.create_namespaced_pod(namespace, pod),
        fail_fast=True,
    )
    assert late < PROMPT
    assert err.sign == "invalid-image-name"


def test_ready_wait_on_a_missing_secret_stops_at_once(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """CreateContainerConfigError (a kwok Stage) stops a Ready wait that asks for it."""
    core = k8s.CoreV1Api(kube_api_client)
    pod = staged.pod("no-secret", lifecycle="config-error")
    err, late = stopped(
        kube_api_client,
        "pods",
        "no-secret",
        namespace,
        lambda: core.create_namespaced_pod(namespace, pod),
        fail_on="create-container-config-error",
    )
    assert late < PROMPT
    assert err.message == 'container app CreateContainerConfigError: secret "db" not found'


def test_pod_completing_without_ready_fails_the_ready_wait_at_completion(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """Kubectl issue 1451 on the real server: the wait ends at the Succeeded write."""
    core = k8s.CoreV1Api(kube_api_client)
    pod = staged.pod(
        "one-shot",
        lifecycle="complete-unready",
        restart_policy="Never",
        annotations={"kwait.dev/run-duration": "200ms"},
    )
    err, late = stopped(
        kube_api_client,
        "pods",
        "one-shot",
        namespace,
        lambda: core.create_namespaced_pod(namespace, pod),
        fail_fast=True,
    )
    assert late < PROMPT
    assert err.sign == "completed-without-ready"


def test_crash_loop_stops_at_the_nth_restart(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """crash_loop(3): restarts 1 and 2 pass, the CrashLoopBackOff with 3 restarts stops it."""
    core = k8s.CoreV1Api(kube_api_client)
    pod = staged.pod(
        "crashy",
        lifecycle="crash-loop",
        annotations={
            "kwait.dev/run-duration": "100ms",
            "kwait.dev/crash-loop-backoff-duration": "100ms",
        },
    )
    err, late = stopped(
        kube_api_client,
        "pods",
        "crashy",
        namespace,
        lambda: core.create_namespaced_pod(namespace, pod),
        until="jsonpath={.status.phase}=Succeeded",
        fail_on=signs.crash_loop(restarts=3),
    )
    assert late < PROMPT
    assert err.message.startswith("container app CrashLoopBackOff after 3 restarts")


def test_unschedulable_pod_stops_after_the_grace_period(
    kube_cluster: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """The scheduler finds no node for a selector; unschedulable(grace=1) stops the wait."""
    kube_cluster.require_control_plane()
    core = k8s.CoreV1Api(kube_api_client)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "nowhere"},
        "spec": {
            "nodeSelector": {"kwait.dev/no-such-node": "true"},
            "containers": [{"name": "app", "image": "nginx:1.27"}],
        },
    }
    err, _ = stopped(
        kube_api_client,
        "pods",
        "nowhere",
        namespace,
        lambda: core.create_namespaced_pod(namespace, model(k8s.V1Pod, pod)),
        fail_on=signs.unschedulable(grace=1.0),
    )
    assert err.message.startswith("unschedulable for ")
    assert "node(s) didn't match Pod's node affinity/selector" in err.message


def test_available_wait_on_a_stuck_deployment_stops_at_its_progress_deadline(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """The Deployment controller gives up after progressDeadlineSeconds: the wait stops there."""
    staged.require_control_plane()
    pod = stages.pod_manifest("x", lifecycle="invalid-image", node=staged.node_name)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "progressDeadlineSeconds": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", **pod["metadata"]["labels"]}},
                "spec": pod["spec"],
            },
        },
    }
    apps = k8s.AppsV1Api(kube_api_client)
    err, late = stopped(
        kube_api_client,
        "deployments",
        "web",
        namespace,
        lambda: apps.create_namespaced_deployment(namespace, model(k8s.V1Deployment, deployment)),
        until="condition=Available",
        fail_on=signs.progress_deadline_exceeded(),
    )
    assert late < PROMPT
    assert err.message.startswith("Deployment ProgressDeadlineExceeded: ")


def test_bound_wait_on_a_claim_whose_class_is_missing_stops_on_its_events(
    kube_cluster: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """The PV controller's ProvisioningFailed Events (read while the wait runs) stop it."""
    kube_cluster.require_control_plane()
    core = k8s.CoreV1Api(kube_api_client)
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {
            "storageClassName": "kwait-no-such-class",
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }
    err, _ = stopped(
        kube_api_client,
        "persistentvolumeclaims",
        "data",
        namespace,
        lambda: core.create_namespaced_persistent_volume_claim(
            namespace, model(k8s.V1PersistentVolumeClaim, claim)
        ),
        until="jsonpath={.status.phase}=Bound",
        fail_on=signs.provisioning_failed(1, every=0.5),
    )
    assert "kwait-no-such-class" in err.message
    assert err.message.startswith("PersistentVolumeClaim ProvisioningFailed (x")
