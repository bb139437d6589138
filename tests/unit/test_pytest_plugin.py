"""The pytest fixtures kwait installs give a working API server and client."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait.testing import FakeApiServer, pytest_plugin


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


class _Options:
    """A pytest config that answers ``--kwait-fail-fast`` as given."""

    def __init__(self, *, fail_fast: bool) -> None:
        self.fail_fast = fail_fast

    def getoption(self, name: str, default: object = None) -> object:
        """Answer the one option the plugin reads."""
        return self.fail_fast if name == "--kwait-fail-fast" else default


def test_kwait_fail_fast_option_turns_fail_fast_on_for_the_run(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The option is registered (off here) and, when given, is every wait's default."""
    monkeypatch.delenv("KWAIT_FAIL_FAST", raising=False)
    assert request.config.getoption("--kwait-fail-fast") is False
    assert not kwait.signs.fail_fast_default()
    config: Any = _Options(fail_fast=True)
    pytest_plugin.pytest_configure(config)
    try:
        assert kwait.signs.fail_fast_default()
    finally:
        pytest_plugin.pytest_unconfigure(config)
    assert not kwait.signs.fail_fast_default()
