"""pytest fixtures for kwait users: an in-process Kubernetes API server per test.

Installing kwait registers this plugin with pytest (the ``pytest11`` entry
point), so in any test suite:

- ``kwait_api_server`` is a started `kwait.testing.FakeApiServer` with its
  scripted kubelet, stopped (every thread joined) after the test;
- ``kwait_api_client`` is a ``kubernetes.client.ApiClient`` pointed at it.

::

    def test_pod_starts(kwait_api_client):
        with kwait.track("pods", "web", api_client=kwait_api_client) as tracker:
            create_pod(kwait_api_client, "web")
            tracker.wait_for("condition=Ready", timeout=10)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kwait.testing._server import FakeApiServer

__all__ = ["kwait_api_client", "kwait_api_server"]


@pytest.fixture
def kwait_api_server() -> Iterator[FakeApiServer]:
    """A started in-process API server (with its scripted kubelet), stopped after the test."""
    with FakeApiServer() as server:
        yield server


@pytest.fixture
def kwait_api_client(kwait_api_server: FakeApiServer) -> Iterator[Any]:
    """A ``kubernetes.client.ApiClient`` for `kwait_api_server`."""
    from kwait._watch.kube import api_client_from  # noqa: PLC0415 - the client loads on use

    client = api_client_from(kwait_api_server.kubeconfig_dict())
    try:
        yield client
    finally:
        client.close()
