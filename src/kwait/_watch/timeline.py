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

Memory: the recorder drops ``metadata.managedFields`` from every object on
arrival, and keeps full objects for the newest ``keep_objects`` observations
(default 10,000). Older observations keep their type, resourceVersion, time,
identity and generation, but their ``object`` becomes None and ``evicted`` is
set; a matcher that would need them reports that instead of guessing.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kwait._time.protocol import Clock

__all__ = [
    "Continuity",
    "Entry",
    "Gap",
    "Identity",
    "Observation",
    "ObservationType",
    "Reconnect",
    "Recorder",
    "Timeline",
]

ObservationType = Literal["LISTED", "ADDED", "MODIFIED", "DELETED"]

DEFAULT_KEEP_OBJECTS = 10_000


@dataclass(frozen=True, slots=True)
class Identity:
    """Who an observation is about: one incarnation of a named object."""

    uid: str
    name: str
    namespace: str = ""
    kind: str = ""

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> Identity:
        """Read the identity from a raw object's metadata.

        >>> Identity.of({"kind": "Pod", "metadata": {"name": "web", "namespace": "ci", "uid": "u"}})
        Identity(uid='u', name='web', namespace='ci', kind='Pod')
        """
        meta = obj.get("metadata") or {}
        return cls(
            uid=str(meta.get("uid", "")),
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "") or ""),
            kind=str(obj.get("kind", "") or ""),
        )

    def __str__(self) -> str:
        """Render as ``kind/namespace/name (uid)``, leaving out what is empty."""
        path = "/".join(p for p in (self.namespace, self.name) if p)
        kind = f"{self.kind.lower()}/" if self.kind else ""
        return f"{kind}{path} (uid {self.uid[:8]})" if self.uid else f"{kind}{path}"


@dataclass(slots=True, eq=False)
class Observation:
    """One state of one object, as published by the server.

    Attributes:
        seq: Position in the tracker's global log (strictly increasing).
        time: When it was recorded, on the tracker's clock.
        type: ``LISTED`` (present in a LIST), ``ADDED``, ``MODIFIED`` or ``DELETED``.
        resource_version: The object's resourceVersion (for DELETED, the deletion's).
        identity: The object identity (uid, name, namespace, kind).
        object: The raw object without managedFields; None once evicted.
        synthetic: True when kwait derived it from a relist rather than an event
            (a LISTED state after a gap, or a DELETED for an object the relist no
            longer contains).
        generation: ``metadata.generation`` (0 if unset), kept after eviction.
        evicted: True when the full object was dropped to bound memory.
    """

    seq: int
    time: float
    type: ObservationType
    resource_version: str
    identity: Identity
    object: dict[str, Any] | None
    synthetic: bool = False
    generation: int = 0
    evicted: bool = False

    def __repr__(self) -> str:
        """Summarise without the (large) object."""
        flags = " synthetic" if self.synthetic else ""
        flags += " evicted" if self.evicted else ""
        return (
            f"Observation(#{self.seq} {self.type} rv={self.resource_version} "
            f"{self.identity} t={self.time:.3f}{flags})"
        )


@dataclass(frozen=True, slots=True, eq=False)
class Gap:
    """Continuity broke: states between `from_rv` and `to_rv` were not observed.

    Attributes:
        seq: Position in the global log.
        time: When the gap was recorded (after the relist).
        from_rv: The last resourceVersion observed before the break.
        to_rv: The resourceVersion of the relist that ended the gap.
        reason: Why, e.g. the server's ``too old resource version`` message.
        changed: Identities whose state differs across the gap (modified,
            appeared or disappeared); objects not named here had no write in it.
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


@dataclass(frozen=True, slots=True, eq=False)
class Reconnect:
    """The watch was resumed from `resource_version` after a clean end or a drop (no loss).

    Restarts with nothing recorded between them are kept as one entry: `count`
    says how many there were, `time` is the first one's, and `reason` and
    `delay` are the latest one's.
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
class _Stats:
    events: int = 0
    bookmarks: int = 0
    reconnects: int = 0
    relists: int = 0
    gaps: int = 0
    evicted: int = 0
    duplicates: int = 0
    unknown_events: int = 0
    unknown_types: set[str] = field(default_factory=set)


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"  # noqa: PLR2004


@dataclass
class Continuity:
    """How the watch's connection went: expirations, failures, and whether it is up now.

    Written by the engine; read (with `describe`) by failure reports, so a
    wait that timed out says that the watch kept expiring or never connected.
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


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        meta.pop("managedFields")
    return obj


def _generation(obj: Mapping[str, Any]) -> int:
    gen = (obj.get("metadata") or {}).get("generation", 0)
    return gen if isinstance(gen, int) else 0


@dataclass
class Recorder:
    """The thread-safe, ordered log behind a tracker.

    One writer (the tracker's engine thread) appends; any thread reads. Readers
    that want to wait for new entries use `wait_for_entries`, which waits on
    the tracker's clock.
    """

    clock: Clock | None
    keep_objects: int = DEFAULT_KEEP_OBJECTS
    _entries: list[Entry] = field(default_factory=list, init=False, repr=False)
    _by_uid: dict[str, list[Observation | Gap]] = field(default_factory=dict, init=False)
    _identities: dict[str, Identity] = field(default_factory=dict, init=False)
    _last_rv: dict[str, str] = field(default_factory=dict, init=False)
    _alive: dict[str, str] = field(default_factory=dict, init=False)
    _with_objects: deque[Observation] = field(default_factory=deque, init=False, repr=False)
    _cond: threading.Condition = field(default_factory=threading.Condition, init=False)
    _closed: bool = field(default=False, init=False)
    _synced: bool = field(default=False, init=False)
    _error: BaseException | None = field(default=None, init=False)
    stats: _Stats = field(default_factory=_Stats, init=False)
    continuity: Continuity = field(default_factory=Continuity, init=False)

    def __post_init__(self) -> None:
        """Check the memory bound."""
        if self.keep_objects < 1:
            raise ValueError(f"keep_objects must be at least 1, got {self.keep_objects}")
        self.continuity.start = self._now()

    # ------------------------------------------------------------------ writing
    def _now(self) -> float:
        return self.clock.monotonic() if self.clock is not None else 0.0

    def _append(self, entry: Entry) -> None:
        self._entries.append(entry)
        self._cond.notify_all()

    def add_observation(
        self,
        type_: ObservationType,
        obj: dict[str, Any],
        *,
        synthetic: bool = False,
    ) -> Observation:
        """Record one state of one object and return it."""
        with self._cond:
            identity = Identity.of(obj)
            rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
            obs = Observation(
                seq=len(self._entries),
                time=self._now(),
                type=type_,
                resource_version=rv,
                identity=identity,
                object=_strip(obj),
                synthetic=synthetic,
                generation=_generation(obj),
            )
            self._by_uid.setdefault(identity.uid, []).append(obs)
            self._identities.setdefault(identity.uid, identity)
            self._last_rv[identity.uid] = rv
            if type_ == "DELETED":
                self._alive.pop(identity.uid, None)
            else:
                self._alive[identity.uid] = rv
            self._with_objects.append(obs)
            while len(self._with_objects) > self.keep_objects:
                old = self._with_objects.popleft()
                old.object = None
                old.evicted = True
                self.stats.evicted += 1
            if not synthetic and type_ != "LISTED":
                self.stats.events += 1
            self._append(obs)
            return obs

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
                self._by_uid.setdefault(identity.uid, []).append(gap)
                self._identities.setdefault(identity.uid, identity)
            self.stats.gaps += 1
            self._append(gap)
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
            self._append(rec)
            return rec

    def already_recorded(self, uid: str, resource_version: str) -> bool:
        """True when `uid` was recorded at `resource_version` or a newer one (a replayed event)."""
        with self._cond:
            last = self._last_rv.get(uid)
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
            latest: list[Observation] = []
            for uid in self._alive:
                for entry in reversed(self._by_uid.get(uid, [])):
                    if isinstance(entry, Observation):
                        latest.append(entry)
                        break
            return len(self._entries), latest

    def last_rv(self, uid: str) -> str | None:
        """Return the resourceVersion of the newest observation of `uid` (None if never seen)."""
        with self._cond:
            return self._last_rv.get(uid)

    def last_object(self, uid: str) -> dict[str, Any] | None:
        """Return the newest full object recorded for `uid`, if still held."""
        with self._cond:
            for entry in reversed(self._by_uid.get(uid, [])):
                if isinstance(entry, Observation):
                    return entry.object
            return None

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
        """The condition notified on every new entry (for clock-driven waits)."""
        return self._cond

    @property
    def error(self) -> BaseException | None:
        """The error the engine stopped on, if any."""
        with self._cond:
            return self._error

    @property
    def closed(self) -> bool:
        """True once the engine has stopped (cleanly or on an error)."""
        with self._cond:
            return self._closed

    def __len__(self) -> int:
        """Return the number of entries recorded so far."""
        with self._cond:
            return len(self._entries)

    def entries(self, start: int = 0) -> list[Entry]:
        """Return the entries from sequence number `start` on."""
        with self._cond:
            return self._entries[start:]

    def identities(self) -> list[Identity]:
        """Return every identity observed, in order of first appearance."""
        with self._cond:
            return list(self._identities.values())

    def timeline_of(self, identity: Identity | str) -> Timeline:
        """Return a snapshot of one identity's timeline (by Identity or uid)."""
        uid = identity if isinstance(identity, str) else identity.uid
        with self._cond:
            ident = self._identities.get(uid)
            if ident is None:
                raise KeyError(f"no object with uid {uid!r} was observed")
            return Timeline(ident, tuple(self._by_uid.get(uid, ())))

    def timelines(self) -> dict[Identity, Timeline]:
        """Return a snapshot of every identity's timeline."""
        with self._cond:
            return {
                ident: Timeline(ident, tuple(self._by_uid.get(uid, ())))
                for uid, ident in self._identities.items()
            }

    def wait_for_entries(self, start: int, timeout: float | None) -> list[Entry]:
        """Block until an entry with seq >= `start` exists, the engine stops, or `timeout`.

        Returns the new entries (possibly none on timeout or close). Raises the
        engine's error if it stopped on one and nothing new is left to read.
        """
        clock = self.clock
        if clock is None:
            raise RuntimeError("this recorder has no clock to wait on")
        with self._cond:

            def ready() -> bool:
                return len(self._entries) > start or self._closed

            clock.wait_for(self._cond, ready, timeout)
            new = self._entries[start:]
            if not new and self._error is not None:
                raise self._error
            return new

    def select(self, predicate: Callable[[Entry], bool]) -> list[Entry]:
        """Return the entries for which `predicate` holds."""
        with self._cond:
            return [e for e in self._entries if predicate(e)]
