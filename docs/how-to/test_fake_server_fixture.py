"""The fake API server's pytest fixtures in use: a pod that becomes Ready."""

from typing import Any

from kubernetes import client

import kwait


def test_web_becomes_ready(kwait_api_client: Any) -> None:
    """The pod meets kubectl wait's ``condition=Ready``; tracking started before it existed."""
    core = client.CoreV1Api(kwait_api_client)
    web = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}
    with kwait.track("pods", "web", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod("default", web)
        [ready] = tracker.wait_for("condition=Ready", timeout=10)
    assert ready.identity.name == "web"
