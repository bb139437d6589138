"""Fixtures for tests marked ``integration``: a real Kubernetes control plane.

- ``kube_cluster`` (session): a :class:`~tests.controlplane.fixtures.KubeCluster`, the local
  control plane (started once, stopped at the end, teardown checked) or the cluster of
  ``KUBECONFIG`` when ``KWAIT_USE_EXISTING_CLUSTER=1``;
- ``kube_api_client`` (session): a ``kubernetes.client.ApiClient`` for it;
- ``namespace`` (function): a fresh namespace, deleted after the test;
- ``cutting_proxy`` (function): a fault proxy in front of the API server, with clients that
  go through it and ``cut()`` to drop every connection.

When no cluster can be had the tests are skipped, with the reason in pytest's summary; with
``KWAIT_REQUIRE_INTEGRATION=1`` (CI) they fail instead. Only tests marked ``integration``
may use these fixtures; others are refused at collection, so unit tests never start a cluster.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client as k8s

from tests.controlplane.build import ControlPlaneUnavailableError, PullPolicy
from tests.controlplane.fixtures import (
    EXISTING_ENV,
    REQUIRE_ENV,
    CuttingProxy,
    KubeCluster,
    model,
    open_cluster,
    resource_version,
    unique_name,
    watch,
)

_CLUSTER_FIXTURES = frozenset(
    {"kube_cluster", "kube_api_client", "namespace", "cutting_proxy", "kwait_namespace"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse tests that use the cluster fixtures without the ``integration`` marker."""
    del config
    for item in items:
        used = _CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ()))
        if used and item.get_closest_marker("integration") is None:
            msg = f"{item.nodeid} uses {sorted(used)} but is not marked @pytest.mark.integration"
            raise pytest.UsageError(msg)


def pytest_report_header(config: pytest.Config) -> str:
    """Say where integration tests will get their cluster."""
    del config
    if os.environ.get(EXISTING_ENV, "").strip() in {"1", "true", "yes", "on"}:
        where = f"the existing cluster of KUBECONFIG={os.environ.get('KUBECONFIG', '(unset)')}"
    else:
        try:
            policy = PullPolicy.from_env().value
        except ValueError as exc:
            policy = str(exc)
        where = f"a local control plane (pull policy {policy})"
    required = os.environ.get(REQUIRE_ENV) == "1"
    return f"kwait integration: {where}; {'required' if required else 'skipped if unavailable'}"


def _say(config: pytest.Config) -> Callable[[str], None]:
    """Return a function printing progress lines on the terminal, past output capture."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(line: str) -> None:
        if reporter is None:
            sys.stderr.write(line + "\n")
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(line)

    return say


@pytest.fixture(scope="session")
def kube_cluster(request: pytest.FixtureRequest) -> Iterator[KubeCluster]:
    """The session's cluster: the local control plane, or an existing one (see module doc)."""
    say = _say(request.config)
    try:
        cluster = open_cluster(log=say)
    except ControlPlaneUnavailableError as exc:
        reason = f"no Kubernetes control plane for integration tests: {exc}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
        pytest.skip(reason)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def kube_api_client(kube_cluster: KubeCluster) -> Iterator[k8s.ApiClient]:
    """A ``kubernetes.client.ApiClient`` for the session's cluster."""
    api = kube_cluster.api_client()
    try:
        yield api
    finally:
        api.close()  # type: ignore[no-untyped-call]


@pytest.fixture
def namespace(request: pytest.FixtureRequest, kube_api_client: k8s.ApiClient) -> Iterator[str]:
    """A fresh namespace (its name), with its ``default`` service account; deleted afterwards."""
    v1 = k8s.CoreV1Api(kube_api_client)
    name = unique_name("kwait", request.node.name)
    v1.create_namespace(
        model(k8s.V1Namespace, {"metadata": {"name": name, "labels": {"kwait.dev/test": "true"}}})
    )
    try:
        _wait_for_default_service_account(v1, name)
        yield name
    finally:
        v1.delete_namespace(name, propagation_policy="Background")


def _wait_for_default_service_account(v1: k8s.CoreV1Api, namespace: str) -> None:
    # Pods are refused until the service-account controller has created "default".
    listed = v1.list_namespaced_service_account(namespace, field_selector="metadata.name=default")
    if listed.items:
        return
    events = watch(
        v1.list_namespaced_service_account,
        namespace,
        field_selector="metadata.name=default",
        resource_version=resource_version(listed),
        timeout_seconds=30,
    )
    with contextlib.closing(events):
        for _ in events:
            return
    msg = f"namespace {namespace} got no default service account within 30 s"
    raise AssertionError(msg)


@pytest.fixture
def cutting_proxy(kube_cluster: KubeCluster) -> Iterator[CuttingProxy]:
    """A fault proxy in front of the API server: ``.api_client()``, ``.cut()``, ``.stats()``."""
    with kube_cluster.cutting_proxy() as proxy:
        yield proxy
