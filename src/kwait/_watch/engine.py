"""The watch engine: LIST, then WATCH from the list's resourceVersion, losing nothing silently.

The engine runs in a tracker's background thread and turns a `WatchSource`
into entries of a `Recorder`:

1. LIST the collection; every item becomes a ``LISTED`` observation, and the
   list's resourceVersion is where watching starts (so nothing between the
   LIST and the WATCH is lost).
2. WATCH from the last resourceVersion with bookmarks. Every event becomes an
   observation; bookmarks only advance the resourceVersion. An event whose
   resourceVersion was already recorded for its object (a server replaying
   what it sent before) is counted, not recorded again.
3. The stream ends cleanly (server timeout) or drops (connection reset, read
   timeout, a truncated line): resume from the last resourceVersion and record
   a `Reconnect`.
4. 410 Gone: relist, compare with what was known, record a `Gap` naming every
   object that changed across it, record the new states (``LISTED``,
   ``synthetic``) and synthetic ``DELETED`` for objects gone, and carry on from
   the relist's resourceVersion.
5. 429 and 5xx: wait for the server's Retry-After (or the backoff) and retry.
   Anything else the server refuses (400, 401, 403, 404, 422 ...) stops the
   engine with a typed error that readers of the recorder receive.

Every restart (a new WATCH after one ended, a relist after a 410, a retried
LIST) follows one `RestartPolicy`: restarts are at least ``min_interval``
apart (1 s, as client-go's reflector), a stream that ended before it was
``healthy_after`` old grows the backoff (whether or not it delivered events,
so a server that sends one event and hangs up is not hammered), and a
Retry-After from the server is a minimum. Only a stream that stayed open
long enough resets the backoff.

Every wait goes through the injected clock; stopping interrupts them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kwait._errors import ApiError, ApiTransientError, ConnectionLostError, KwaitError
from kwait._time.backoff import Backoff, BackoffState, ExponentialBackoff
from kwait._time.clock import io_wait
from kwait._time.protocol import Clock
from kwait._watch.source import ExpiredError, ListResult, RawEvent, WatchSource, WatchStream
from kwait._watch.timeline import Identity, ObservationType, Recorder
from kwait._watch.wire import Head

__all__ = ["EngineStopped", "RestartPolicy", "WatchEngine"]

DEFAULT_TIMEOUT_SECONDS = 60
"""Server-side watch timeout: the server ends each stream cleanly after this."""

_EVENT_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED"})


def default_reconnect_backoff() -> Backoff:
    """Return the reconnect backoff: 0.1 s doubling to a 10 s cap, with 10 % seeded jitter."""
    return ExponentialBackoff(initial=0.1, factor=2.0, cap=10.0, jitter=0.1, seed=0)


@dataclass(frozen=True)
class RestartPolicy:
    """How fast the engine may restart a watch or a LIST.

    Attributes:
        min_interval: Seconds between the starts of two restarts, at least (client-go's
            reflector restarts about once a second at most).
        healthy_after: A stream that stayed open this long (or 90 % of its
            server-side timeout, if that is shorter) was healthy: it resets the
            backoff. A shorter one grows it, whatever it delivered. Any value of
            at least `min_interval` keeps restarts `min_interval` apart; a small one
            lets a tracker whose streams are cut now and then reconnect at once.
    """

    min_interval: float = 1.0
    healthy_after: float = 2.0

    def __post_init__(self) -> None:
        """Check the values."""
        if not self.min_interval >= 0 or not self.healthy_after >= 0:
            raise ValueError(f"restart policy values must be >= 0: {self!r}")


class EngineStopped(Exception):  # noqa: N818 - internal control flow, never escapes the engine
    """Raised inside the engine when it is asked to stop."""


class _OlderRelistError(Exception):
    """A relist answered a resourceVersion older than one already seen."""


@dataclass
class _State:
    resource_version: str = ""


def _as_int(rv: str) -> int | None:
    try:
        return int(rv)
    except ValueError:
        return None


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
        policy: RestartPolicy | None = None,
    ) -> None:
        """Prepare an engine; `run` (usually in a thread) does the work."""
        if timeout_seconds < 1:
            raise ValueError(f"timeout_seconds must be at least 1, got {timeout_seconds}")
        self.source = source
        self.recorder = recorder
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self.policy = policy or RestartPolicy()
        self._backoff: BackoffState = (backoff or default_reconnect_backoff()).start()
        self._lock = threading.Condition()
        self._stopping = False
        self._stream: WatchStream | None = None
        self._state = _State()
        self._last_start: float | None = None
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

    def _restart_delay(self, *, short: bool, retry_after: float | None = None) -> float:
        """The pause before the next restart, under the restart policy."""
        delay = self._backoff.next_delay() if short else 0.0
        if not short:
            self._backoff.reset()
        delay = max(delay, retry_after or 0.0)
        if self._last_start is not None:
            since = self.clock.monotonic() - self._last_start
            delay = max(delay, self.policy.min_interval - since)
        return max(0.0, delay)

    def _mark_start(self) -> None:
        self._last_start = self.clock.monotonic()

    def _healthy(self, lasted: float) -> bool:
        return lasted >= min(self.policy.healthy_after, 0.9 * self.timeout_seconds)

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
        listed = self._with_retries("LIST")
        self.recorder.add_batch([("LISTED", raw, head) for raw, head in listed.raw_items()])
        self._state.resource_version = listed.resource_version
        self.recorder.mark_synced()
        while True:
            self._check_stop()
            try:
                self._watch_once()
            except ExpiredError as expired:
                self._relist(expired)

    def _record(self, batch: list[RawEvent]) -> None:
        """Record a batch of events, unless replays or of types kwait does not know.

        The resume point moves past every event recorded. An event without a
        resourceVersion cannot be ordered, deduplicated or resumed from: what came
        before it is recorded, then the stream counts as broken and the watch
        resumes from the last good resourceVersion.
        """
        recorder = self.recorder
        observed: list[tuple[ObservationType, bytes, Head]] = []
        rv = ""
        broken = ""
        for event in batch:
            type_ = event.type
            if type_ == "BOOKMARK":
                recorder.stats.bookmarks += 1
                rv = event.resource_version or rv
                continue
            if type_ not in _EVENT_TYPES:
                # client-go logs and skips such events; so does kwait, and reports count them.
                recorder.note_unknown_event(type_)
                continue
            head = event.head
            if not head.resource_version:
                broken = f"a {type_} event came without metadata.resourceVersion"
                break
            observed.append((type_, event.raw, head))
            rv = head.resource_version
        recorder.add_batch(observed)  # replays of what is recorded are counted, not kept
        if rv:
            self._state.resource_version = rv
        if broken:
            raise ConnectionLostError(broken)

    def _watch_once(self) -> None:
        """Open one watch and drain it; return on a clean end or a lossless drop."""
        rv = self._state.resource_version
        started = self.clock.monotonic()
        self._mark_start()
        recorder = self.recorder
        try:
            try:
                with io_wait(self.clock):
                    stream = self.source.watch(rv, self.timeout_seconds)
                with self._lock:
                    if self._stopping:
                        stream.close()
                        raise EngineStopped
                    self._stream = stream
                recorder.continuity.watch_opened()
                try:
                    for batch in _batches(stream, self.clock):
                        self._record(batch)
                        self._check_stop()
                finally:
                    with self._lock:
                        self._stream = None
                    stream.close()
            except ExpiredError as expired:
                self._check_stop()
                lasted = self.clock.monotonic() - started
                recorder.continuity.expired(self.clock.monotonic(), str(expired))
                raise _ExpiredError(expired, short=not self._healthy(lasted)) from expired
            self._check_stop()
            reason = "stream ended cleanly"
            retry_after = None
        except ConnectionLostError as lost:
            self._check_stop()
            reason = f"connection lost: {lost}"
            retry_after = None
        except ApiTransientError as busy:
            self._check_stop()
            reason = str(busy)
            retry_after = busy.retry_after
        lasted = self.clock.monotonic() - started
        short = not self._healthy(lasted) or retry_after is not None
        delay = self._restart_delay(short=short, retry_after=retry_after)
        recorder.continuity.stream_ended(self.clock.monotonic(), reason, healthy=not short)
        recorder.add_reconnect(self._state.resource_version, reason, delay)
        self._pause(delay)

    def _with_retries(self, what: str, *, short: bool = False) -> ListResult:
        """LIST under the restart policy, retrying transient failures (fatal ones propagate)."""
        first = True
        while True:
            self._check_stop()
            if not first or self._last_start is not None:
                delay = self._restart_delay(short=short or not first)
                self._pause(delay)
            first = False
            self._mark_start()
            try:
                with io_wait(self.clock):
                    result = self.source.list()
                _check_list_rv(result, what, self.source)
            except (ApiTransientError, ConnectionLostError) as error:
                self._check_stop()
                retry_after = error.retry_after if isinstance(error, ApiError) else None
                reason = f"{what} failed: {error}"
                self.recorder.continuity.failed(self.clock.monotonic(), reason)
                delay = self._restart_delay(short=True, retry_after=retry_after)
                self.recorder.add_reconnect(self._state.resource_version, reason, delay)
                self._pause(delay)
                # the pause already honoured the policy for the next try
                self._last_start = None
                first = True
                short = True
                continue
            if what == "relist" and self._older_than_seen(result.resource_version):
                reason = (
                    f"relist answered resourceVersion {result.resource_version}, older than "
                    f"{self._state.resource_version} already seen; listing again"
                )
                self.recorder.continuity.failed(self.clock.monotonic(), reason)
                self.recorder.add_reconnect(self._state.resource_version, reason, 0.0)
                short = True
                continue
            return result

    def _older_than_seen(self, rv: str) -> bool:
        new, seen = _as_int(rv), _as_int(self._state.resource_version)
        return new is not None and seen is not None and new < seen

    def _relist(self, expired: ExpiredError) -> None:
        """After a 410: relist, record the gap and the states on its far side."""
        short = expired.short if isinstance(expired, _ExpiredError) else True
        from_rv = self._state.resource_version
        listed = self._with_retries("relist", short=short)
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


class _ExpiredError(ExpiredError):
    """A 410 the engine caught, with whether the watch it ended was short."""

    def __init__(self, error: ExpiredError, *, short: bool) -> None:
        super().__init__(error.requested, error.message, error.status)
        self.short = short


def _check_list_rv(result: ListResult, what: str, source: WatchSource) -> None:
    """Refuse a LIST without a usable resourceVersion: no watch can start from it losslessly."""
    if result.resource_version in {"", "0"}:
        raise KwaitError(
            f"{what} {source.describe()} answered resourceVersion "
            f"{result.resource_version!r}: a watch from there would replay or lose events, "
            "so kwait cannot track this collection (is it served by an aggregated API "
            "that does not support watch?)"
        )


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
