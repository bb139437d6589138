"""Fault injection: dropped and truncated watches, 410 on demand, 429/500, delays, raw lines."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import urllib3
from kubernetes import watch as _watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from kwait.testing import FakeApiServer, FakeClock

from .conftest import RawWatch, cm_body, raw

# The official client is only partly typed; treat it as dynamic here.
watch: Any = _watch

CMS = "/api/v1/namespaces/default/configmaps"


def _seed(core: Any, *names: str) -> None:
    for name in names:
        core.create_namespaced_config_map("default", cm_body(name))


def test_drop_watch_after_n_events_is_an_abrupt_close(server: FakeApiServer, core: Any) -> None:
    """A dropped watch ends without the terminating chunk; the client sees ProtocolError."""
    _seed(core, "a", "b", "c")
    server.faults.drop_watch(after_events=2)
    seen: list[str] = []
    with pytest.raises(ProtocolError):  # noqa: PT012
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, "default", timeout_seconds=5
        ):
            seen.append(event["object"].metadata.name)  # noqa: PERF401
    assert seen == ["a", "b"]
    again = [e["object"].metadata.name for e in _first(core, 3)]
    assert again == ["a", "b", "c"]


def _first(core: Any, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, "default", timeout_seconds=5):
        events.append(event)
        if len(events) == count:
            w.stop()
    return events


def test_truncated_line_is_dropped_by_the_client(server: FakeApiServer, core: Any) -> None:
    """A last event cut in half (no newline) then a clean end: the client silently drops it."""
    _seed(core, "a", "b")
    server.faults.truncate_watch_line(after_events=1)
    names = [
        e["object"].metadata.name
        for e in watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=5)
    ]
    assert names == ["a"]


def test_expire_watch_mid_stream(server: FakeApiServer, core: Any) -> None:
    """After N events the watch gets a 410 ERROR event, which the client raises."""
    _seed(core, "a", "b")
    server.faults.expire_watch(after_events=1)
    seen: list[str] = []
    with pytest.raises(ApiException) as exc:  # noqa: PT012
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, "default", timeout_seconds=5
        ):
            seen.append(event["object"].metadata.name)  # noqa: PERF401
    assert seen == ["a"]
    assert exc.value.status == 410
    assert exc.value.reason.startswith("Expired: too old resource version: ")


def test_expire_watch_on_connect_as_http_410(server: FakeApiServer, core: Any) -> None:
    """The HTTP mode refuses the watch with a 410 response, which the client raises unretried."""
    server.faults.expire_watch(http=True)
    with pytest.raises(ApiException) as exc:
        list(watch.Watch().stream(core.list_namespaced_config_map, "default", timeout_seconds=5))
    assert exc.value.status == 410
    assert exc.value.reason == "Gone"


def test_expire_open_watches_now(server: FakeApiServer) -> None:
    """expire_open_watches sends 410 to every watch open at that moment and ends it."""
    first = RawWatch(server, f"{CMS}?watch=1&resourceVersion={server.resource_version}")
    second = RawWatch(server, f"/api/v1/pods?watch=1&resourceVersion={server.resource_version}")
    try:
        assert server.wait_for_watches(2)
        server.faults.expire_open_watches()
        for stream in (first, second):
            event = stream.event()
            assert event["type"] == "ERROR"
            assert event["object"]["code"] == 410
            assert stream.rest() == b""
    finally:
        first.close()
        second.close()


def test_blank_line_knob(server: FakeApiServer, core: Any) -> None:
    """An injected blank line reaches the client, whose stream yields None for it."""
    _seed(core, "a")
    server.faults.inject_watch_line(b"", after_events=1)
    events: list[Any] = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, "default"):
        events.append(event)
        if len(events) == 2:
            w.stop()
    assert events[0]["type"] == "ADDED"
    assert events[1] is None


def test_fail_next_with_retry_after_filtered_by_verb(
    server: FakeApiServer, http: urllib3.PoolManager
) -> None:
    """429 with Retry-After answers the next k matching requests; others pass untouched."""
    server.faults.fail_next(2, status=429, retry_after=3, verb="LIST", path="/configmaps")
    assert raw(http, server, "GET", "/api/v1/namespaces/default/pods").status == 200
    for _ in range(2):
        answer = raw(http, server, "GET", CMS)
        assert answer.status == 429
        assert answer.headers["Retry-After"] == "3"
        assert answer.json["reason"] == "TooManyRequests"
        assert answer.json["details"] == {"retryAfterSeconds": 3}
    assert raw(http, server, "GET", CMS).status == 200


def test_fail_next_500_raises_service_exception(server: FakeApiServer, core: Any) -> None:
    """A 500 fault reaches the 37.x client as ServiceException with the Status body."""
    server.faults.fail_next(status=500)
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_pod("default")
    assert exc.value.status == 500
    assert type(exc.value).__name__ == "ServiceException"
    assert core.list_namespaced_pod("default").items == []


def test_delay_waits_on_the_server_clock(
    server: FakeApiServer, clock: FakeClock, http: urllib3.PoolManager
) -> None:
    """A delayed response is held until the fake clock moves past the delay."""
    server.faults.delay(5, count=1, verb="GET")
    _ = raw(http, server, "POST", CMS, cm_body("a"))
    results: list[int] = []
    worker = threading.Thread(
        target=lambda: results.append(raw(http, server, "GET", CMS + "/a").status)
    )
    worker.start()
    assert clock.wait_for_blocked(1)
    assert results == []
    clock.advance(5)
    worker.join(10)
    assert results == [200]
    assert raw(http, server, "GET", CMS + "/a").status == 200


def test_requests_are_recorded(server: FakeApiServer, core: Any) -> None:
    """Every request is recorded with its verb, path and decoded query."""
    core.list_namespaced_pod("default", label_selector="a in (b, c)")
    last = server.requests[-1]
    assert last.verb == "LIST"
    assert last.path == "/api/v1/namespaces/default/pods"
    assert last.query == {"labelSelector": "a in (b, c)"}
