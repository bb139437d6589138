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

Where pytest-asyncio is installed, async fixtures come next to them (kwait
does not depend on pytest-asyncio):

- ``kwait_async_track`` is a factory: ``await kwait_async_track("pods", "web")``
  returns a started `kwait.asyncio.AsyncTracker` (on ``kwait_api_client`` unless
  ``api_client=`` says otherwise), stopped after the test;
- ``kwait_async_api_client`` is a kubernetes_asyncio ``ApiClient`` for
  ``kwait_api_server`` (the test is skipped where kubernetes_asyncio is not
  installed), closed after the test.

::

    @pytest.mark.asyncio
    async def test_pod_starts(kwait_async_track, kwait_api_client):
        tracker = await kwait_async_track("pods", "web")
        await asyncio.to_thread(create_pod, kwait_api_client, "web")
        await tracker.wait_for("condition=Ready", timeout=10)
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from kwait.testing._server import FakeApiServer

if TYPE_CHECKING:
    from kwait.asyncio import AsyncTracker

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


AsyncTrack = Callable[..., Awaitable["AsyncTracker"]]
"""The type of the ``kwait_async_track`` fixture: ``await track(resource, name, **options)``."""


_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _pytest_asyncio_fixture() -> _Decorator | None:
    """pytest-asyncio's fixture decorator, or None where it is not installed."""
    try:
        module = importlib.import_module("pytest_asyncio")
    except ImportError:
        return None
    fixture: _Decorator = module.fixture
    return fixture


_async_fixture = _pytest_asyncio_fixture()

if _async_fixture is not None:
    __all__ += ["kwait_async_api_client", "kwait_async_track"]

    @_async_fixture
    async def kwait_async_track(kwait_api_client: Any) -> AsyncIterator[AsyncTrack]:
        """Start async trackers for the test, and stop them after it.

        Takes the arguments of `kwait.Tracker`; ``api_client`` defaults to
        ``kwait_api_client``: ``tracker = await kwait_async_track("pods", "web")``.
        """
        from kwait.asyncio import AsyncTracker  # noqa: PLC0415 - only for async suites

        started: list[AsyncTracker] = []

        async def track(
            resource: str | Mapping[str, Any] | None = None,
            name: str | None = None,
            **options: Any,
        ) -> AsyncTracker:
            options.setdefault("api_client", kwait_api_client)
            tracker = AsyncTracker(resource, name, **options)
            await tracker.start()
            started.append(tracker)
            return tracker

        try:
            yield track
        finally:
            for tracker in reversed(started):
                await tracker.stop()

    @_async_fixture
    async def kwait_async_api_client(kwait_api_server: FakeApiServer) -> AsyncIterator[Any]:
        """A kubernetes_asyncio ``ApiClient`` for `kwait_api_server` (skips without the package)."""
        config = pytest.importorskip("kubernetes_asyncio.config")
        client = await config.new_client_from_config_dict(kwait_api_server.kubeconfig_dict())
        try:
            yield client
        finally:
            await client.close()
