"""The watch engine against hostile servers: bounded restarts, bounded waits, nothing leaked.

Each scenario runs the real adapter against the in-process API server with one of
its faults armed on every watch, on a `FakeClock` that jumps whenever every thread
waits on it: ten seconds of restarts take a fraction of a real second.
"""

from __future__ import annotations

import contextlib
import gc
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as _k8s
from kubernetes import config as _k8s_config

import kwait
from kwait import Observation
from kwait.testing import FakeApiServer, FakeClock

k8s: Any = _k8s
k8s_config: Any = _k8s_config

FOREVER = 10**6
SECONDS = 10.0


@pytest.fixture
def clock() -> FakeClock:
    """A clock that jumps when every participating thread waits on it."""
    return FakeClock(autojump=True)


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeApiServer]:
    """A fake API server on the fake clock, without the kubelet or bookmarks."""
    with FakeApiServer(clock=clock, kubelet=False, bookmarks=False, seed=1) as running:
        yield running


@pytest.fixture
def api(server: FakeApiServer) -> Iterator[Any]:
    """An official-client ApiClient for the fake server."""
    client = k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
    yield client
    client.close()


def create_configmap(api: Any, name: str = "cm", value: str = "1") -> None:
    """Create the ConfigMap `name` in default."""
    body = {"metadata": {"name": name}, "data": {"v": value}}
    k8s.CoreV1Api(api).create_namespaced_config_map("default", body)


def rates(server: FakeApiServer, run: Callable[[], None], clock: FakeClock) -> dict[str, float]:
    """Requests per (fake) second, by verb, while `run` lets SECONDS pass."""
    server.requests.clear()
    start = clock.monotonic()
    run()
    elapsed = clock.monotonic() - start
    assert elapsed >= SECONDS
    verbs = [r.verb for r in server.requests]
    return {verb: verbs.count(verb) / elapsed for verb in ("LIST", "WATCH")}


def track_for_ten_seconds(api: Any, clock: FakeClock) -> kwait.Tracker:
    """Track configmaps/cm for SECONDS of fake time, then stop."""
    tracker = kwait.Tracker("configmaps", "cm", api_client=api, clock=clock)
    with tracker:
        clock.sleep(SECONDS)
    return tracker


def test_one_event_then_end_replayed_forever_is_bounded_and_recorded_once(
    server: FakeApiServer, api: Any, clock: FakeClock
) -> None:
    """A server that replays the object and hangs up on every watch: <= 1 restart a second.

    The replayed ADDED carries a resourceVersion already recorded, so the object's
    timeline has its one state, and the report-facing stats count the replays.
    """
    create_configmap(api)
    server.faults.end_watch(1, count=FOREVER, replay=True)
    box: list[kwait.Tracker] = []
    rate = rates(server, lambda: box.append(track_for_ten_seconds(api, clock)), clock)
    assert rate["WATCH"] <= 1.5
    assert rate["LIST"] <= 0.2
    [tracker] = box
    states = [e for e in tracker.entries() if isinstance(e, Observation)]
    assert [(o.type, o.identity.name) for o in states] == [("LISTED", "cm")]
    assert tracker.recorder.stats.duplicates >= 3


@pytest.mark.parametrize("http", [False, True], ids=["error-event", "http-410"])
def test_a_server_expiring_every_watch_relists_at_a_bounded_rate(
    server: FakeApiServer, api: Any, clock: FakeClock, *, http: bool
) -> None:
    """410 on every watch: at most 2 LIST and 5 WATCH a second; one coalesced gap entry."""
    create_configmap(api)
    server.faults.expire_watch(count=FOREVER, http=http)
    box: list[kwait.Tracker] = []
    rate = rates(server, lambda: box.append(track_for_ten_seconds(api, clock)), clock)
    assert rate["WATCH"] <= 5
    assert rate["LIST"] <= 2
    [tracker] = box
    gaps = [e for e in tracker.entries() if isinstance(e, kwait.Gap)]
    assert len(gaps) == 1
    assert gaps[0].count == tracker.recorder.stats.relists >= 3
    [said] = tracker.recorder.continuity.describe(clock.monotonic())[:1]
    assert said.startswith(f"the watch expired {tracker.recorder.continuity.expirations} times")


@pytest.mark.parametrize("how", ["drop", "end"])
def test_a_server_closing_every_watch_at_once_is_not_hammered(
    server: FakeApiServer, api: Any, clock: FakeClock, how: str
) -> None:
    """Watches cut (or ended cleanly) before any event: restarts back off; the log stays small."""
    create_configmap(api)
    if how == "drop":
        server.faults.drop_watch(0, count=FOREVER)
    else:
        server.faults.end_watch(0, count=FOREVER)
    box: list[kwait.Tracker] = []
    rate = rates(server, lambda: box.append(track_for_ten_seconds(api, clock)), clock)
    assert rate["WATCH"] <= 1.5
    assert rate["LIST"] <= 0.2
    [tracker] = box
    reconnects = [e for e in tracker.entries() if isinstance(e, kwait.Reconnect)]
    assert len(reconnects) == 1
    assert reconnects[0].count == tracker.recorder.stats.reconnects >= 3


def test_retry_after_on_the_initial_list_is_honoured_and_the_call_keeps_its_timeout(
    server: FakeApiServer, api: Any, clock: FakeClock
) -> None:
    """503 + Retry-After 60 on every LIST: wait_for(timeout=1) fails at 1 s, typed."""
    server.faults.fail_next(FOREVER, status=503, retry_after=60, verb="LIST")
    start = clock.monotonic()
    with pytest.raises(kwait.WaitTimeoutError) as failed:
        kwait.wait_for("pods", "web", until="create", api_client=api, clock=clock, timeout=1)
    assert clock.monotonic() - start <= 1.5
    text = str(failed.value)
    assert "never got connected within 1 s" in text
    assert "the server is currently unable to handle the request" in text
    lists = [r for r in server.requests if r.verb == "LIST"]
    assert len(lists) == 1  # the Retry-After of 60 s was honoured


def test_a_server_that_accepts_and_never_answers_cannot_hold_a_call() -> None:
    """A listening socket that never answers: wait_for(timeout=1) returns in < 3 s, typed."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshakes; nothing ever reads or answers
    port = silent.getsockname()[1]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    api = k8s_config.new_client_from_config_dict(config)
    clock = kwait.SystemClock()
    before = threading.active_count()
    start = clock.monotonic()
    try:
        with pytest.raises(kwait.WaitTimeoutError, match="never got connected within 1 s"):
            kwait.wait_for("pods", "web", until="create", api_client=api, timeout=1)
        assert clock.monotonic() - start < 3.0
    finally:
        api.close()
        silent.close()
    assert threading.active_count() <= before


# ---------------------------------------------------------------- cleanup on every exit path


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(list(Path("/proc/self/fd").iterdir()))


def api_clients() -> int:
    """How many ApiClient instances are alive."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, k8s.ApiClient))


def kwait_threads() -> list[str]:
    """The names of kwait's tracker threads still alive."""
    return [t.name for t in threading.enumerate() if t.name.startswith("kwait-tracker")]


class BoomError(Exception):
    """What the test's action raises."""


@pytest.mark.usefixtures("server")
def test_an_act_that_raises_stops_and_joins_the_tracker(api: Any) -> None:
    """act= raising in a one-call form: the exception leaves with no tracker thread behind."""
    fds = open_fds()

    def act() -> None:
        raise BoomError

    for _ in range(20):
        with pytest.raises(BoomError):
            kwait.wait_for("configmaps", "cm", until="create", api_client=api, act=act, timeout=5)
    assert kwait_threads() == []
    assert open_fds() <= fds + 2  # the client's pool may keep a connection or two


def test_a_non_callable_act_is_refused_before_anything_starts(api: Any) -> None:
    """act=create() (called, not passed) is a TypeError, and no tracker was started."""
    with pytest.raises(TypeError, match="did you call it"):
        kwait.wait_for("configmaps", "cm", until="create", api_client=api, act=42)  # type: ignore[arg-type]
    assert kwait_threads() == []


@pytest.mark.usefixtures("server")
def test_ctrl_c_while_a_tracker_starts_leaves_nothing_running(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KeyboardInterrupt while start() waits for the initial LIST stops and joins the thread."""
    for _ in range(20):
        tracker = kwait.Tracker("configmaps", api_client=api)

        def interrupted(timeout: float | None) -> bool:  # noqa: ARG001 - Ctrl-C arrives here
            raise KeyboardInterrupt

        monkeypatch.setattr(tracker.recorder, "wait_synced", interrupted)
        with pytest.raises(KeyboardInterrupt):
            tracker.start()
        assert not tracker.running
    assert kwait_threads() == []


def test_calls_without_api_client_reuse_one_client_per_kubeconfig(
    server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty calls without api_client=: one ApiClient, built once for the kubeconfig file."""
    monkeypatch.setenv("KUBECONFIG", str(server.write_kubeconfig(tmp_path / "config")))
    create_configmap(k8s_config.new_client_from_config_dict(server.kubeconfig_dict()))
    kwait.wait_for("configmaps", "cm", until="create", timeout=5)
    clients = api_clients()
    fds = open_fds()
    for _ in range(40):
        kwait.wait_for("configmaps", "cm", until="create", timeout=5)
    assert api_clients() <= clients
    assert open_fds() <= fds + 2
    assert kwait_threads() == []


def test_one_call_wait_with_a_fresh_client_makes_at_most_three_requests(
    server: FakeApiServer,
) -> None:
    """No discovery for pods: a fresh client's one-call wait is one LIST and one WATCH."""
    writer = k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
    fresh = k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
    pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    server.requests.clear()
    kwait.wait_for(
        "pods",
        "web",
        until="create",
        api_client=fresh,
        act=lambda: k8s.CoreV1Api(writer).create_namespaced_pod("default", pod),
        timeout=10,
    )
    made = [(r.verb, r.path) for r in server.requests if r.verb != "CREATE"]
    assert len(made) <= 3, made
    assert [verb for verb, _ in made[:2]] == ["LIST", "WATCH"]
    with contextlib.suppress(Exception):
        writer.close()
        fresh.close()


def test_a_failed_wait_over_many_objects_fetches_events_for_the_shown_ones_only(
    server: FakeApiServer, api: Any
) -> None:
    """Twelve objects fail a wait: Events are listed for the five the report shows, not twelve."""
    core = k8s.CoreV1Api(api)
    for i in range(12):
        body = {"metadata": {"name": f"cm-{i}", "labels": {"app": "many"}}, "data": {"v": "0"}}
        core.create_namespaced_config_map("default", body)
    server.requests.clear()
    with pytest.raises(kwait.WaitTimeoutError) as failed:
        kwait.wait_for(
            "configmaps",
            label_selector="app=many",
            until="jsonpath={.data.v}=1",
            api_client=api,
            timeout=0,
        )
    assert len(failed.value.report.objects) == 12
    event_lists = [r for r in server.requests if r.path.endswith("/events")]
    assert 1 <= len(event_lists) <= 5
