"""The tutorial "Your first test with kwait" as a pytest file."""

from typing import Any

import pytest
from kubernetes import client

import kwait


def pod(name: str, image: str = "nginx:1.27", lifecycle: str = "normal-start") -> dict[str, Any]:
    """A pod manifest; the label and annotation script the fake server's kubelet."""
    return {
        "metadata": {
            "name": name,
            "labels": {"kwait.dev/lifecycle": lifecycle},
            "annotations": {"kwait.dev/step-delay-ms": "20"},
        },
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


STARTS_CLEANLY = kwait.in_order("ContainerCreating", "Running").without("ErrImagePull")


def test_web_starts(kwait_api_client: Any) -> None:
    """The container is created, then runs, and never fails to pull its image."""
    core = client.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "web", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod("default", pod("web"))
        tracker.expect_transitions(kwait.states.container_state(), STARTS_CLEANLY, timeout=10)


def test_a_bad_image_fails_at_the_first_pull_error(kwait_api_client: Any) -> None:
    """The same expectation fails on the first ErrImagePull, long before the timeout."""
    core = client.CoreV1Api(kwait_api_client)
    broken = pod("broken", "nginx:no-such-tag", "image-pull-failure")
    with kwait.track("pods", "broken", api_client=kwait_api_client) as tracker:
        core.create_namespaced_pod("default", broken)
        with pytest.raises(
            kwait.errors.TransitionMismatchError, match="violates without"
        ) as failed:
            tracker.expect_transitions(kwait.states.container_state(), STARTS_CLEANLY, timeout=10)
    assert failed.value.report.objects[0].outcome.status.value == "impossible"
