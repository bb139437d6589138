"""The adapter over real HTTP (the in-process fake API server): ends, drops, 410s, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

import kwait
from kwait import Gap, Observation, Reconnect
from kwait.testing import FakeApiServer, FakeClock


@pytest.fixture
def server_clock() -> FakeClock:
    """The fake server's clock: watch timeouts end only when the test advances it."""
    return FakeClock()


@pytest.fixture
def server(server_clock: FakeClock) -> Iterator[FakeApiServer]:
    """A fake API server with no kubelet, on the fake clock."""
    with FakeApiServer(clock=server_clock, kubelet=False, bookmarks=False) as running:
        yield running


@pytest.fixture
def api(server: FakeApiServer) -> Any:
    """An official-client ApiClient for the fake server."""
    return k8s_config.new_client_from_config_dict(server.kubeconfig_dict())  # type: ignore[no-untyped-call]


def configmap(core: k8s.CoreV1Api, name: str, value: str) -> None:
    """Create or update the ConfigMap `name` with data {v: value}."""
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name), data={"v": value})
    try:
        core.create_namespaced_config_map("default", body)
    except k8s.ApiException as exc:
        if exc.status != 409:
            raise
        core.patch_namespaced_config_map(name, "default", body)


def values(tracker: kwait.Tracker) -> list[str]:
    """data.v of every ADDED/MODIFIED observation, in order."""
    return [
        e.object["data"]["v"]
        for e in tracker.entries()
        if isinstance(e, Observation) and e.type in {"ADDED", "MODIFIED"} and e.object
    ]


def test_a_clean_end_of_stream_is_resumed_not_taken_as_an_answer(
    server: FakeApiServer, server_clock: FakeClock, api: Any
) -> None:
    """When the server's timeoutSeconds ends the watch, the tracker resumes and keeps recording."""
    core = k8s.CoreV1Api(api)
    with kwait.track("configmaps", "cm", namespace="default", api_client=api) as tracker:
        assert server.wait_for_watches(1)
        configmap(core, "cm", "1")
        tracker.wait_for("create", timeout=10)
        server_clock.advance(120)  # past the watch's timeoutSeconds: a clean end
        configmap(core, "cm", "2")
        tracker.wait_for("jsonpath={.data.v}=2", timeout=10)
    assert values(tracker) == ["1", "2"]
    reasons = [e.reason for e in tracker.entries() if isinstance(e, Reconnect)]
    assert reasons[:1] == ["stream ended cleanly"]
    assert tracker.recorder.error is None


def test_dropped_and_truncated_streams_lose_nothing(server: FakeApiServer, api: Any) -> None:
    """A dropped connection and a half-written line are both resumed without loss."""
    core = k8s.CoreV1Api(api)
    server.faults.drop_watch(after_events=2)  # the first watch connection
    server.faults.truncate_watch_line(after_events=2)  # the second one
    with kwait.track("configmaps", "cm", namespace="default", api_client=api) as tracker:
        for i in range(8):
            configmap(core, "cm", str(i))
        tracker.sync(timeout=10)
    assert values(tracker) == [str(i) for i in range(8)]
    lost = [e.reason for e in tracker.entries() if isinstance(e, Reconnect)]
    assert len(lost) == 2
    assert all(reason.startswith("connection lost") for reason in lost)
    assert "ended inside an event" in lost[1]


def test_a_410_relists_through_http_and_records_a_gap(
    server: FakeApiServer, server_clock: FakeClock, api: Any
) -> None:
    """A watch that reaches the server after a compaction gets 410; the gap names the change."""
    core = k8s.CoreV1Api(api)
    configmap(core, "cm", "1")
    server.faults.delay(60, verb="WATCH", count=1)  # hold the first watch request
    with kwait.track("configmaps", "cm", namespace="default", api_client=api) as tracker:
        assert server_clock.wait_for_blocked(1, timeout=10)
        configmap(core, "cm", "2")
        server.compact()
        server_clock.advance(60)
        tracker.wait_for("jsonpath={.data.v}=2", timeout=10)
    [gap] = [e for e in tracker.entries() if isinstance(e, Gap)]
    assert [i.name for i in gap.changed] == ["cm"]
    assert "too old resource version" in gap.reason
    assert tracker.recorder.stats.relists == 1


def test_server_refusals_become_typed_errors(api: Any) -> None:
    """A bad selector is a 400 with the parser's message; a typo gets suggestions."""
    bad = kwait.Tracker("pods", label_selector="app in (a b)", api_client=api)
    with pytest.raises(kwait.errors.ApiBadRequestError) as err:
        bad.start()
    assert "found 'b', expected: ',' or ')'" in str(err.value)
    assert "LIST pods in namespace 'default'" in str(err.value)
    with pytest.raises(kwait.errors.UnknownResourceError) as unknown:
        kwait.Tracker("confgimaps", api_client=api).start()
    assert unknown.value.suggestions[0] == "configmaps"


def test_stopping_a_tracker_hangs_up_its_watch(server: FakeApiServer, api: Any) -> None:
    """After stop(), the server sees the client gone and ends the watch; nothing lingers."""
    with kwait.track("configmaps", "cm", namespace="default", api_client=api):
        assert server.wait_for_watches(1)
    store = server._store
    with store.cond:
        assert store.cond.wait_for(lambda: not store.watchers, timeout=5)
