"""Timelines: every state an object passed through, in the order the server published it.

A `Recorder` is the thread-safe store a tracker's background thread writes into
and tests read from. It keeps one global, ordered log of entries, each with a
sequence number:

* `Observation` - one state of one object: from the initial LIST (``LISTED``), a
  watch event (``ADDED``/``MODIFIED``/``DELETED``), or a relist after a gap.
* `Gap` - continuity was broken (410 Gone, or a break that forced a relist):
  what happened between two resourceVersions is unknown. It names the objects
  whose state differs across it. An object whose resourceVersion is the same
  before and after a gap provably had no write inside it (every write changes
  an object's resourceVersion), so the gap does not appear in its timeline.
* `Reconnect` - the watch stream ended or dropped and was resumed from the
  last resourceVersion without loss (no gap).

Per object identity (the ``metadata.uid``: a name deleted and recreated is two
identities) a `Timeline` is a snapshot of that object's observations with the
gaps that concern it in place.

Storage: each observation keeps the object's JSON bytes as the server sent them
and a few fields read from them (identity, resourceVersion, generation), in
structs Python's cyclic garbage collector does not walk. The object is decoded
(without ``metadata.managedFields``) each time ``Observation.object`` is read,
so a tracker that only records never decodes one, and every reader gets its own
copy. Memory is bounded by a byte budget (``max_bytes``, 256 MiB by default):
past it, the oldest states that are not an object's latest lose their bytes
(``object`` becomes None, ``evicted`` is set) and a matcher that would need them
reports that instead of guessing. The latest state of every object is never
evicted, and timelines already handed out keep what they hold.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from kwait._time.protocol import Clock
from kwait._watch.objects import as_raw
from kwait._watch.wire import Head, decode_object, encode_object, head_of

__all__ = [
    "Continuity",
    "Entry",
    "Gap",
    "Identity",
    "Observation",
    "ObservationType",
    "Reconnect",
    "Recorder",
    "RecorderStats",
    "Timeline",
]

ObservationType = Literal["LISTED", "ADDED", "MODIFIED", "DELETED"]

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
"""The default memory budget of a recorder's stored objects (bytes)."""


class Identity(msgspec.Struct, frozen=True, gc=False):
    """Who an observation is about: one incarnation of a named object.

    A pod deleted and created again under the same name is a new identity (a new uid):

    >>> from kwait import Identity
    >>> print(Identity(uid="u1", name="web-0", namespace="ci", kind="Pod"))
    pod/ci/web-0 (uid u1)
    """

    uid: str
    name: str
    namespace: str = ""
    kind: str = ""

    @classmethod
    def of(cls, obj: Mapping[str, Any] | Any) -> Identity:  # Any: or a client model
        """Read the identity from a raw object's metadata (or a client model object's).

        >>> Identity.of({"kind": "Pod", "metadata": {"name": "web", "namespace": "ci", "uid": "u"}})
        Identity(uid='u', name='web', namespace='ci', kind='Pod')
        """
        if type(obj) is not dict:
            obj = as_raw(obj, "obj")
        return cls.of_head(head_of(obj))

    @classmethod
    def of_head(cls, head: Head) -> Identity:
        """The identity a `kwait.watch.Head` names."""
        return cls(head.uid, head.name, head.namespace, head.kind)

    def __str__(self) -> str:
        """Render as ``kind/namespace/name (uid)``, leaving out what is empty."""
        path = "/".join(p for p in (self.namespace, self.name) if p)
        kind = f"{self.kind.lower()}/" if self.kind else ""
        return f"{kind}{path} (uid {self.uid[:8]})" if self.uid else f"{kind}{path}"


class Observation(msgspec.Struct, frozen=True, eq=False, gc=False):
    """One state of one object, as published by the server.

    Attributes:
        seq: Position in the tracker's global log (strictly increasing).
        time: When it was recorded, on the tracker's clock.
        type: ``LISTED`` (present in a LIST), ``ADDED``, ``MODIFIED`` or ``DELETED``.
        resource_version: The object's resourceVersion (for DELETED, the deletion's).
        identity: The object identity (uid, name, namespace, kind).
        synthetic: True when kwait derived it from a relist rather than an event
            (a LISTED state after a gap, or a DELETED for an object the relist no
            longer contains).
        generation: ``metadata.generation`` (0 if unset), kept after eviction.
        evicted: True when the object's bytes were dropped to keep the memory budget.
        deleting: True when ``metadata.deletionTimestamp`` is set (a deletion started).
        raw: The object's JSON bytes as the server sent them (None once evicted).

    >>> obs = Observation(0, 0.0, "ADDED", "5", Identity("u", "web"), raw=b'{"spec":{}}')
    >>> obs.object
    {'spec': {}}
    """

    seq: int
    time: float
    type: ObservationType
    resource_version: str
    identity: Identity
    synthetic: bool = False
    generation: int = 0
    evicted: bool = False
    deleting: bool = False
    raw: bytes | None = None

    @property
    def object(self) -> dict[str, Any] | None:
        """The object without managedFields, decoded afresh on each read; None once evicted."""
        return decode_object(self.raw) if self.raw is not None else None

    @property
    def size(self) -> int:
        """Bytes this observation holds for its object."""
        return len(self.raw) if self.raw is not None else 0

    def __repr__(self) -> str:
        """Summarise without the (large) object."""
        flags = " synthetic" if self.synthetic else ""
        flags += " evicted" if self.evicted else ""
        return (
            f"Observation(#{self.seq} {self.type} rv={self.resource_version} "
            f"{self.identity} t={self.time:.3f}{flags})"
        )


class Gap(msgspec.Struct, frozen=True, eq=False, gc=False):
    """Continuity broke: states between `from_rv` and `to_rv` were not observed.

    Attributes:
        seq: Position in the global log.
        time: When the gap was recorded (after the relist).
        from_rv: The last resourceVersion observed before the break.
        to_rv: The resourceVersion of the relist that ended the gap.
        reason: Why, e.g. the server's ``too old resource version`` message.
        changed: Identities whose state differs across the gap (modified,
            appeared or disappeared); objects not named here had no write in it.

    >>> from kwait.watch import Recorder
    >>> recorder = Recorder(clock=None)
    >>> pod = {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "ci", "uid": "u1",
    ...                                    "resourceVersion": "7"}}
    >>> web = recorder.add_observation("ADDED", pod).identity
    >>> recorder.add_gap("7", "12", "too old resource version: 7 (12)", [web])
    Gap(#1 rv 7..12 changed=1 reason='too old resource version: 7 (12)')
    """

    seq: int
    time: float
    from_rv: str
    to_rv: str
    reason: str
    changed: tuple[Identity, ...] = ()
    count: int = 1

    def __repr__(self) -> str:
        """Summarise the gap in one line."""
        times = f" x{self.count}" if self.count > 1 else ""
        return (
            f"Gap(#{self.seq} rv {self.from_rv}..{self.to_rv} "
            f"changed={len(self.changed)} reason={self.reason!r}{times})"
        )


class Reconnect(msgspec.Struct, frozen=True, eq=False, gc=False):
    """The watch was resumed from `resource_version` after a clean end or a drop (no loss).

    Restarts with nothing recorded between them are kept as one entry: `count`
    says how many there were, `time` is the first one's, and `reason` and
    `delay` are the latest one's.

    >>> from kwait.watch import Recorder
    >>> Recorder(clock=None).add_reconnect("12", "the server ended the watch").resource_version
    '12'
    """

    seq: int
    time: float
    resource_version: str
    reason: str
    delay: float = 0.0
    count: int = 1


Entry = Observation | Gap | Reconnect


@dataclass(frozen=True, slots=True)
class Timeline:
    """A snapshot of one identity's observations, with the gaps that concern it in place.

    >>> rec = Recorder(clock=None)
    >>> pod = {"kind": "Pod", "metadata": {"name": "p", "uid": "u", "resourceVersion": "5"}}
    >>> _ = rec.add_observation("ADDED", pod)
    >>> tl = rec.timeline_of(rec.identities()[0])
    >>> [o.type for o in tl.observations], tl.deleted
    (['ADDED'], False)
    """

    identity: Identity
    entries: tuple[Observation | Gap, ...]

    @property
    def observations(self) -> list[Observation]:
        """The observations only, in order."""
        return [e for e in self.entries if isinstance(e, Observation)]

    @property
    def gaps(self) -> list[Gap]:
        """The gaps that concern this object, in order."""
        return [e for e in self.entries if isinstance(e, Gap)]

    @property
    def last(self) -> Observation | None:
        """The latest observation, or None if there is none."""
        for entry in reversed(self.entries):
            if isinstance(entry, Observation):
                return entry
        return None

    @property
    def deleted(self) -> bool:
        """True when the latest observation is a DELETED."""
        last = self.last
        return last is not None and last.type == "DELETED"

    def __iter__(self) -> Iterator[Observation | Gap]:
        """Iterate over the entries in order."""
        return iter(self.entries)

    def __len__(self) -> int:
        """Return the number of entries (observations and gaps)."""
        return len(self.entries)


@dataclass(slots=True)
class RecorderStats:
    """Counters a `Recorder` keeps as it records: how the watch went, in numbers.

    >>> from kwait.watch import Recorder
    >>> recorder = Recorder(clock=None)
    >>> _ = recorder.add_observation("ADDED", {"metadata": {"name": "web-0", "uid": "u1"}})
    >>> recorder.stats
    RecorderStats(events=1, bookmarks=0, reconnects=0, relists=0, gaps=0, evicted=0,
                  evicted_bytes=0, stored_bytes=40, duplicates=0, unknown_events=0,
                  unknown_types=set())
    """

    events: int = 0
    bookmarks: int = 0
    reconnects: int = 0
    relists: int = 0
    gaps: int = 0
    evicted: int = 0
    """States whose bytes were dropped to keep the memory budget."""
    evicted_bytes: int = 0
    """Bytes dropped to keep the memory budget."""
    stored_bytes: int = 0
    """Bytes of object JSON recorded in all (held now or evicted since)."""
    duplicates: int = 0
    """Events replayed at a resourceVersion already recorded for their object (not kept)."""
    unknown_events: int = 0
    """Watch events of a type kwait does not know (skipped, as client-go does)."""
    unknown_types: set[str] = field(default_factory=set)
    """The unknown event types seen (at most 10)."""


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"  # noqa: PLR2004


@dataclass
class Continuity:
    """How the watch's connection went: expirations, failures, and whether it is up now.

    Written by the engine; read (with `describe`) by failure reports, so a
    wait that timed out says that the watch kept expiring or never connected.

    >>> from kwait.watch import Recorder
    >>> recorder = Recorder(clock=None)
    >>> recorder.continuity.failed(0.5, "LIST failed: connection refused")
    >>> recorder.continuity.describe(3.0)
    ['watch never connected since +0.5 s, 1 attempt, last error: LIST failed: connection refused']
    """

    start: float | None = None
    connected_once: bool = False
    watching: bool = False
    expirations: int = 0
    first_expired: float | None = None
    last_expired: float | None = None
    trouble_since: float | None = None
    attempts: int = 0
    last_error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def watch_opened(self) -> None:
        """A watch stream opened."""
        with self._lock:
            self.connected_once = True
            self.watching = True

    def _trouble(self, now: float, reason: str) -> None:
        if self.trouble_since is None:
            self.trouble_since = now
            self.attempts = 0
        self.attempts += 1
        self.last_error = reason

    def expired(self, now: float, reason: str) -> None:
        """The watch ended with 410 Gone."""
        with self._lock:
            self.watching = False
            self.expirations += 1
            if self.first_expired is None:
                self.first_expired = now
            self.last_expired = now
            self._trouble(now, reason)

    def stream_ended(self, now: float, reason: str, *, healthy: bool) -> None:
        """The watch ended; a healthy one (long enough) clears the trouble."""
        with self._lock:
            self.watching = False
            if healthy:
                self.trouble_since = None
                self.attempts = 0
            else:
                self._trouble(now, reason)

    def failed(self, now: float, reason: str) -> None:
        """A LIST (or the watch's opening) failed."""
        with self._lock:
            self.watching = False
            self._trouble(now, reason)

    def describe(self, now: float) -> list[str]:
        """Say, in a few sentences, what went wrong with the connection (nothing if all was well).

        >>> c = Continuity(start=0.0)
        >>> c.expired(1.0, "too old resource version"); c.expired(9.0, "too old resource version")
        >>> c.describe(10.0)[0]
        'the watch expired 2 times in 8.0 s (410 Gone; each time kwait relisted)'
        """
        with self._lock:
            out: list[str] = []
            base = self.start or 0.0
            if self.expirations:
                span = (self.last_expired or 0.0) - (self.first_expired or 0.0)
                times = "1 time" if self.expirations == 1 else f"{self.expirations} times"
                out.append(
                    f"the watch expired {times} in {_seconds(span)} (410 Gone; each time kwait "
                    "relisted)"
                )
            # An open watch after one or two short streams is not worth a sentence.
            if self.trouble_since is not None and (not self.watching or self.attempts >= 3):  # noqa: PLR2004
                state = "never connected" if not self.connected_once else "disconnected"
                if self.watching:
                    state = "unstable"
                out.append(
                    f"watch {state} since +{_seconds(self.trouble_since - base)}, "
                    f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}, "
                    f"last error: {self.last_error}"
                )
            elif not self.connected_once and self.start is not None:
                out.append(f"the watch never connected in {_seconds(now - base)}")
            return out


StoredObject = tuple[bytes, Head]
"""An object as the recorder stores it: its JSON bytes and its head."""


def stored(obj: Mapping[str, Any]) -> StoredObject:
    """Turn a decoded object into what the recorder stores (scripted sources, relists)."""
    return encode_object(obj), head_of(obj)


@dataclass(eq=False, repr=False)
class Recorder:
    """The thread-safe, ordered log behind a tracker.

    One writer (the tracker's engine thread) appends, a batch at a time; any thread
    reads. Readers that want to wait for new entries use `wait_for_entries`, which
    waits on the tracker's clock and is woken once per batch.

    >>> rec = Recorder(clock=None)
    >>> pod = {"metadata": {"name": "p", "uid": "u", "resourceVersion": "1"}}
    >>> rec.add_observation("ADDED", pod)
    Observation(#0 ADDED rv=1 p (uid u) t=0.000)
    >>> rec
    <Recorder 1 entries, 1 identities, syncing>
    """

    clock: Clock | None
    max_bytes: int = DEFAULT_MAX_BYTES
    _entries: list[Entry] = field(default_factory=list, init=False, repr=False)
    _by_uid: dict[str, list[int]] = field(default_factory=dict, init=False, repr=False)
    _identities: dict[str, Identity] = field(default_factory=dict, init=False, repr=False)
    _latest: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _alive: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _evictable: deque[int] = field(default_factory=deque, init=False, repr=False)
    _bytes: int = field(default=0, init=False, repr=False)
    _cond: threading.Condition = field(default_factory=threading.Condition, init=False)
    _closed: bool = field(default=False, init=False)
    _synced: bool = field(default=False, init=False)
    _error: BaseException | None = field(default=None, init=False)
    stats: RecorderStats = field(default_factory=RecorderStats, init=False)

    def __post_init__(self) -> None:
        """Check the memory budget."""
        if isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int):
            raise TypeError(f"max_bytes must be an int (bytes), got {self.max_bytes!r}")
        if self.max_bytes < 0:
            raise ValueError(f"max_bytes must be 0 or more, got {self.max_bytes}")
        self.continuity.start = self._now()

    continuity: Continuity = field(default_factory=Continuity, init=False)

    # ------------------------------------------------------------------ writing
    def _now(self) -> float:
        return self.clock.monotonic() if self.clock is not None else 0.0

    def _observe(
        self, type_: ObservationType, raw: bytes, head: Head, now: float, *, synthetic: bool
    ) -> Observation:
        """Append one observation; the caller holds the lock and notifies."""
        uid = head.uid
        identity = self._identities.get(uid)
        if identity is None or identity.name != head.name:
            identity = Identity.of_head(head)
            self._identities.setdefault(uid, identity)
        seq = len(self._entries)
        obs = Observation(
            seq,
            now,
            type_,
            head.resource_version,
            identity,
            synthetic,
            head.generation,
            False,  # noqa: FBT003 - evicted
            head.deleting,
            raw,
        )
        self._entries.append(obs)
        history = self._by_uid.get(uid)
        if history is None:
            self._by_uid[uid] = [seq]
        else:
            history.append(seq)
        previous = self._latest.get(uid)
        if previous is not None:
            self._evictable.append(previous)
        self._latest[uid] = seq
        if type_ == "DELETED":
            self._alive.pop(uid, None)
        else:
            self._alive[uid] = head.resource_version
        size = len(raw)
        self._bytes += size
        self.stats.stored_bytes += size
        if not synthetic and type_ != "LISTED":
            self.stats.events += 1
        return obs

    def _evict(self) -> None:
        """Drop the bytes of the oldest states that are not an object's latest, to the budget."""
        entries = self._entries
        while self._bytes > self.max_bytes and self._evictable:
            seq = self._evictable.popleft()
            old = entries[seq]
            assert isinstance(old, Observation)  # noqa: S101 - only observations are queued
            if old.raw is None:
                continue
            self._bytes -= len(old.raw)
            self.stats.evicted += 1
            self.stats.evicted_bytes += len(old.raw)
            # Replace rather than mutate: timelines already handed out keep their bytes.
            entries[seq] = msgspec.structs.replace(old, raw=None, evicted=True)

    def add_observation(
        self,
        type_: ObservationType,
        obj: Mapping[str, Any],
        *,
        synthetic: bool = False,
    ) -> Observation:
        """Record one state of one object, given as a dict, and return it."""
        raw, head = stored(obj)
        return self.add_raw(type_, raw, head, synthetic=synthetic)

    def add_raw(
        self, type_: ObservationType, raw: bytes, head: Head, *, synthetic: bool = False
    ) -> Observation:
        """Record one state of one object, given as its JSON bytes and head."""
        with self._cond:
            obs = self._observe(type_, raw, head, self._now(), synthetic=synthetic)
            self._evict()
            self._cond.notify_all()
            return obs

    def add_batch(self, batch: Sequence[tuple[ObservationType, bytes, Head]]) -> None:
        """Record several states at once: one lock round trip and one wake-up per batch."""
        if not batch:
            return
        with self._cond:
            now = self._now()
            for type_, raw, head in batch:
                if type_ != "LISTED" and self._replayed(type_, head):
                    self.stats.duplicates += 1
                    continue
                self._observe(type_, raw, head, now, synthetic=False)
            self._evict()
            self._cond.notify_all()

    def _replayed(self, type_: ObservationType, head: Head) -> bool:
        """True when the object was recorded at this resourceVersion or a newer one (lock held).

        A server (or a proxy) that replays events after a reconnect must not make a state
        appear twice in a timeline.
        """
        seq = self._latest.get(head.uid)
        if seq is None:
            return False
        last = self._entries[seq]
        if not isinstance(last, Observation) or last.synthetic:
            return False
        if type_ == "DELETED" and last.type != "DELETED":
            return False  # a deletion is news even when it carries the last state's version
        seen, new = last.resource_version, head.resource_version
        if seen == new:
            return True
        try:
            return int(new) < int(seen)
        except ValueError:
            return False

    def add_gap(
        self,
        from_rv: str,
        to_rv: str,
        reason: str,
        changed: Iterable[Identity],
    ) -> Gap:
        """Record a gap; it goes into the timelines of the `changed` identities."""
        with self._cond:
            changed = tuple(changed)
            last = self._entries[-1] if self._entries else None
            if isinstance(last, Gap) and not changed and not last.changed:
                # Back-to-back gaps in which nothing changed (a server expiring every
                # watch): one entry that spans them all, so the log stays bounded.
                merged = Gap(last.seq, last.time, last.from_rv, to_rv, reason, (), last.count + 1)
                self._entries[-1] = merged
                self.stats.gaps += 1
                self._cond.notify_all()
                return merged
            gap = Gap(
                seq=len(self._entries),
                time=self._now(),
                from_rv=from_rv,
                to_rv=to_rv,
                reason=reason,
                changed=changed,
            )
            for identity in gap.changed:
                self._by_uid.setdefault(identity.uid, []).append(gap.seq)
                self._identities.setdefault(identity.uid, identity)
            self.stats.gaps += 1
            self._entries.append(gap)
            self._cond.notify_all()
            return gap

    def add_reconnect(self, resource_version: str, reason: str, delay: float = 0.0) -> Reconnect:
        """Record a lossless resume of the watch."""
        with self._cond:
            self.stats.reconnects += 1
            last = self._entries[-1] if self._entries else None
            if isinstance(last, Reconnect):
                # Restarts with nothing recorded between them: one entry, counted.
                rec = Reconnect(
                    last.seq, last.time, resource_version, reason, delay, last.count + 1
                )
                self._entries[-1] = rec
                self._cond.notify_all()
                return rec
            rec = Reconnect(len(self._entries), self._now(), resource_version, reason, delay)
            self._entries.append(rec)
            self._cond.notify_all()
            return rec

    def already_recorded(self, uid: str, resource_version: str) -> bool:
        """True when `uid` was recorded at `resource_version` or a newer one (a replayed event)."""
        with self._cond:
            seq = self._latest.get(uid)
            obs = self._entries[seq] if seq is not None else None
            last = obs.resource_version if isinstance(obs, Observation) else None
            if last is None:
                return False
            if last == resource_version:
                return True
            try:
                return int(resource_version) < int(last)
            except ValueError:
                return False

    def note_unknown_event(self, type_: str) -> None:
        """Count a watch event of a type kwait does not know (it is skipped)."""
        with self._cond:
            self.stats.unknown_events += 1
            if len(self.stats.unknown_types) < 10:  # noqa: PLR2004 - bounded
                self.stats.unknown_types.add(str(type_)[:40])

    def alive(self) -> dict[str, str]:
        """Return uid -> last resourceVersion of the objects currently present."""
        with self._cond:
            return dict(self._alive)

    def present(self) -> tuple[int, list[Observation]]:
        """Return, atomically, the log length and the latest observation of each present object."""
        with self._cond:
            entries = self._entries
            latest = [entries[self._latest[uid]] for uid in self._alive]
            return len(entries), [o for o in latest if isinstance(o, Observation)]

    def latest(self, uid: str) -> Observation | None:
        """Return the newest observation of `uid` (None if never seen)."""
        with self._cond:
            seq = self._latest.get(uid)
            if seq is None:
                return None
            obs = self._entries[seq]
            return obs if isinstance(obs, Observation) else None

    def last_rv(self, uid: str) -> str | None:
        """Return the resourceVersion of the newest observation of `uid` (None if never seen)."""
        obs = self.latest(uid)
        return obs.resource_version if obs is not None else None

    def last_object(self, uid: str) -> dict[str, Any] | None:
        """Return the newest object recorded for `uid` (never evicted), decoded."""
        obs = self.latest(uid)
        return obs.object if obs is not None else None

    def mark_synced(self) -> None:
        """Record that the initial LIST is complete: what follows happened after it."""
        with self._cond:
            self._synced = True
            self._cond.notify_all()

    def wait_synced(self, timeout: float | None) -> bool:
        """Wait on the clock until the initial LIST is recorded or the engine stopped."""
        if self.clock is None:
            raise RuntimeError("this recorder has no clock to wait on")
        with self._cond:
            self.clock.wait_for(self._cond, lambda: self._synced or self._closed, timeout)
            return self._synced

    def fail(self, error: BaseException) -> None:
        """Record that the engine stopped on an error readers must see."""
        with self._cond:
            self._error = error
            self._closed = True
            self._cond.notify_all()

    def close(self) -> None:
        """Record that no more entries will come."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # ------------------------------------------------------------------ reading
    @property
    def condition(self) -> threading.Condition:
        """The condition notified on every new batch of entries (for clock-driven waits)."""
        return self._cond

    @property
    def error(self) -> BaseException | None:
        """The error the engine stopped on, if any."""
        with self._cond:
            return self._error

    @property
    def synced(self) -> bool:
        """True once the initial LIST is recorded (see `mark_synced`)."""
        with self._cond:
            return self._synced

    @property
    def closed(self) -> bool:
        """True once the engine has stopped (cleanly or on an error)."""
        with self._cond:
            return self._closed

    @property
    def stored_bytes(self) -> int:
        """Bytes of object JSON held now (within `max_bytes`, plus every object's latest)."""
        with self._cond:
            return self._bytes

    def __len__(self) -> int:
        """Return the number of entries recorded so far."""
        with self._cond:
            return len(self._entries)

    def __repr__(self) -> str:
        """Count entries and objects; never print them (the repr stays small)."""
        with self._cond:
            entries, identities = len(self._entries), len(self._identities)
        state = "closed" if self._closed else ("synced" if self._synced else "syncing")
        return f"<Recorder {entries} entries, {identities} identities, {state}>"

    def entries(self, start: int = 0) -> list[Entry]:
        """Return the entries from sequence number `start` on."""
        with self._cond:
            return self._entries[start:]

    def identities(self) -> list[Identity]:
        """Return every identity observed, in order of first appearance."""
        with self._cond:
            return list(self._identities.values())

    def _timeline(self, uid: str, ident: Identity) -> Timeline:
        entries = self._entries
        kept = (entries[seq] for seq in self._by_uid.get(uid, ()))
        return Timeline(ident, tuple(e for e in kept if not isinstance(e, Reconnect)))

    def timeline_of(self, identity: Identity | str) -> Timeline:
        """Return a snapshot of one identity's timeline (by Identity or uid)."""
        uid = identity if isinstance(identity, str) else identity.uid
        with self._cond:
            ident = self._identities.get(uid)
            if ident is None:
                raise KeyError(f"no object with uid {uid!r} was observed")
            return self._timeline(uid, ident)

    def timelines(self) -> dict[Identity, Timeline]:
        """Return a snapshot of every identity's timeline."""
        with self._cond:
            return {ident: self._timeline(uid, ident) for uid, ident in self._identities.items()}

    def has_news(self, start: int) -> bool:
        """True when an entry with seq >= `start` exists or the engine has stopped.

        What a reader waiting for new entries waits for (on `condition`).
        """
        with self._cond:
            return len(self._entries) > start or self._closed

    def wait_for_entries(self, start: int, timeout: float | None) -> list[Entry]:
        """Block until an entry with seq >= `start` exists, the engine stops, or `timeout`.

        Returns the new entries (possibly none on timeout or close). Raises the
        engine's error if it stopped on one and nothing new is left to read.
        """
        clock = self.clock
        if clock is None:
            raise RuntimeError("this recorder has no clock to wait on")
        with self._cond:
            entries = self._entries
            if len(entries) <= start and not self._closed:

                def ready() -> bool:
                    return len(entries) > start or self._closed

                clock.wait_for(self._cond, ready, timeout)
            new = entries[start:]
            if not new and self._error is not None:
                raise self._error
            return new

    def select(self, predicate: Callable[[Entry], bool]) -> list[Entry]:
        """Return the entries for which `predicate` holds."""
        with self._cond:
            return [e for e in self._entries if predicate(e)]
