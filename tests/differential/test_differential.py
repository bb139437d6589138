"""Every scenario gives the expected transcript on the fake and on a real kube-apiserver.

The fake side always runs. The real side is marked ``integration`` and uses
the ``kube_api_client``, ``namespace`` and ``kube_cluster`` fixtures of the
integration suite; where they are not available it is skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as _client
from kubernetes import config as _config

from kwait.testing import FakeApiServer

from .scenarios import EXPECTED, SCENARIOS, Backend

# The official client is only partly typed; treat it as dynamic here.
client: Any = _client
config: Any = _config

_names = itertools.count()


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeApiServer]:
    """One fake API server (system clock, no kubelet) for the whole module."""
    with FakeApiServer(kubelet=False) as server:
        yield server


def _fake_backend(server: FakeApiServer) -> Iterator[Backend]:
    api = config.new_client_from_config_dict(server.kubeconfig_dict())
    namespace = f"kwait-diff-{next(_names)}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
    try:
        yield Backend(api, namespace, server.compact)
    finally:
        api.close()


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.integration)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The backend a scenario runs on: the fake, or the integration suite's real cluster."""
    if request.param == "fake":
        yield from _fake_backend(request.getfixturevalue("fake_server"))
        return
    try:
        api: Any = request.getfixturevalue("kube_api_client")
        namespace: str = request.getfixturevalue("namespace")
        cluster: Any = request.getfixturevalue("kube_cluster")
    except pytest.FixtureLookupError:
        pytest.skip(
            "the integration fixtures (kube_api_client, namespace, kube_cluster) are not available"
        )
    yield Backend(api, namespace, cluster.compact)  # noqa: PT022 - the fake branch above has teardown


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_transcript(backend: Backend, name: str) -> None:
    """The scenario's normalized transcript equals the one both backends must produce."""
    assert SCENARIOS[name](backend) == EXPECTED[name]
