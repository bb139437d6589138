"""The pytest fixtures kwait installs give a working API server and client."""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

import kwait
from kwait.testing import FakeApiServer


def test_the_fixtures_give_a_server_the_official_client_and_kwait_use(
    kwait_api_server: FakeApiServer, kwait_api_client: Any
) -> None:
    """A pod created through the fixture's client is tracked until its kubelet makes it Ready."""
    assert kwait_api_client.configuration.host == kwait_api_server.url
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "web", namespace="default", api_client=kwait_api_client) as tracker:
        body = k8s.V1Pod(
            metadata=k8s.V1ObjectMeta(name="web"),
            spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="app", image="app:1")]),
        )
        core.create_namespaced_pod("default", body)
        [timeline] = tracker.wait_for("condition=Ready", timeout=10)
    assert timeline.identity.name == "web"
