"""Fixtures for the fake API server's tests: a server on a FakeClock and clients for it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3
from kubernetes import client as _client
from kubernetes import config as _config

from kwait.testing import FakeApiServer, FakeClock

# The official client is only partly typed; treat it as dynamic here.
client: Any = _client
config: Any = _config

EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock that moves only when the test advances it."""
    return FakeClock(stall_timeout=30.0)


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeApiServer]:
    """A fake API server without the kubelet, on the fake clock, with fixed timestamps."""
    with FakeApiServer(clock=clock, kubelet=False, epoch=EPOCH, seed=7) as srv:
        yield srv


@pytest.fixture
def api(server: FakeApiServer) -> Iterator[Any]:
    """An official-client ApiClient configured from the server's kubeconfig."""
    api_client = config.new_client_from_config_dict(server.kubeconfig_dict())
    yield api_client
    api_client.close()


@pytest.fixture
def core(api: Any) -> Any:
    """CoreV1Api on the fake server."""
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: Any) -> Any:
    """AppsV1Api on the fake server."""
    return client.AppsV1Api(api)


@pytest.fixture
def custom(api: Any) -> Any:
    """CustomObjectsApi on the fake server."""
    return client.CustomObjectsApi(api)


@pytest.fixture
def http() -> Iterator[urllib3.PoolManager]:
    """A raw urllib3 pool for requests the typed client cannot make."""
    pool = urllib3.PoolManager()
    yield pool
    pool.clear()


class Raw:
    """What a raw request returned: status, headers and the decoded JSON body."""

    def __init__(self, response: Any) -> None:  # noqa: D107
        self.status: int = response.status
        self.headers: Any = response.headers
        self.data: bytes = response.data
        self.json: Any = json.loads(self.data) if self.data.strip() else None


def raw(  # noqa: PLR0917 - mirrors the API server's decision table
    pool: urllib3.PoolManager,
    server: FakeApiServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Raw:
    """Send a raw request to the fake server and decode the answer."""
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    response = pool.request(
        method, server.url + path, body=data, headers=headers or {}, retries=False
    )
    return Raw(response)


def pod_body(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    """A minimal pod manifest."""
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}], **spec},
    }


def cm_body(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    """A minimal ConfigMap manifest."""
    return {"metadata": {"name": name, "labels": labels or {}}, "data": dict(data)}


class RawWatch:
    """A watch read over a plain socket, so the test sees the exact bytes."""

    def __init__(self, server: FakeApiServer, path: str) -> None:  # noqa: D107
        parts = urlsplit(server.url)
        self.sock = socket.create_connection((parts.hostname or "", parts.port or 0))
        self.sock.settimeout(20)
        request = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: application/json\r\n\r\n"
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status_line = lines[0]
        self.headers = {
            k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])
        }
        self.body = b""
        self.ended = False

    def _recv(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        self.buffer += data

    def _chunk(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._recv()
        size_line, rest = self.buffer.split(b"\r\n", 1)
        size = int(size_line, 16)
        while len(rest) < size + 2:
            self._recv()
            size_line, rest = self.buffer.split(b"\r\n", 1)
        self.buffer = rest[size + 2 :]
        if size == 0:
            self.ended = True
        return rest[:size]

    def line(self) -> bytes:
        """Return the next full line of the body (without the newline)."""
        while b"\n" not in self.body:
            if self.ended:
                raise EOFError("the stream ended")
            self.body += self._chunk()
        line, self.body = self.body.split(b"\n", 1)
        return line

    def event(self) -> dict[str, Any]:
        """Return the next event, decoded."""
        decoded: dict[str, Any] = json.loads(self.line())
        return decoded

    def rest(self) -> bytes:
        """Read until the terminating chunk and return the remaining body bytes."""
        while not self.ended:
            self.body += self._chunk()
        out, self.body = self.body, b""
        return out

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()
