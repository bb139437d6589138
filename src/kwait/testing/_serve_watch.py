"""WATCH requests on the fake API server: options, the initial state, the event stream.

`serve_watch` answers a WATCH as kube-apiserver does: it validates the
options (``sendInitialEvents``, ``resourceVersionMatch``), starts from now,
from a resourceVersion in the history (410 once compacted) or with the
current objects, and streams chunked events with the watch's selectors
applied to each event (an object leaving the selection is a DELETED), with
periodic, pre-timeout, on-demand and ``initial-events-end`` bookmarks, 410
ERROR events, the end of a slow watch, and the scripted `WatchFault`s.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

from kwait.testing._errors import StatusError
from kwait.testing._faults import Faults, WatchFault
from kwait.testing._http import JSON, Handler, Route, dumps, parse_int, truthy
from kwait.testing._lifecycle import Store
from kwait.testing._serve_list import (
    TOO_LARGE_WAIT,
    list_options_invalid,
    parse_selectors,
    too_large,
)
from kwait.testing._store import Watcher

__all__ = ["WatchSettings", "serve_watch"]


class WatchSettings(Protocol):
    """What serving a watch reads from the server, at the time it needs it."""

    @property
    def store(self) -> Store:
        """The objects and history watched; its clock is the server's."""

    @property
    def faults(self) -> Faults:
        """Armed watch faults."""

    @property
    def bookmarks(self) -> bool:
        """Whether periodic and pre-timeout bookmarks are sent (may change mid-watch)."""

    @property
    def bookmark_interval(self) -> float:
        """Seconds between periodic bookmarks."""

    @property
    def emulate_watchlist_default(self) -> bool:
        """Default a watch without resourceVersion to ``sendInitialEvents=true``."""

    @property
    def watch_queue_limit(self) -> int:
        """Events a slow watch may have queued before it is ended."""

    @property
    def default_watch_timeout(self) -> float:
        """Seconds a watch without ``timeoutSeconds`` lasts."""


class _Abort(Exception):  # noqa: N818 - control flow, not an error
    """Stop a watch by cutting the connection."""


def serve_watch(  # noqa: C901, PLR0912, PLR0915 - mirrors the API server's decision table
    server: WatchSettings, handler: Handler, route: Route, query: dict[str, str], path: str
) -> None:
    """Answer a WATCH of `route` with `query` on `handler` until it ends.

    Raises `StatusError` for invalid options before the response starts.
    """
    rtype = route.rtype
    store = server.store
    clock = store.clock
    labels, fields = parse_selectors(rtype, query)
    rv = query.get("resourceVersion", "")
    rvm = query.get("resourceVersionMatch", "")
    sie_given = "sendInitialEvents" in query
    sie = truthy(query.get("sendInitialEvents"))
    allow_bookmarks = truthy(query.get("allowWatchBookmarks"))
    timeout = parse_int("timeoutSeconds", query.get("timeoutSeconds"))
    errors: list[tuple[str, str, str]] = []
    if sie_given and rvm != "NotOlderThan":
        errors.append(
            (
                "resourceVersionMatch",
                "FieldValueForbidden",
                (
                    "Forbidden: sendInitialEvents requires setting resourceVersionMatch to "
                    "NotOlderThan"
                ),
            )
        )
    if rvm:
        if not sie_given:
            errors.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    (
                        "Forbidden: resourceVersionMatch is forbidden for watch unless "
                        "sendInitialEvents is provided"
                    ),
                )
            )
        if rvm != "NotOlderThan":
            errors.append(
                (
                    "resourceVersionMatch",
                    "FieldValueNotSupported",
                    f'Unsupported value: "{rvm}": supported values: "NotOlderThan"',
                )
            )
    if errors:
        raise list_options_invalid(errors)
    if rv and not rv.isdigit():
        raise StatusError(
            500,
            "InternalError",
            f'Internal error occurred: resourceVersion: Invalid value: "{rv}": '
            f'strconv.ParseUint: parsing "{rv}": invalid syntax',
        )
    requested = int(rv) if rv else 0
    defaulted = not sie_given and not rvm and requested == 0 and server.emulate_watchlist_default
    initial = sie if sie_given else requested == 0
    initial_end_bookmark = allow_bookmarks and ((sie_given and sie) or defaulted)
    fault = server.faults.take_watch_fault(path)
    if fault is not None and fault.action == "expire_http":
        raise StatusError(410, "Expired", "The resourceVersion for the provided watch is too old.")
    if fault is not None and fault.replay:
        initial, requested, sie_given = True, 0, False
    seconds = float(timeout) if timeout else server.default_watch_timeout
    watcher = Watcher(rtype, route.namespace, labels, fields, server.watch_queue_limit)
    stream = _WatchStream(server, handler, watcher, fault, allow_bookmarks=allow_bookmarks)
    _watch_for_hangup(handler, store, watcher)
    with clock.participant():
        started = clock.monotonic()
        stream.deadline = started + seconds
        try:
            waited = initial and requested > 0 and sie_given
            if waited:
                stream.begin()  # the real server answers 200 at once, then waits
                with store.cond:
                    clock.wait_for(
                        store.cond,
                        lambda: store.rv >= requested or store.closed,
                        TOO_LARGE_WAIT,
                    )
                    current = store.rv
                if current < requested:
                    stream.error(too_large(requested, current))
                    return
            # Register the watch before the headers go out: a client that sees the 200
            # may write at once, and that write must reach this watch.
            if initial:
                snapshot, start_rv = store.open_watch(watcher, None, snapshot=True)
            elif requested == 0:
                snapshot, start_rv = store.open_watch(watcher, None, snapshot=False)
            else:
                try:
                    snapshot, _ = store.open_watch(watcher, requested, snapshot=False)
                except StatusError as err:
                    stream.begin()
                    stream.error(err)
                    return
                start_rv = requested
            if not waited:
                stream.begin()
            stream.run(
                snapshot,
                start_rv=start_rv,
                skip_upto=0 if initial else requested,
                initial_end_bookmark=initial_end_bookmark,
            )
        except _Abort:
            handler.cut()
        except OSError:
            handler.close_connection = True
        finally:
            store.close_watch(watcher)


def _watch_for_hangup(handler: Handler, store: Store, watcher: Watcher) -> None:
    """End `watcher` as soon as its client hangs up, instead of at its next event.

    A helper thread blocks peeking at the socket: end of file means the
    client is gone; data means the watch ended and the next request
    arrived (peeking consumes nothing, so the handler reads it normally).
    """
    conn = handler.connection

    def peek() -> None:
        try:
            data = conn.recv(1, socket.MSG_PEEK)
        except OSError:
            data = b""
        if not data:
            with store.cond:
                watcher.client_gone = True
                store.cond.notify_all()

    handler.server.start_helper(peek, "kwait-fake-watch-hangup")


class _WatchStream:
    """Writes one watch response: headers, events, bookmarks, faults, end."""

    def __init__(
        self,
        server: WatchSettings,
        handler: Handler,
        watcher: Watcher,
        fault: WatchFault | None,
        *,
        allow_bookmarks: bool,
    ) -> None:
        self.server = server
        self.handler = handler
        self.watcher = watcher
        self.fault = fault
        self.allow_bookmarks = allow_bookmarks
        self.sent = 0
        self.deadline = 0.0
        self.finished = False
        self.last_rv = 0

    def begin(self) -> None:
        handler = self.handler
        handler.send_response(200)
        handler.send_header("Content-Type", JSON)
        handler.send_header("Cache-Control", "no-cache, private")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.flush()

    def end(self) -> None:
        if not self.finished:
            self.finished = True
            self.handler.end_chunks()

    def error(self, err: StatusError) -> None:
        self.handler.write_chunk(dumps({"type": "ERROR", "object": err.status()}))
        self.end()

    def _fault_now(self) -> bool:
        """Apply an armed fault that is due; True if the stream is over."""
        fault = self.fault
        if fault is None or self.sent < fault.after_events:
            return False
        if fault.action == "drop":
            raise _Abort
        if fault.action == "end":
            self.fault = None
            self.end()
            return True
        if fault.action == "expire":
            self.fault = None
            self.expire()
            return True
        if fault.action == "raw":
            self.fault = None
            self.handler.write_chunk(fault.raw + b"\n")
        return False

    def expire(self) -> None:
        store = self.server.store
        with store.cond:
            oldest = store.history_start
        self.error(
            StatusError(
                410,
                "Expired",
                f"too old resource version: {self.last_rv} ({max(oldest, self.last_rv + 1)})",
            )
        )

    def emit(self, kind: str, obj: dict[str, Any]) -> bool:
        """Write one event; True if the stream is over (a fault ended it)."""
        line = dumps({"type": kind, "object": obj})
        fault = self.fault
        if fault is not None and fault.action == "truncate" and self.sent >= fault.after_events:
            self.handler.write_chunk(line[: max(1, len(line) // 2)])
            self.end()
            return True
        self.handler.write_chunk(line)
        self.sent += 1
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if kind != "ERROR" and isinstance(rv, str) and rv.isdigit():
            self.last_rv = max(self.last_rv, int(rv))
        return self._fault_now()

    def bookmark(self, rv: int, *, initial_events_end: bool = False) -> bool:
        rtype = self.watcher.rtype
        return self.emit(
            "BOOKMARK", rtype.bookmark_object(str(rv), initial_events_end=initial_events_end)
        )

    def run(  # noqa: C901, PLR0911, PLR0912, PLR0915 - mirrors the API server's decision table
        self,
        snapshot: list[dict[str, Any]],
        *,
        start_rv: int,
        skip_upto: int,
        initial_end_bookmark: bool,
    ) -> None:
        server = self.server
        store = server.store
        clock = store.clock
        watcher = self.watcher
        self.last_rv = start_rv
        if self._fault_now():
            return
        for obj in snapshot:
            if watcher.matches(obj) and self.emit("ADDED", obj):
                return
        self.last_rv = start_rv
        if initial_end_bookmark and self.bookmark(start_rv, initial_events_end=True):
            return
        started = clock.monotonic()
        next_periodic = started + server.bookmark_interval
        pre_deadline: float | None = self.deadline - 2.0
        if pre_deadline is not None and pre_deadline <= started:
            pre_deadline = None
        while True:
            with store.cond:
                while True:
                    ready = (
                        watcher.queue
                        or store.closed
                        or watcher.expire_requested
                        or watcher.overflowed
                        or watcher.client_gone
                        or (watcher.bookmark_requested and self.allow_bookmarks)
                    )
                    if ready:
                        break
                    wake = self.deadline
                    if self.allow_bookmarks and server.bookmarks:
                        wake = min(wake, next_periodic)
                        if pre_deadline is not None:
                            wake = min(wake, pre_deadline)
                    now = clock.monotonic()
                    if now >= wake:
                        break
                    clock.wait(store.cond, wake - now)
                events = list(watcher.queue)
                watcher.queue.clear()
                expire = watcher.expire_requested
                overflowed = watcher.overflowed
                on_demand = watcher.bookmark_requested
                watcher.bookmark_requested = False
                closed = store.closed
                current = store.rv
                if watcher.client_gone:
                    self.handler.close_connection = True
                    return
            for event in events:
                if event.rv <= skip_upto:
                    continue
                translated = watcher.translate(event)
                if translated is not None and self.emit(*translated):
                    return
            if expire:
                self.expire()
                return
            if closed or overflowed:
                self.end()
                return
            now = clock.monotonic()
            if now >= self.deadline:
                self.end()
                return
            if not self.allow_bookmarks:
                continue
            due = on_demand
            if server.bookmarks:
                if now >= next_periodic:
                    next_periodic = now + server.bookmark_interval
                    due = due or current > start_rv
                if pre_deadline is not None and now >= pre_deadline:
                    pre_deadline = None
                    due = due or current > start_rv
            if due and self.bookmark(current):
                return
