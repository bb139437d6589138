"""The fake API server's storage: objects, one global resourceVersion, history, watches.

Every committed write takes the next resourceVersion and appends one event
(type, RV, new object, previous object) to a bounded history. Watches replay
from the history and then receive live events through a per-watch queue, so
compacting the history ("compact now") makes *new* watches from old RVs fail
with 410 while open watches carry on, as with the real watch cache.

Stored objects are never mutated after they are committed: every write stores
a new dict, so watch threads may serialize events without holding the lock.

This layer knows nothing of what a valid object is: `kwait.testing._lifecycle`
applies the API server's per-resource rules on top of it.
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from kwait._time.protocol import Clock
from kwait.testing._errors import StatusError, not_found
from kwait.testing._resources import BUILTIN_TYPES, ResourceType, field_value
from kwait.testing._selectors import FieldSelector, LabelSelector

__all__ = ["Event", "Storage", "Watcher", "format_time"]


def format_time(moment: datetime) -> str:
    """Format a moment as ``metav1.Time`` does: RFC 3339, UTC, whole seconds.

    >>> format_time(datetime(2025, 1, 1, 12, 0, 0, 999, tzinfo=timezone.utc))
    '2025-01-01T12:00:00Z'
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    """One committed write: what watches replay.

    Attributes:
        type: ``ADDED``, ``MODIFIED`` or ``DELETED``.
        rv: The resourceVersion this write took.
        rkey: The resource's storage key (``pods``, ``deployments.apps``).
        namespace: The object's namespace (``""`` when cluster-scoped).
        name: The object's name.
        obj: The new object; for DELETED, the last state carrying the deletion RV.
        old: The previous stored state, or None for ADDED.
    """

    type: str
    rv: int
    rkey: str
    namespace: str
    name: str
    obj: dict[str, Any]
    old: dict[str, Any] | None


@dataclass
class Watcher:
    """An open watch: its filter and the queue of events not yet written."""

    rtype: ResourceType
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    limit: int
    queue: deque[Event] = field(default_factory=deque)
    overflowed: bool = False
    bookmark_requested: bool = False
    expire_requested: bool = False
    client_gone: bool = False
    closed: bool = False

    def offer(self, event: Event) -> None:
        """Queue `event` if it belongs to this watch (caller holds the store lock)."""
        if event.rkey != self.rtype.key:
            return
        if self.namespace is not None and event.namespace != self.namespace:
            return
        if len(self.queue) >= self.limit:
            self.overflowed = True
            return
        self.queue.append(event)

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether `obj` passes this watch's label and field selectors."""
        meta = obj.get("metadata") or {}
        if not self.labels.matches(meta.get("labels")):
            return False
        return self.fields.matches(lambda name: field_value(self.rtype, obj, name))

    def translate(self, event: Event) -> tuple[str, dict[str, Any]] | None:
        """Turn a stored event into what this watch sends (selector synthesis)."""
        if self.labels.empty and self.fields.empty:
            return event.type, event.obj
        old_match = event.old is not None and self.matches(event.old)
        if event.type == "DELETED":
            return ("DELETED", event.obj) if old_match else None
        new_match = self.matches(event.obj)
        if new_match:
            return ("MODIFIED" if old_match else "ADDED"), event.obj
        if old_match and event.old is not None:
            gone = copy.deepcopy(event.old)
            gone["metadata"]["resourceVersion"] = str(event.rv)
            return "DELETED", gone
        return None


class Storage:
    """Objects of every served type, the global resourceVersion and the history.

    All methods are thread-safe; they take `cond`'s lock. Methods whose name
    ends in ``_locked`` expect the caller to hold it.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        history_size: int,
        epoch: datetime,
        rng: random.Random,
    ) -> None:
        """Create an empty store (no namespaces); see `FakeApiServer` for the options."""
        self.clock = clock
        self.cond: threading.Condition = threading.Condition()
        self.rv: int = 0
        self.history: deque[Event] = deque()
        self.history_size = history_size
        self.history_start: int = 0
        self.types: dict[str, ResourceType] = {}
        self.served: dict[tuple[str, str, str], ResourceType] = {}
        self.objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self.watchers: list[Watcher] = []
        self.listeners: list[Callable[[Event], None]] = []
        self.closed = False
        self.rng = rng
        self._epoch = epoch
        self._mono0 = clock.monotonic()
        self._next_ip = 1
        for rtype in BUILTIN_TYPES:
            self._serve_locked(rtype)

    # ------------------------------------------------------------ time and ids

    def now(self) -> datetime:
        """The current wall-clock time: the epoch plus the clock's elapsed time."""
        return self._epoch + timedelta(seconds=self.clock.monotonic() - self._mono0)

    def timestamp(self, offset: float = 0.0) -> str:
        """`now()` (plus `offset` seconds) as an RFC 3339 timestamp."""
        return format_time(self.now() + timedelta(seconds=offset))

    def new_uid(self) -> str:
        """A fresh UUID (from the store's seeded generator)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_cluster_ip(self) -> str:
        """The next free service cluster IP (``10.96.x.y``); caller holds the lock."""
        ip = f"10.96.{self._next_ip // 256}.{self._next_ip % 256}"
        self._next_ip += 1
        return ip

    # ------------------------------------------------------------ types

    def _serve_locked(self, rtype: ResourceType) -> None:
        self.types.setdefault(rtype.key, rtype)
        self.served[(rtype.group, rtype.version, rtype.plural)] = rtype
        self.objects.setdefault(rtype.key, {})

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The served type for a URL's group, version and plural, or None."""
        with self.cond:
            return self.served.get((group, version, plural))

    def served_types(self) -> list[ResourceType]:
        """Every served type, in a stable order."""
        with self.cond:
            return sorted(self.served.values(), key=lambda t: (t.group, t.version, t.plural))

    # ------------------------------------------------------------ reads

    @staticmethod
    def sort_key(namespace: str, name: str) -> str:
        """The storage key suffix objects sort by (``ns/name`` or ``name``)."""
        return f"{namespace}/{name}" if namespace else name

    def get(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any]:
        """A copy of the stored object, or 404."""
        with self.cond:
            obj = self.objects[rtype.key].get((namespace, name))
            if obj is None:
                raise not_found(rtype, name)
            return copy.deepcopy(obj)

    def _state_at_locked(self, rtype: ResourceType, rv: int) -> dict[tuple[str, str], Any]:
        """The objects of `rtype` as they were at `rv` (caller checked the history)."""
        state = dict(self.objects[rtype.key])
        for event in reversed(self.history):
            if event.rv <= rv:
                break
            if event.rkey != rtype.key:
                continue
            key = (event.namespace, event.name)
            if event.type == "ADDED":
                state.pop(key, None)
            else:
                state[key] = event.old
        return state

    def list_objects(
        self,
        rtype: ResourceType,
        namespace: str | None,
        select: Callable[[dict[str, Any]], bool],
        *,
        at_rv: int | None = None,
        after_key: str | None = None,
        limit: int = 0,
    ) -> tuple[list[dict[str, Any]], int, str | None, int]:
        """List matching objects in key order.

        Returns the items (copies), the snapshot RV, the key of the last item
        when more remain (else None), and how many more remain.
        """
        with self.cond:
            snapshot_rv = self.rv if at_rv is None else at_rv
            if at_rv is None:
                state = self.objects[rtype.key]
            else:
                if at_rv < self.history_start:
                    raise StatusError(
                        410, "Expired", "The resourceVersion for the provided list is too old."
                    )
                state = self._state_at_locked(rtype, at_rv)
            keyed = sorted(
                (self.sort_key(ns, nm), obj)
                for (ns, nm), obj in state.items()
                if namespace is None or ns == namespace
            )
            selected = [
                (k, o) for k, o in keyed if (after_key is None or k > after_key) and select(o)
            ]
            last_key = None
            remaining = 0
            if limit and len(selected) > limit:
                remaining = len(selected) - limit
                selected = selected[:limit]
                last_key = selected[-1][0]
            return [copy.deepcopy(o) for _, o in selected], snapshot_rv, last_key, remaining

    def all_objects(self, rtype: ResourceType) -> list[dict[str, Any]]:
        """Copies of every object of `rtype`, in key order."""
        with self.cond:
            state = self.objects[rtype.key]
            return [copy.deepcopy(state[k]) for k in sorted(state)]

    # ------------------------------------------------------------ watches

    def open_watch(
        self, watcher: Watcher, since: int | None, *, snapshot: bool
    ) -> tuple[list[dict[str, Any]], int]:
        """Register `watcher` and return (initial objects, the RV it starts from).

        With `since` None the watch starts now, and `snapshot` asks for the
        current objects (the caller sends them as ADDED). With `since` the
        history after it is replayed into the watcher's queue; raises
        `StatusError` 410 if `since` is older than the retained history.
        """
        with self.cond:
            objects: list[dict[str, Any]] = []
            if since is None:
                if snapshot:
                    state = self.objects[watcher.rtype.key]
                    objects = [
                        state[k]
                        for k in sorted(state, key=lambda k: self.sort_key(*k))
                        if watcher.namespace is None or k[0] == watcher.namespace
                    ]
                start = self.rv
            else:
                if since < self.history_start:
                    raise StatusError(
                        410,
                        "Expired",
                        f"too old resource version: {since} ({self.history_start})",
                    )
                for event in self.history:
                    if event.rv > since:
                        watcher.offer(event)
                start = since
            self.watchers.append(watcher)
            self.cond.notify_all()
            return objects, start

    def close_watch(self, watcher: Watcher) -> None:
        """Unregister `watcher`."""
        with self.cond:
            watcher.closed = True
            if watcher in self.watchers:
                self.watchers.remove(watcher)
            self.cond.notify_all()

    def compact(self) -> int:
        """Drop the whole history: watches from any older RV now get 410."""
        with self.cond:
            self.history.clear()
            self.history_start = self.rv
            return self.rv

    # ------------------------------------------------------------ commit

    def _commit_locked(
        self,
        rtype: ResourceType,
        kind: str,
        obj: dict[str, Any],
        old: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Store a write, take the next RV, record and publish the event."""
        self.rv += 1
        rv = str(self.rv)
        meta = obj["metadata"]
        namespace = meta.get("namespace", "") if rtype.namespaced else ""
        name = meta["name"]
        key = (namespace, name)
        if kind == "DELETED":
            assert old is not None  # noqa: S101 - internal invariant
            gone = copy.deepcopy(old)
            gone["metadata"]["resourceVersion"] = rv
            self.objects[rtype.key].pop(key, None)
            event = Event(kind, self.rv, rtype.key, namespace, name, gone, old)
            result = gone
        else:
            meta["resourceVersion"] = rv
            self.objects[rtype.key][key] = obj
            event = Event(kind, self.rv, rtype.key, namespace, name, obj, old)
            result = obj
        self.history.append(event)
        while len(self.history) > self.history_size:
            self.history_start = self.history.popleft().rv
        for watcher in self.watchers:
            watcher.offer(event)
        for listener in self.listeners:
            listener(event)
        self.cond.notify_all()
        return copy.deepcopy(result)

    # ------------------------------------------------------------ history

    def iter_events(self) -> Iterator[Event]:
        """A copy of the retained history, oldest first."""
        with self.cond:
            return iter(list(self.history))
