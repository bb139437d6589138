"""WATCH: framing, start semantics, selector synthesis, 410, bookmarks, timeouts (checklist 5-9)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import urllib3
from kubernetes import watch as _watch
from kubernetes.client.exceptions import ApiException

from kwait.testing import FakeApiServer, FakeClock

from .conftest import RawWatch, cm_body, pod_body, raw

# The official client is only partly typed; treat it as dynamic here.
watch: Any = _watch

CMS = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"


def _names(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["object"]["metadata"].get("name", "")) for e in events]


def test_framing_headers_first_compact_lines_clean_end(
    server: FakeApiServer, clock: FakeClock, core: Any
) -> None:
    """Headers arrive before any event; events are compact JSON lines; timeout ends the chunks."""
    stream = RawWatch(server, CMS + "?watch=1&timeoutSeconds=30")
    try:
        assert stream.status_line == "HTTP/1.1 200 OK"
        assert stream.headers["content-type"] == "application/json"
        assert stream.headers["transfer-encoding"] == "chunked"
        core.create_namespaced_config_map("default", cm_body("a"))
        line = stream.line()
        event = json.loads(line)
        assert line == json.dumps(event, separators=(",", ":")).encode()
        assert event["type"] == "ADDED"
        assert event["object"]["kind"] == "ConfigMap"
        assert event["object"]["apiVersion"] == "v1"
        assert clock.wait_for_blocked(1)
        clock.advance(29.9)
        assert clock.wait_for_blocked(1)
        assert server.watch_count == 1
        clock.advance(0.1)
        assert stream.rest() == b""
        assert stream.ended
    finally:
        stream.close()


def test_initial_events_in_key_order_with_their_own_rvs(server: FakeApiServer, core: Any) -> None:
    """A watch without RV starts with ADDED for each object, sorted, each with its own RV."""
    rvs = {}
    for name in ("b", "c", "a"):
        rvs[name] = core.create_namespaced_config_map(
            "default", cm_body(name)
        ).metadata.resource_version
    core.patch_namespaced_config_map("b", "default", {"data": {"x": "1"}})
    rvs["b"] = core.read_namespaced_config_map("b", "default").metadata.resource_version
    stream = RawWatch(server, CMS + "?watch=true")
    try:
        events = [stream.event() for _ in range(3)]
        assert _names(events) == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")]
        assert {
            e["object"]["metadata"]["name"]: e["object"]["metadata"]["resourceVersion"]
            for e in events
        } == rvs
    finally:
        stream.close()


def test_watch_from_rv_replays_strictly_after_it(server: FakeApiServer, core: Any) -> None:
    """A watch from RV N sends no snapshot, only the writes after N, in order."""
    core.create_namespaced_config_map("default", cm_body("a"))
    start = server.resource_version
    core.create_namespaced_config_map("default", cm_body("b"))
    core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
    core.delete_namespaced_config_map("b", "default")
    stream = RawWatch(server, f"{CMS}?watch=1&resourceVersion={start}")
    try:
        events = [stream.event() for _ in range(3)]
        assert _names(events) == [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
        assert rvs == [start + 1, start + 2, start + 3]
    finally:
        stream.close()


def test_watch_from_a_future_rv_waits_and_skips_up_to_it(server: FakeApiServer, core: Any) -> None:
    """A watch from an RV not reached yet is accepted and skips writes up to that RV."""
    future = server.resource_version + 2
    stream = RawWatch(server, f"{CMS}?watch=1&resourceVersion={future}")
    try:
        for name in ("a", "b", "c"):
            core.create_namespaced_config_map("default", cm_body(name))
        assert _names([stream.event()]) == [("ADDED", "c")]
    finally:
        stream.close()


def test_deleted_event_carries_last_state_and_deletion_rv(server: FakeApiServer, core: Any) -> None:
    """DELETED shows the last stored object, with the RV of the deletion itself."""
    core.create_namespaced_config_map("default", cm_body("a", k="v"))
    start = server.resource_version
    core.delete_namespaced_config_map("a", "default")
    stream = RawWatch(server, f"{CMS}?watch=1&resourceVersion={start}")
    try:
        event = stream.event()
        assert event["type"] == "DELETED"
        assert event["object"]["data"] == {"k": "v"}
        assert event["object"]["metadata"]["resourceVersion"] == str(start + 1)
    finally:
        stream.close()


def test_field_selector_transitions_synthesize_added_and_deleted(
    server: FakeApiServer, core: Any
) -> None:
    """Entering the selection is ADDED; leaving it is DELETED with old content and the new RV."""
    core.create_namespaced_pod("default", pod_body("p"))
    stream = RawWatch(server, PODS + "?watch=1&fieldSelector=status.phase%3DRunning")
    try:
        pod = core.read_namespaced_pod("p", "default")
        pod.status.phase = "Running"
        core.replace_namespaced_pod_status("p", "default", pod)
        added = stream.event()
        assert added["type"] == "ADDED"
        assert added["object"]["status"]["phase"] == "Running"
        core.patch_namespaced_pod_status("p", "default", {"metadata": {"labels": {"x": "1"}}})
        assert stream.event()["type"] == "MODIFIED"
        core.patch_namespaced_pod_status("p", "default", {"status": {"phase": "Succeeded"}})
        gone = stream.event()
        assert gone["type"] == "DELETED"
        assert gone["object"]["status"]["phase"] == "Running"
        assert gone["object"]["metadata"]["resourceVersion"] == str(server.resource_version)
        core.delete_namespaced_pod("p", "default")
        core.create_namespaced_pod("default", pod_body("q"))
        pod = core.read_namespaced_pod("q", "default")
        pod.status.phase = "Running"
        core.replace_namespaced_pod_status("q", "default", pod)
        assert _names([stream.event()]) == [("ADDED", "q")]
    finally:
        stream.close()


def test_label_selector_transitions(server: FakeApiServer, core: Any) -> None:
    """Relabelling moves an object in and out of a label-selected watch."""
    core.create_namespaced_config_map("default", cm_body("a", {"app": "web"}))
    core.create_namespaced_config_map("default", cm_body("b"))
    stream = RawWatch(server, CMS + "?watch=1&labelSelector=app%3Dweb")
    try:
        assert _names([stream.event()]) == [("ADDED", "a")]
        core.patch_namespaced_config_map("b", "default", {"metadata": {"labels": {"app": "web"}}})
        core.patch_namespaced_config_map("a", "default", {"metadata": {"labels": {"app": None}}})
        core.patch_namespaced_config_map("a", "default", {"data": {"ignored": "yes"}})
        core.delete_namespaced_config_map("b", "default")
        events = [stream.event() for _ in range(3)]
        assert _names(events) == [("ADDED", "b"), ("DELETED", "a"), ("DELETED", "b")]
        assert events[1]["object"]["metadata"]["labels"] == {"app": "web"}
    finally:
        stream.close()


def test_too_old_rv_is_an_error_event_then_end(server: FakeApiServer, core: Any) -> None:
    """A watch from a compacted RV is HTTP 200 with one 410 ERROR event, then a clean end."""
    old = server.resource_version
    core.create_namespaced_config_map("default", cm_body("a"))
    core.create_namespaced_config_map("default", cm_body("b"))
    server.compact()
    stream = RawWatch(server, f"{CMS}?watch=1&resourceVersion={old}")
    try:
        assert stream.status_line == "HTTP/1.1 200 OK"
        assert stream.event() == {
            "type": "ERROR",
            "object": {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f"too old resource version: {old} ({old + 2})",
                "reason": "Expired",
                "code": 410,
            },
        }
        assert stream.rest() == b""
    finally:
        stream.close()


def test_history_is_bounded(clock: FakeClock, http: urllib3.PoolManager) -> None:
    """Only `history_size` events are kept; a watch from before them gets 410."""
    with FakeApiServer(clock=clock, kubelet=False, history_size=3) as small:
        start = small.resource_version
        for i in range(5):
            raw(http, small, "POST", CMS, cm_body(f"c{i}"))
        assert len(list(small.store.iter_events())) == 3
        ok = RawWatch(small, f"{CMS}?watch=1&resourceVersion={start + 2}")
        assert _names([ok.event()]) == [("ADDED", "c2")]
        ok.close()
        gone = RawWatch(small, f"{CMS}?watch=1&resourceVersion={start + 1}")
        event = gone.event()
        assert event["type"] == "ERROR"
        assert event["object"]["message"] == f"too old resource version: {start + 1} ({start + 2})"
        gone.close()


def test_client_raises_410_from_the_error_event(server: FakeApiServer, core: Any) -> None:
    """The official client turns the 410 ERROR event into ApiException(410, 'Expired: ...')."""
    old = server.resource_version
    core.create_namespaced_config_map("default", cm_body("a"))
    server.compact()
    with pytest.raises(ApiException) as exc:
        list(
            watch.Watch().stream(
                core.list_namespaced_config_map,
                "default",
                resource_version=str(old),
                timeout_seconds=5,
            )
        )
    assert exc.value.status == 410
    assert exc.value.reason == f"Expired: too old resource version: {old} ({old + 1})"


def test_open_watches_survive_compaction(server: FakeApiServer, core: Any) -> None:
    """Compacting the history does not disturb a watch that is already open."""
    stream = RawWatch(server, f"{CMS}?watch=1&resourceVersion={server.resource_version}")
    try:
        server.compact()
        core.create_namespaced_config_map("default", cm_body("a"))
        assert _names([stream.event()]) == [("ADDED", "a")]
    finally:
        stream.close()


def test_bookmark_shape_and_initial_events_end(server: FakeApiServer, core: Any) -> None:
    """With allowWatchBookmarks and no RV, the initial ADDED events end in an annotated BOOKMARK."""
    core.create_namespaced_pod("default", pod_body("p"))
    current = server.resource_version
    stream = RawWatch(server, PODS + "?watch=1&allowWatchBookmarks=true")
    try:
        assert stream.event()["type"] == "ADDED"
        assert stream.event() == {
            "type": "BOOKMARK",
            "object": {
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {
                    "resourceVersion": str(current),
                    "annotations": {"k8s.io/initial-events-end": "true"},
                },
                "spec": {"containers": None},
                "status": {},
            },
        }
    finally:
        stream.close()


def test_no_initial_bookmark_without_the_watchlist_default(clock: FakeClock) -> None:
    """With the 1.34 default emulation off, a plain watch gets no initial-events-end bookmark."""
    with FakeApiServer(clock=clock, kubelet=False, emulate_watchlist_default=False) as old_style:
        raw(urllib3.PoolManager(), old_style, "POST", CMS, cm_body("a"))
        stream = RawWatch(old_style, CMS + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=1")
        assert stream.event()["type"] == "ADDED"
        assert clock.wait_for_blocked(1)
        clock.advance(1)
        assert stream.rest() == b""
        stream.close()


def test_send_initial_events_bookmark_and_explicit_false(server: FakeApiServer, core: Any) -> None:
    """sendInitialEvents=true ends its ADDED events with a bookmark; false sends no snapshot."""
    core.create_namespaced_config_map("default", cm_body("a"))
    query = "?watch=1&allowWatchBookmarks=1&resourceVersionMatch=NotOlderThan&sendInitialEvents="
    with_initial = RawWatch(server, CMS + query + "true")
    without = RawWatch(server, CMS + query + "false")
    try:
        assert with_initial.event()["type"] == "ADDED"
        bookmark = with_initial.event()
        assert bookmark["type"] == "BOOKMARK"
        assert bookmark["object"]["metadata"]["annotations"] == {
            "k8s.io/initial-events-end": "true"
        }
        core.create_namespaced_config_map("default", cm_body("b"))
        assert _names([without.event()]) == [("ADDED", "b")]
        assert _names([with_initial.event()]) == [("ADDED", "b")]
    finally:
        with_initial.close()
        without.close()


def test_send_initial_events_with_a_future_rv_is_a_504_error_event(
    server: FakeApiServer, clock: FakeClock
) -> None:
    """SendInitialEvents from an RV never reached sends a 504 ERROR event after 3 clock seconds."""
    future = server.resource_version + 10
    stream = RawWatch(
        server,
        f"{CMS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion={future}",
    )
    try:
        assert clock.wait_for_blocked(1)
        clock.advance(3)
        event = stream.event()
        assert event["type"] == "ERROR"
        assert event["object"]["code"] == 504
        assert event["object"]["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
        assert stream.rest() == b""
    finally:
        stream.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "sendInitialEvents=true",
            (
                "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
                "resourceVersionMatch to NotOlderThan"
            ),
        ),
        (
            "resourceVersionMatch=NotOlderThan",
            (
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch "
                "unless "
                "sendInitialEvents is provided"
            ),
        ),
        (
            "sendInitialEvents=true&resourceVersionMatch=Exact",
            (
                "[resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
                "resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: "
                '"Exact": supported values: "NotOlderThan"]'
            ),
        ),
    ],
)
def test_invalid_watch_options_are_422(
    server: FakeApiServer, http: urllib3.PoolManager, query: str, message: str
) -> None:
    """Invalid watch option combinations are refused with 422 before streaming."""
    answer = raw(http, server, "GET", f"{CMS}?watch=1&{query}")
    assert answer.status == 422
    assert answer.json["message"] == f'ListOptions.meta.k8s.io "" is invalid: {message}'


def test_pre_timeout_bookmark_needs_a_newer_rv(
    server: FakeApiServer, clock: FakeClock, core: Any
) -> None:
    """The bookmark 2 s before the deadline is sent only if the RV moved past the start."""
    start = server.resource_version
    quiet = RawWatch(
        server, f"{CMS}?watch=1&allowWatchBookmarks=1&resourceVersion={start}&timeoutSeconds=10"
    )
    busy = RawWatch(
        server, f"{CMS}?watch=1&allowWatchBookmarks=1&resourceVersion={start}&timeoutSeconds=10"
    )
    try:
        assert clock.wait_for_blocked(2)
        clock.advance(7.9)
        assert clock.wait_for_blocked(2)
        clock.advance(0.1)  # t = 8 = deadline - 2: no write yet, so no bookmark
        assert clock.wait_for_blocked(2)
        clock.advance(2)
        assert quiet.rest() == b""
        # busy saw the same deadline pass without a write either
        assert busy.rest() == b""
    finally:
        quiet.close()
        busy.close()
    start = server.resource_version
    stream = RawWatch(
        server, f"{PODS}?watch=1&allowWatchBookmarks=1&resourceVersion={start}&timeoutSeconds=10"
    )
    try:
        core.create_namespaced_config_map("default", cm_body("other-kind"))
        assert clock.wait_for_blocked(1)
        clock.advance(8)
        bookmark = stream.event()
        assert bookmark["type"] == "BOOKMARK"
        assert bookmark["object"]["metadata"] == {"resourceVersion": str(start + 1)}
        assert clock.wait_for_blocked(1)
        clock.advance(2)
        assert stream.rest() == b""
    finally:
        stream.close()


def test_periodic_bookmarks_and_the_switch(
    server: FakeApiServer, clock: FakeClock, core: Any
) -> None:
    """Every bookmark_interval a bookmark carries the current RV; the switch turns them off."""
    start = server.resource_version
    stream = RawWatch(
        server, f"{PODS}?watch=1&allowWatchBookmarks=1&resourceVersion={start}&timeoutSeconds=1000"
    )
    try:
        core.create_namespaced_config_map("default", cm_body("a"))
        assert clock.wait_for_blocked(1)
        clock.advance(60)
        assert stream.event()["object"]["metadata"]["resourceVersion"] == str(start + 1)
        server.bookmarks = False
        core.create_namespaced_config_map("default", cm_body("b"))
        assert clock.wait_for_blocked(1)
        clock.advance(60)
        assert clock.wait_for_blocked(1)
        server.bookmark_now()
        assert stream.event()["object"]["metadata"]["resourceVersion"] == str(start + 2)
    finally:
        stream.close()


def test_no_bookmarks_unless_allowed(server: FakeApiServer, clock: FakeClock, core: Any) -> None:
    """A watch that did not ask for bookmarks never gets one, not even on demand."""
    stream = RawWatch(
        server, f"{CMS}?watch=1&resourceVersion={server.resource_version}&timeoutSeconds=100"
    )
    try:
        core.create_namespaced_config_map("default", cm_body("a"))
        assert stream.event()["type"] == "ADDED"
        server.bookmark_now()
        assert clock.wait_for_blocked(1)
        clock.advance(100)
        assert stream.rest() == b""
    finally:
        stream.close()


def test_official_client_stream_ends_at_the_fake_timeout(clock: FakeClock, core: Any) -> None:
    """Watch.stream with timeout_seconds ends when the fake clock passes the deadline."""
    core.create_namespaced_config_map("default", cm_body("a"))
    seen: list[tuple[str, str]] = []

    def consume() -> None:
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, "default", timeout_seconds=45
        ):
            seen.append((event["type"], event["object"].metadata.name))  # noqa: PERF401

    worker = threading.Thread(target=consume)
    worker.start()
    assert clock.wait_for_blocked(1)
    assert worker.is_alive()
    clock.advance(45)
    worker.join(10)
    assert not worker.is_alive()
    assert seen == [("ADDED", "a")]


def test_namespaced_watch_ignores_other_namespaces(server: FakeApiServer, core: Any) -> None:
    """A namespaced watch sees only its namespace; the all-namespaces watch sees both."""
    core.create_namespace({"metadata": {"name": "other"}})
    one = RawWatch(server, f"{CMS}?watch=1&resourceVersion={server.resource_version}")
    every = RawWatch(
        server, f"/api/v1/configmaps?watch=1&resourceVersion={server.resource_version}"
    )
    try:
        core.create_namespaced_config_map("other", cm_body("x"))
        core.create_namespaced_config_map("default", cm_body("y"))
        assert _names([one.event()]) == [("ADDED", "y")]
        assert _names([every.event(), every.event()]) == [("ADDED", "x"), ("ADDED", "y")]
    finally:
        one.close()
        every.close()
