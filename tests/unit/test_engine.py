"""The watch engine, driven by scripted sources under a fake clock: nothing lost, nothing silent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import kwait
from kwait import Gap, Observation, Reconnect, Tracker
from kwait.errors import ApiForbiddenError, ApiTransientError, ApiUnauthorizedError
from kwait.testing import Drop, Expire, Fail, FakeClock, Hang, Pause, ScriptedSource, event


def pod(name: str, rv: int, uid: str | None = None, **status: Any) -> dict[str, Any]:
    """Build a raw pod with the given name, resourceVersion and status fields."""
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": "ci",
            "uid": uid or f"uid-{name}",
            "resourceVersion": str(rv),
        },
        "status": dict(status),
    }


def bookmark(rv: int) -> kwait._watch.source.RawEvent:
    """Build a BOOKMARK event at `rv`."""
    return event("BOOKMARK", {"kind": "Pod", "metadata": {"resourceVersion": str(rv)}})


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock that jumps when every participating thread is blocked on it."""
    return FakeClock(autojump=True)


@pytest.fixture
def source(clock: FakeClock) -> ScriptedSource:
    """An empty scripted source on the fake clock."""
    return ScriptedSource(clock, "pods in namespace 'ci'")


@pytest.fixture
def tracking(clock: FakeClock, source: ScriptedSource) -> Iterator[Callable[..., Tracker]]:
    """Start trackers over the scripted source; stop every one after the test."""
    started: list[Tracker] = []

    def start(**options: Any) -> Tracker:
        tracker = Tracker(source=source, clock=clock, **options)
        started.append(tracker)
        return tracker.start()

    yield start
    for tracker in started:
        tracker.stop()
        assert not tracker.running


def wait_until(tracker: Tracker, predicate: Callable[[], bool], timeout: float = 600) -> None:
    """Block (on the tracker's clock) until `predicate` holds; fail the test at the timeout."""
    cond = tracker.recorder.condition
    with cond:
        ok = tracker.clock.wait_for(cond, lambda: predicate() or tracker.recorder.closed, timeout)
    assert ok, f"not reached: {tracker.entries()}"
    assert predicate(), f"the tracker stopped first: {tracker.recorder.error!r}"


def observed(tracker: Tracker) -> list[tuple[str, str, str]]:
    """The (type, name, resourceVersion) of every observation, in order."""
    return [
        (e.type, e.identity.name, e.resource_version)
        for e in tracker.entries()
        if isinstance(e, Observation)
    ]


def watch_calls(source: ScriptedSource) -> list[str]:
    """The resourceVersions every WATCH started from."""
    return [rv for verb, rv in source.calls if verb == "WATCH"]


def test_lists_then_watches_from_the_lists_resource_version(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """Listed objects are recorded first, and the watch starts at the list's RV, not before."""
    source.add_list([pod("a", 3), pod("b", 7)], "10")
    source.add_watch(event("MODIFIED", pod("a", 11, phase="Running")), Hang())
    tracker = tracking()
    wait_until(tracker, lambda: len(observed(tracker)) == 3)
    assert observed(tracker) == [
        ("LISTED", "a", "3"),
        ("LISTED", "b", "7"),
        ("MODIFIED", "a", "11"),
    ]
    assert source.calls[:2] == [("LIST", ""), ("WATCH", "10")]


def test_clean_end_resumes_from_the_last_event_without_delay(
    source: ScriptedSource, tracking: Callable[..., Tracker], clock: FakeClock
) -> None:
    """A stream that ends cleanly after a healthy while is resumed from its last RV at once."""
    source.add_list([], "5")
    source.add_watch(event("ADDED", pod("a", 6)), event("MODIFIED", pod("a", 9)), Pause(55))
    source.add_watch(event("MODIFIED", pod("a", 12)), Hang())
    start = clock.monotonic()
    tracker = tracking()
    wait_until(tracker, lambda: len(observed(tracker)) == 3)
    assert watch_calls(source) == ["5", "9"]
    reconnects = [e for e in tracker.entries() if isinstance(e, Reconnect)]
    assert [(r.resource_version, r.reason, r.delay) for r in reconnects] == [
        ("9", "stream ended cleanly", 0.0)
    ]
    assert reconnects[0].time == start + 55


def test_a_short_stream_is_resumed_no_sooner_than_the_minimum_interval(
    source: ScriptedSource, tracking: Callable[..., Tracker], clock: FakeClock
) -> None:
    """A stream that delivered events but ended at once does not reset the backoff: 1 s apart."""
    source.add_list([], "5")
    source.add_watch(event("ADDED", pod("a", 6)), event("MODIFIED", pod("a", 9)))
    source.add_watch(event("MODIFIED", pod("a", 12)), Hang())
    start = clock.monotonic()
    tracker = tracking()
    wait_until(tracker, lambda: len(observed(tracker)) == 3)
    assert watch_calls(source) == ["5", "9"]
    [reconnect] = [e for e in tracker.entries() if isinstance(e, Reconnect)]
    assert (reconnect.resource_version, reconnect.delay) == ("9", 1.0)
    assert observed(tracker)[-1] == ("MODIFIED", "a", "12")
    last = [e for e in tracker.entries() if isinstance(e, Observation)][-1]
    assert last.time - start == pytest.approx(1.0)


def test_bookmarks_advance_the_resume_point_but_are_not_states(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """After a bookmark, a reconnect resumes from the bookmark's RV; no observation is made."""
    source.add_list([pod("a", 2)], "4")
    source.add_watch(bookmark(40))
    source.add_watch(Hang())
    tracker = tracking()
    wait_until(tracker, lambda: len(watch_calls(source)) == 2)
    assert watch_calls(source) == ["4", "40"]
    assert observed(tracker) == [("LISTED", "a", "2")]
    assert tracker.recorder.stats.bookmarks == 1


def test_dropped_connections_lose_and_duplicate_nothing(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """Drops mid-stream are resumed from the last RV: every event once, in order, drops visible."""
    source.add_list([], "100")
    source.add_watch(event("ADDED", pod("a", 101)), event("MODIFIED", pod("a", 102)), Drop())
    source.add_watch(event("MODIFIED", pod("a", 103)), Drop("read timed out"))
    source.add_watch(event("MODIFIED", pod("a", 104)), event("DELETED", pod("a", 105)), Hang())
    tracker = tracking()
    wait_until(tracker, lambda: len(observed(tracker)) == 5)
    assert [rv for _, _, rv in observed(tracker)] == ["101", "102", "103", "104", "105"]
    assert watch_calls(source) == ["100", "102", "103"]
    reasons = [e.reason for e in tracker.entries() if isinstance(e, Reconnect)]
    assert reasons == [
        "connection lost: connection reset by peer",
        "connection lost: read timed out",
    ]


def test_a_server_that_closes_at_once_is_not_hammered(
    source: ScriptedSource, tracking: Callable[..., Tracker], clock: FakeClock
) -> None:
    """Empty streams back off exponentially: few reconnects in a virtual minute, growing delays."""
    source.add_list([], "1")
    for _ in range(40):
        source.add_watch()
    tracker = tracking()
    start = clock.monotonic()
    wait_until(tracker, lambda: clock.monotonic() - start >= 60)
    calls = len(watch_calls(source))
    assert 5 <= calls < 20
    [reconnect] = [e for e in tracker.entries() if isinstance(e, Reconnect)]
    assert reconnect.count == calls  # one entry, counted: the log stays small
    assert 1.0 <= reconnect.delay <= 10.0
    assert tracker.recorder.stats.reconnects == calls


def test_410_relists_and_records_a_gap_naming_what_changed(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """A 410 relists; the gap names modified, new and vanished objects but not unchanged ones."""
    source.add_list([pod("same", 2), pod("mod", 3), pod("gone", 4)], "10")
    source.add_watch(event("MODIFIED", pod("mod", 11, phase="Pending")), Expire())
    source.add_list([pod("same", 2), pod("mod", 15, phase="Running"), pod("new", 14)], "20")
    source.add_watch(event("MODIFIED", pod("new", 21)), Hang())
    tracker = tracking()
    wait_until(tracker, lambda: ("MODIFIED", "new", "21") in observed(tracker))
    gaps = [e for e in tracker.entries() if isinstance(e, Gap)]
    assert len(gaps) == 1
    gap = gaps[0]
    assert (gap.from_rv, gap.to_rv) == ("11", "20")
    assert "too old resource version" in gap.reason
    assert sorted(i.name for i in gap.changed) == ["gone", "mod", "new"]
    after = [
        (e.type, e.identity.name, e.resource_version, e.synthetic)
        for e in tracker.entries()
        if isinstance(e, Observation) and e.seq > gap.seq
    ]
    assert after == [
        ("LISTED", "mod", "15", True),
        ("LISTED", "new", "14", True),
        ("DELETED", "gone", "20", True),
        ("MODIFIED", "new", "21", False),
    ]
    assert watch_calls(source) == ["10", "20"]
    assert tracker.timeline("same").gaps == []
    assert [type(e).__name__ for e in tracker.timeline("mod")] == [
        "Observation",
        "Observation",
        "Gap",
        "Observation",
    ]


def test_forbidden_stops_with_a_typed_error_and_no_retry(
    source: ScriptedSource, clock: FakeClock
) -> None:
    """A 403 on the initial LIST is raised from start() once, not retried in a loop."""
    body = {"reason": "Forbidden", "message": 'pods is forbidden: User "ci" cannot list'}
    source.add_list_error(
        ApiForbiddenError(403, body["reason"], body["message"], request="LIST pods", body=body)
    )
    tracker = Tracker(source=source, clock=clock)
    with pytest.raises(kwait.errors.ApiForbiddenError, match="cannot list"):
        tracker.start()
    assert source.calls == [("LIST", "")]
    assert not tracker.running


def test_fatal_error_mid_watch_reaches_the_reader(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """A 401 during the watch stops the engine; a reader waiting for entries receives it."""
    source.add_list([], "1")
    source.add_watch(Fail(ApiUnauthorizedError(401, "Unauthorized", "")))
    tracker = tracking()
    wait_until(tracker, lambda: tracker.recorder.closed)
    with pytest.raises(kwait.errors.ApiUnauthorizedError):
        tracker.recorder.wait_for_entries(len(tracker.entries()), 10)


def test_429_waits_for_retry_after_on_the_clock(
    source: ScriptedSource, tracking: Callable[..., Tracker], clock: FakeClock
) -> None:
    """A 429 with Retry-After 7 s resumes 7 virtual seconds later, from the same RV."""
    source.add_list([], "3")
    busy = ApiTransientError(429, "TooManyRequests", "", retry_after=7)
    source.add_watch(Pause(1), Fail(busy))
    source.add_watch(event("ADDED", pod("a", 4)), Hang())
    start = clock.monotonic()
    tracker = tracking()
    wait_until(tracker, lambda: len(observed(tracker)) == 1)
    assert watch_calls(source) == ["3", "3"]
    [obs] = [e for e in tracker.entries() if isinstance(e, Observation)]
    assert obs.time - start == pytest.approx(8.0)


def test_transient_list_failures_are_retried_until_the_list_succeeds(
    source: ScriptedSource, clock: FakeClock
) -> None:
    """A 503 and a refused connection on the first LIST are retried; start() then succeeds."""
    source.add_list_error(ApiTransientError(503, "", "etcd unavailable"))
    source.add_list_error(kwait.ConnectionLostError("connection refused"))
    source.add_list([pod("a", 1)], "2")
    with Tracker(source=source, clock=clock) as tracker:
        assert observed(tracker) == [("LISTED", "a", "1")]
    assert source.calls[:3] == [("LIST", "")] * 3


def test_start_gives_up_after_start_timeout_and_says_why(clock: FakeClock) -> None:
    """If the initial LIST keeps failing, start() fails at start_timeout naming the failures."""
    source = ScriptedSource(clock)
    for _ in range(100):
        source.add_list_error(kwait.ConnectionLostError("connection refused"))
    tracker = Tracker(source=source, clock=clock, start_timeout=5)
    with pytest.raises(
        kwait.WaitTimeoutError, match=r"never got connected within 5 s.*connection refused"
    ) as failed:
        tracker.start()
    assert "attempts" in str(failed.value)
    assert not tracker.running


def test_stop_interrupts_a_hanging_stream_and_a_backoff(clock: FakeClock) -> None:
    """stop() returns promptly whether the engine waits on the network or in a backoff pause."""
    hanging = ScriptedSource(clock)
    hanging.add_list([], "1")
    pausing = ScriptedSource(clock)
    pausing.add_list([], "1")
    pausing.add_watch(Fail(ApiTransientError(503, "", "", retry_after=3600)))
    before = set(threading.enumerate())
    for src in (hanging, pausing):
        tracker = Tracker(source=src, clock=clock).start()
        tracker.stop()
        assert not tracker.running
        assert tracker.recorder.closed
        assert tracker.recorder.error is None
    assert set(threading.enumerate()) <= before


def test_delete_and_recreate_are_two_identities(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """The same name deleted and created again is a new identity with its own timeline."""
    source.add_list([], "1")
    source.add_watch(
        event("ADDED", pod("web", 2, uid="first")),
        event("DELETED", pod("web", 3, uid="first")),
        event("ADDED", pod("web", 4, uid="second")),
        Hang(),
    )
    tracker = tracking(name="web")
    wait_until(tracker, lambda: len(observed(tracker)) == 3)
    assert [i.uid for i in tracker.identities()] == ["first", "second"]
    timelines = tracker.timelines()
    assert [len(t) for t in timelines.values()] == [2, 1]
    assert tracker.timeline().identity.uid == "second"
    assert [o.type for o in tracker.recorder.timeline_of("first").observations] == [
        "ADDED",
        "DELETED",
    ]


def _size(obj: dict[str, Any]) -> int:
    return len(json.dumps(obj, separators=(",", ":")))


def test_old_states_lose_their_bytes_beyond_the_budget(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """Past max_bytes, the oldest states keep their metadata but drop the object."""
    source.add_list([], "1")
    source.add_watch(*(event("MODIFIED", pod("a", rv)) for rv in range(10, 20)), Hang())
    tracker = tracking(max_bytes=4 * _size(pod("a", 10)))
    wait_until(tracker, lambda: len(observed(tracker)) == 10)
    obs = [e for e in tracker.entries() if isinstance(e, Observation)]
    assert [o.evicted for o in obs] == [True] * 6 + [False] * 4
    assert all(o.object is None for o in obs[:6])
    assert [o.resource_version for o in obs] == [str(rv) for rv in range(10, 20)]
    assert tracker.recorder.stats.evicted == 6
    assert tracker.recorder.stored_bytes <= 4 * _size(pod("a", 10))


def test_the_latest_state_of_every_object_is_never_evicted(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """Idle objects keep their current state however many events other objects make."""
    idle = [pod(f"idle-{i}", 2 + i) for i in range(5)]
    source.add_list(idle, "10")
    source.add_watch(*(event("MODIFIED", pod("busy", rv)) for rv in range(11, 111)), Hang())
    tracker = tracking(max_bytes=0)
    wait_until(tracker, lambda: len(observed(tracker)) == 105)
    for i in range(5):
        [last] = tracker.timeline(f"idle-{i}").observations
        assert not last.evicted
        assert last.object is not None
        assert last.object["metadata"]["name"] == f"idle-{i}"
    busy = tracker.timeline("busy").observations
    assert [o.evicted for o in busy] == [True] * 99 + [False]


def test_a_timeline_is_a_snapshot(source: ScriptedSource, tracking: Callable[..., Tracker]) -> None:
    """Eviction after a timeline was handed out does not change what it holds."""
    source.add_list([pod("a", 2)], "2")
    source.add_watch(Pause(1.0), *(event("MODIFIED", pod("a", rv)) for rv in range(3, 8)), Hang())
    tracker = tracking(max_bytes=0)
    before = tracker.timeline("a")
    wait_until(tracker, lambda: len(observed(tracker)) == 6)
    [first] = before.observations
    assert not first.evicted
    assert first.object is not None
    assert first.object["metadata"]["resourceVersion"] == "2"
    assert tracker.timeline("a").observations[0].evicted


def test_every_read_of_an_object_is_a_fresh_copy(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """A caller that mutates the object it read cannot change the recorded state."""
    source.add_list([pod("a", 2)], "2")
    tracker = tracking()
    [obs] = tracker.timeline("a").observations
    assert obs.object is not None
    obs.object["metadata"]["name"] = "changed"
    assert obs.object["metadata"]["name"] == "a"


def test_managed_fields_are_dropped_on_arrival(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """Managed fields never reach the timeline: they are large and no matcher reads them."""
    noisy = pod("a", 2)
    noisy["metadata"]["managedFields"] = [{"manager": "kubelet", "operation": "Update"}]
    source.add_list([noisy], "3")
    tracker = tracking()
    [obs] = tracker.timeline("a").observations
    assert obs.object is not None
    assert "managedFields" not in obs.object["metadata"]


# ------------------------------------------------------------ where kwait differs from client-go


def test_an_event_of_unknown_type_is_skipped_counted_and_does_not_restart_the_watch(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """Like client-go's reflector, an unknown event type is skipped; kwait also counts it."""
    source.add_list([], "1")
    strange = kwait._watch.source.RawEvent("SYNC", pod("a", 2))  # type: ignore[arg-type]
    source.add_watch(strange, event("ADDED", pod("a", 3)), Hang())
    tracker = tracking()
    wait_until(tracker, lambda: len(observed(tracker)) == 1)
    assert observed(tracker) == [("ADDED", "a", "3")]
    assert watch_calls(source) == ["1"]
    assert tracker.recorder.stats.unknown_events == 1
    assert tracker.recorder.stats.unknown_types == {"SYNC"}


def test_an_event_without_resource_version_breaks_the_stream_and_is_not_recorded(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """An event with no resourceVersion cannot be ordered: resume from the last good RV instead."""
    source.add_list([], "1")
    nameless = pod("a", 0)
    del nameless["metadata"]["resourceVersion"]
    source.add_watch(event("ADDED", pod("a", 2)), event("MODIFIED", nameless))
    source.add_watch(event("MODIFIED", pod("a", 3)), Hang())
    tracker = tracking()
    wait_until(tracker, lambda: len(observed(tracker)) == 2)
    assert observed(tracker) == [("ADDED", "a", "2"), ("MODIFIED", "a", "3")]
    assert watch_calls(source) == ["1", "2"]
    [reconnect] = [e for e in tracker.entries() if isinstance(e, Reconnect)]
    assert "without metadata.resourceVersion" in reconnect.reason


@pytest.mark.parametrize("rv", ["", "0"])
def test_a_list_without_a_usable_resource_version_is_refused(clock: FakeClock, rv: str) -> None:
    """client-go would watch from ""/"0" (replaying or skipping events); kwait refuses, says why."""
    source = ScriptedSource(clock)
    source.add_list([pod("a", 1)], rv)
    tracker = Tracker(source=source, clock=clock)
    with pytest.raises(kwait.KwaitError, match=f"answered resourceVersion '{rv}'"):
        tracker.start()
    assert not tracker.running
    assert source.calls == [("LIST", "")]


def test_a_relist_older_than_what_was_seen_is_listed_again(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """After a 410, a relist from a lagging cache (older RV) is not accepted: kwait lists again."""
    source.add_list([pod("a", 5)], "10")
    source.add_watch(event("MODIFIED", pod("a", 12)), Expire())
    source.add_list([pod("a", 5)], "8")  # older than rv 12 already recorded
    source.add_list([pod("a", 14)], "20")
    source.add_watch(Hang())
    tracker = tracking()
    wait_until(tracker, lambda: len(watch_calls(source)) == 2)
    assert watch_calls(source) == ["10", "20"]
    assert [rv for _, _, rv in observed(tracker)] == ["5", "12", "14"]
    [gap] = [e for e in tracker.entries() if isinstance(e, Gap)]
    assert (gap.from_rv, gap.to_rv) == ("12", "20")
    reasons = [e.reason for e in tracker.entries() if isinstance(e, Reconnect)]
    assert any("older than 12 already seen" in r for r in reasons)


def test_a_replayed_event_is_not_recorded_twice(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """The same event at the same resourceVersion (or an older one) is counted, not recorded."""
    source.add_list([pod("a", 5)], "10")
    source.add_watch(event("MODIFIED", pod("a", 11)), event("MODIFIED", pod("a", 11)))
    source.add_watch(
        event("ADDED", pod("a", 5)), event("MODIFIED", pod("a", 11)), event("DELETED", pod("a", 13))
    )
    source.add_watch(Hang())
    tracker = tracking()
    wait_until(tracker, lambda: len(watch_calls(source)) == 3)
    assert observed(tracker) == [
        ("LISTED", "a", "5"),
        ("MODIFIED", "a", "11"),
        ("DELETED", "a", "13"),
    ]
    assert tracker.recorder.stats.duplicates == 3


def test_expiring_watches_coalesce_into_one_gap_and_the_report_says_so(
    source: ScriptedSource, tracking: Callable[..., Tracker]
) -> None:
    """Thirty 410s with nothing changed: one Gap entry counting them, and a sentence in reports."""
    source.add_list([pod("a", 5)], "10")
    for _ in range(30):
        source.add_watch(Expire())
        source.add_list([pod("a", 5)], "10")
    source.add_watch(Hang())
    tracker = tracking()
    wait_until(tracker, lambda: tracker.recorder.stats.relists == 30)
    gaps = [e for e in tracker.entries() if isinstance(e, Gap)]
    assert [g.count for g in gaps] == [30]
    with pytest.raises(kwait.WaitTimeoutError) as failed:
        tracker.wait_for("jsonpath={.status.phase}=Running", timeout=1)
    assert "watch: the watch expired 30 times in" in str(failed.value)
    assert failed.value.report.to_json()["connection"][0].startswith("the watch expired 30 times")
