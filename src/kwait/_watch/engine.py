"""The watch engine: LIST, then WATCH from the list's resourceVersion, losing nothing silently.

The engine runs in a tracker's background thread and turns a `WatchSource`
into entries of a `Recorder`:

1. LIST the collection; every item becomes a ``LISTED`` observation, and the
   list's resourceVersion is where watching starts (so nothing between the
   LIST and the WATCH is lost).
2. WATCH from the last resourceVersion with bookmarks. Every event becomes an
   observation; bookmarks only advance the resourceVersion.
3. The stream ends cleanly (server timeout) or drops (connection reset, read
   timeout, a truncated line): resume from the last resourceVersion and record
   a `Reconnect`. A stream that delivered nothing backs off before the next try,
   so a server that closes at once is not hammered.
4. 410 Gone: relist, compare with what was known, record a `Gap` naming every
   object that changed across it, record the new states (``LISTED``,
   ``synthetic``) and synthetic ``DELETED`` for objects gone, and carry on from
   the relist's resourceVersion.
5. 429 and 5xx: wait for the server's Retry-After (or the backoff) and retry.
   Anything else the server refuses (400, 401, 403, 404, 422 ...) stops the
   engine with a typed error that readers of the recorder receive.

Every wait goes through the injected clock; stopping interrupts them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kwait._errors import ApiError, ApiTransientError, ConnectionLostError
from kwait._time.backoff import Backoff, BackoffState, ExponentialBackoff
from kwait._time.clock import io_wait
from kwait._time.protocol import Clock
from kwait._watch.source import ExpiredError, ListResult, RawEvent, WatchSource, WatchStream
from kwait._watch.timeline import Identity, ObservationType, Recorder
from kwait._watch.wire import Head

__all__ = ["EngineStopped", "WatchEngine"]

DEFAULT_TIMEOUT_SECONDS = 60
"""Server-side watch timeout: the server ends each stream cleanly after this."""


def default_reconnect_backoff() -> Backoff:
    """Return the reconnect backoff: 0.1 s doubling to a 10 s cap, with 10 % seeded jitter."""
    return ExponentialBackoff(initial=0.1, factor=2.0, cap=10.0, jitter=0.1, seed=0)


class EngineStopped(Exception):  # noqa: N818 - internal control flow, never escapes the engine
    """Raised inside the engine when it is asked to stop."""


@dataclass
class _State:
    resource_version: str = ""


class WatchEngine:
    """Drive a `WatchSource` into a `Recorder` until stopped or a fatal error."""

    def __init__(
        self,
        source: WatchSource,
        recorder: Recorder,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        """Prepare an engine; `run` (usually in a thread) does the work."""
        if timeout_seconds < 1:
            raise ValueError(f"timeout_seconds must be at least 1, got {timeout_seconds}")
        self.source = source
        self.recorder = recorder
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self._backoff: BackoffState = (backoff or default_reconnect_backoff()).start()
        self._lock = threading.Condition()
        self._stopping = False
        self._stream: WatchStream | None = None
        self._state = _State()
        # Taken in the constructing thread: time cannot jump while the engine's thread starts.
        self._participation = clock.participant()

    # ------------------------------------------------------------------ control
    @property
    def resource_version(self) -> str:
        """The resourceVersion the engine would resume from now."""
        return self._state.resource_version

    def stop(self) -> None:
        """Ask the engine to stop: close the open stream and interrupt any wait."""
        with self._lock:
            self._stopping = True
            stream = self._stream
            self._lock.notify_all()
        if stream is not None:
            stream.close()

    def _check_stop(self) -> None:
        with self._lock:
            if self._stopping:
                raise EngineStopped

    def _pause(self, seconds: float) -> None:
        """Wait `seconds` on the clock, returning early (with EngineStopped) on stop."""
        if seconds <= 0:
            self._check_stop()
            return
        with self._lock:
            self.clock.wait_for(self._lock, lambda: self._stopping, seconds)
        self._check_stop()

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        """Run until stopped; a fatal error is handed to the recorder, never raised."""
        try:
            with self._participation:
                self._run()
        except EngineStopped:
            self.recorder.close()
        except BaseException as error:  # noqa: BLE001 - readers receive it through the recorder
            self.recorder.fail(error)
        else:  # pragma: no cover - _run only ends by raising
            self.recorder.close()

    def _run(self) -> None:
        listed = self._with_retries(self.source.list, "LIST")
        self.recorder.add_batch([("LISTED", raw, head) for raw, head in listed.raw_items()])
        self._state.resource_version = listed.resource_version
        self.recorder.mark_synced()
        while True:
            self._check_stop()
            try:
                self._watch_once()
            except ExpiredError as expired:
                self._relist(expired)

    def _watch_once(self) -> None:
        """Open one watch and drain it; return on a clean end or a lossless drop."""
        rv = self._state.resource_version
        started = self.clock.monotonic()
        delivered = 0
        try:
            with io_wait(self.clock):
                stream = self.source.watch(rv, self.timeout_seconds)
            with self._lock:
                if self._stopping:
                    stream.close()
                    raise EngineStopped
                self._stream = stream
            try:
                for batch in _batches(stream, self.clock):
                    delivered += len(batch)
                    self._record(batch)
                    self._check_stop()
            finally:
                with self._lock:
                    self._stream = None
                stream.close()
            self._check_stop()
            reason = "stream ended cleanly"
        except ConnectionLostError as lost:
            self._check_stop()
            reason = f"connection lost: {lost}"
        except ApiTransientError as busy:
            self._check_stop()
            # The server's Retry-After is a minimum, as in kwait.retry.RetryPolicy.
            delay = max(busy.retry_after or 0.0, self._backoff.next_delay())
            self.recorder.add_reconnect(self._state.resource_version, str(busy), delay)
            self._pause(delay)
            return
        productive = delivered > 0 or self.clock.monotonic() - started >= 1.0
        if productive:
            self._backoff.reset()
            delay = 0.0
        else:
            delay = self._backoff.next_delay()
        self.recorder.add_reconnect(self._state.resource_version, reason, delay)
        self._pause(delay)

    def _record(self, batch: list[RawEvent]) -> None:
        """Record a batch of events and move the resume point past them."""
        observed: list[tuple[ObservationType, bytes, Head]] = []
        rv = ""
        for event in batch:
            head = event.head
            if event.type == "BOOKMARK":
                self.recorder.stats.bookmarks += 1
            else:
                observed.append((event.type, event.raw, head))
            rv = head.resource_version or rv
        self.recorder.add_batch(observed)
        if rv:
            self._state.resource_version = rv

    def _with_retries(self, call: Callable[[], ListResult], what: str) -> ListResult:
        """Run a LIST, retrying transient failures on the backoff; fatal errors propagate."""
        while True:
            self._check_stop()
            try:
                with io_wait(self.clock):
                    result = call()
            except (ApiTransientError, ConnectionLostError) as error:
                retry_after = error.retry_after if isinstance(error, ApiError) else None
                delay = max(retry_after or 0.0, self._backoff.next_delay())
                self.recorder.add_reconnect(
                    self._state.resource_version, f"{what} failed: {error}", delay
                )
                self._pause(delay)
            else:
                self._backoff.reset()
                return result

    def _relist(self, expired: ExpiredError) -> None:
        """After a 410: relist, record the gap and the states on its far side."""
        from_rv = self._state.resource_version
        listed = self._with_retries(self.source.list, "relist")
        self.recorder.stats.relists += 1
        before = self.recorder.alive()
        after = {head.uid: (raw, head) for raw, head in listed.raw_items()}
        changed_items = [
            (raw, head)
            for uid, (raw, head) in after.items()
            if before.get(uid) != head.resource_version
        ]
        gone = [uid for uid in before if uid not in after]
        identities = [Identity.of_head(head) for _, head in changed_items]
        gone_objects = [self._gone_object(uid, listed.resource_version) for uid in gone]
        identities += [Identity.of(obj) for obj in gone_objects]
        reason = str(expired.message or "410 Gone")
        self.recorder.add_gap(from_rv, listed.resource_version, reason, identities)
        for raw, head in changed_items:
            self.recorder.add_raw("LISTED", raw, head, synthetic=True)
        for obj in gone_objects:
            self.recorder.add_observation("DELETED", obj, synthetic=True)
        self._state.resource_version = listed.resource_version

    def _gone_object(self, uid: str, resource_version: str) -> dict[str, Any]:
        """The last known state of an object the relist no longer has, at the relist's RV."""
        last = self.recorder.last_object(uid)
        if last is not None:
            obj = dict(last)
            meta = dict(obj.get("metadata") or {})
        else:
            identity = self.recorder.timeline_of(uid).identity
            obj = {"kind": identity.kind}
            meta = {"name": identity.name, "namespace": identity.namespace, "uid": uid}
        meta["resourceVersion"] = resource_version
        obj["metadata"] = meta
        return obj


def _batches(stream: WatchStream, clock: Clock) -> Iterator[list[RawEvent]]:
    """A stream's events in batches: its own when it reads several at once, else one by one.

    Each blocking read is declared as I/O to the clock (see `io_wait`): a tracker
    waiting for the next event must not hold a `FakeClock` still, since the server
    that will send it may be waiting for time to pass.
    """
    batches: Callable[[], Iterator[list[RawEvent]]] | None = getattr(stream, "batches", None)
    reads: Iterator[list[RawEvent]] = (
        batches() if batches is not None else ([event] for event in stream)
    )
    while True:
        with io_wait(clock):
            batch = next(reads, None)
        if batch is None:
            return
        yield batch
