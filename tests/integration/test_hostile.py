"""Against kube-apiserver: a one-call wait is cheap (cut-rate figures: benchmarks/chaos.py)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as _k8s

import kwait
from tests.controlplane.fixtures import KubeCluster

pytestmark = pytest.mark.integration

k8s: Any = _k8s


class CountingPool:
    """Wraps an ApiClient's urllib3 pool and records every request made through it."""

    def __init__(self, pool: Any) -> None:  # noqa: D107
        self.pool = pool
        self.requests: list[tuple[str, str]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        """Record (method, path) and forward."""
        self.requests.append((method, url.split("://", 1)[-1].split("/", 1)[-1]))
        return self.pool.request(method, url, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """Everything else is the pool's."""
        return getattr(self.pool, name)


def test_a_one_call_wait_with_a_fresh_client_makes_at_most_three_requests(
    kube_cluster: KubeCluster, kube_api_client: Any, namespace: str
) -> None:
    """No discovery for pods: LIST and WATCH (and nothing else) with a brand-new client."""
    fresh: Any = kube_cluster.api_client()
    counting = CountingPool(fresh.rest_client.pool_manager)
    fresh.rest_client.pool_manager = counting
    pod = {
        "metadata": {"name": "web"},
        "spec": {
            "schedulerName": "kwait-nobody",
            "containers": [{"name": "app", "image": "registry.invalid/app:1"}],
        },
    }
    core = k8s.CoreV1Api(kube_api_client)
    try:
        kwait.wait_for(
            "pods",
            "web",
            namespace=namespace,
            until="create",
            api_client=fresh,
            act=lambda: core.create_namespaced_pod(namespace, pod),
            timeout=30,
        )
    finally:
        fresh.close()
    assert len(counting.requests) <= 3, counting.requests
    assert all(method == "GET" for method, _ in counting.requests)
    assert all(f"namespaces/{namespace}/pods" in path for _, path in counting.requests)


def test_a_resource_outside_the_builtin_table_costs_one_discovery_request(
    kube_cluster: KubeCluster,
) -> None:
    """PriorityClasses (scheduling.k8s.io, not built in) cost one aggregated-discovery GET."""
    fresh: Any = kube_cluster.api_client()
    counting = CountingPool(fresh.rest_client.pool_manager)
    fresh.rest_client.pool_manager = counting
    try:
        with kwait.track("pc", api_client=fresh) as tracker:
            assert tracker.describe() == "priorityclasses.scheduling.k8s.io"
    finally:
        fresh.close()
    paths = [path for _, path in counting.requests]
    assert paths[0] == "apis", paths
    assert len(paths) <= 3, paths
