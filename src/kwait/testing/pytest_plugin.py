"""pytest fixtures for kwait users: an in-process Kubernetes API server per test.

Installing kwait registers this plugin with pytest (the ``pytest11`` entry
point), so in any test suite:

- ``kwait_api_server`` is a started `kwait.testing.FakeApiServer` with its
  scripted kubelet, stopped (every thread joined) after the test;
- ``kwait_api_client`` is a ``kubernetes.client.ApiClient`` pointed at it;
- ``--kwait-fail-fast`` turns ``fail_fast`` on for every wait of the run (the
  same as ``KWAIT_FAIL_FAST=1``): waits stop at the first failure sign that
  cannot clear by itself (see `kwait.signs`).

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

from kwait._match.signs import set_fail_fast_default
from kwait.testing._server import FakeApiServer

__all__ = [
    "kwait_api_client",
    "kwait_api_server",
]
# The pytest hooks (pytest_addoption, pytest_configure, ...) are found by pytest by name;
# they are not part of the importable API.


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--kwait-fail-fast``."""
    parser.getgroup("kwait").addoption(
        "--kwait-fail-fast",
        action="store_true",
        default=False,
        help="stop every kwait wait at the first failure sign that cannot clear by itself "
        "(job Failed, pod Failed, InvalidImageName ...); same as KWAIT_FAIL_FAST=1",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Apply ``--kwait-fail-fast`` to the process default."""
    if config.getoption("--kwait-fail-fast", default=False):
        set_fail_fast_default(True)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave the process default as it was before the run."""
    if config.getoption("--kwait-fail-fast", default=False):
        set_fail_fast_default(None)


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
