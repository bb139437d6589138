"""The async fixtures kwait installs where pytest-asyncio is, used as an async suite would."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait.testing import FakeApiServer
from kwait.testing.pytest_plugin import AsyncTrack

pytest.importorskip("pytest_asyncio")

WEB = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "app", "image": "app:1"}]}}


@pytest.mark.asyncio
async def test_the_track_fixture_starts_trackers_and_stops_them_after_the_test(
    kwait_async_track: AsyncTrack, kwait_api_client: Any
) -> None:
    """A tracker from the fixture sees the pod the kubelet makes Ready, without blocking."""
    core: Any = k8s.CoreV1Api(kwait_api_client)
    tracker = await kwait_async_track("pods", "web", namespace="default")
    assert tracker.running
    await asyncio.to_thread(core.create_namespaced_pod, "default", WEB)
    [timeline] = await tracker.wait_for("condition=Ready", timeout=10)
    assert timeline.identity.name == "web"


def test_trackers_from_the_fixture_are_stopped_after_their_test() -> None:
    """Run after the test above: no tracker thread outlived it."""
    assert not [t for t in threading.enumerate() if t.name.startswith("kwait-tracker")]


@pytest.mark.asyncio
async def test_the_asyncio_client_fixture_creates_and_kwait_tracks(
    kwait_async_api_client: Any, kwait_api_server: FakeApiServer
) -> None:
    """The kubernetes_asyncio client points at the server; kwait accepts it as api_client."""
    aclient = pytest.importorskip("kubernetes_asyncio.client")
    assert kwait_async_api_client.configuration.host == kwait_api_server.url
    core: Any = aclient.CoreV1Api(kwait_async_api_client)
    [timeline] = await kwait.asyncio.wait_for(
        "pods",
        "web",
        until="condition=Ready",
        act=lambda: core.create_namespaced_pod("default", WEB),
        timeout=10,
        api_client=kwait_async_api_client,
    )
    assert timeline.identity.name == "web"
