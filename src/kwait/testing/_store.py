"""The fake API server's storage: objects, one global resourceVersion, history.

Every successful write takes the next resourceVersion and appends one event
(type, RV, new object, previous object) to a bounded history. Watches replay
from the history and then receive live events through a per-watch queue, so
compacting the history ("compact now") makes *new* watches from old RVs fail
with 410 while open watches carry on, as with the real watch cache.

Stored objects are never mutated after they are committed: every write stores
a new dict, so watch threads may serialize events without holding the lock.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from kwait._typing import Clock
from kwait.testing._resources import (
    BUILTIN_TYPES,
    ResourceType,
    apply_defaults,
    custom_resource_types,
    field_value,
    qos_class,
)
from kwait.testing._selectors import (
    FieldSelector,
    LabelSelector,
    dns1123_subdomain_errors,
)

__all__ = [
    "DeleteOptions",
    "Event",
    "StatusError",
    "Store",
    "Watcher",
    "format_time",
]

_GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_GC_FINALIZERS = ("foregroundDeletion", "orphan")
_CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
_POD_MUTABLE_NOTE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def format_time(moment: datetime) -> str:
    """Format a moment as ``metav1.Time`` does: RFC 3339, UTC, whole seconds.

    >>> format_time(datetime(2025, 1, 1, 12, 0, 0, 999, tzinfo=timezone.utc))
    '2025-01-01T12:00:00Z'
    """
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class StatusError(Exception):
    """An API error, rendered as a ``Status`` body with an HTTP code."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Describe the error; `details` is omitted from the body when empty."""
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.metadata = metadata or {}

    def status(self) -> dict[str, Any]:
        """Return the ``Status`` object for this error."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.metadata),
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(rtype: ResourceType, name: str, kind: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = kind if kind is not None else rtype.plural
    return details


def not_found(rtype: ResourceType, name: str) -> StatusError:
    """404 NotFound for `name`."""
    return StatusError(
        404, "NotFound", f'{rtype.qualified} "{name}" not found', _details(rtype, name)
    )


def conflict(rtype: ResourceType, name: str) -> StatusError:
    """409 Conflict for a stale resourceVersion."""
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rtype.qualified} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(rtype, name),
    )


def bad_request(message: str) -> StatusError:
    """400 BadRequest with `message` and no details."""
    return StatusError(400, "BadRequest", message)


def invalid(rtype: ResourceType, name: str, causes: list[tuple[str, str, str]]) -> StatusError:
    """422 Invalid from ``(field, reason, message)`` causes."""
    texts = [f"{f}: {m}" for f, _, m in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = _details(rtype, name, kind=rtype.kind)
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    return StatusError(422, "Invalid", f'{rtype.group_kind} "{name}" is invalid: {joined}', details)


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


@dataclass
class DeleteOptions:
    """The parts of DeleteOptions the fake honours."""

    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def normalize(obj: dict[str, Any]) -> None:
    """Drop what Go's ``omitempty`` would not emit: empty metadata fields, empty data maps."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in [k for k, v in meta.items() if v in (None, "", {}, [])]:
            del meta[key]
    for key in ("data", "binaryData"):
        if obj.get(key) in ({}, None) and key in obj:
            del obj[key]


def _nonmeta(obj: dict[str, Any], *, with_status: bool) -> dict[str, Any]:
    skip = {"metadata", "kind", "apiVersion"} | (set() if with_status else {"status"})
    return {k: v for k, v in obj.items() if k not in skip}


class Store:
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
        self.cond = threading.Condition()
        self.rv = 0
        self.history: deque[Event] = deque()
        self.history_size = history_size
        self.history_start = 0
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

    # ------------------------------------------------------------ create

    def _check_namespace_locked(self, rtype: ResourceType, namespace: str, name: str) -> None:
        ns_obj = self.objects["namespaces"].get(("", namespace))
        if ns_obj is None:
            ns_type = self.types["namespaces"]
            raise not_found(ns_type, namespace)
        if ns_obj["metadata"].get("deletionTimestamp"):
            raise StatusError(
                403,
                "Forbidden",
                f'{rtype.qualified} "{name}" is forbidden: unable to create new content in '
                f"namespace {namespace} because it is being terminated",
                {
                    **_details(rtype, name),
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {namespace} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )

    def create(self, rtype: ResourceType, namespace: str, body: Any) -> dict[str, Any]:  # noqa: C901 - mirrors the API server's decision table
        """Create an object (POST); returns the stored object."""
        if not isinstance(body, dict):
            raise bad_request("the body of the request is not a JSON object")
        obj = copy.deepcopy(body)
        meta = _meta(obj)
        with self.cond:
            if rtype.namespaced:
                if meta.get("namespace") and meta["namespace"] != namespace:
                    raise bad_request(
                        "the namespace of the provided object does not match the namespace "
                        "sent on the request"
                    )
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            name = meta.get("name") or ""
            if not name and meta.get("generateName"):
                name = meta["generateName"] + "".join(
                    self.rng.choice(_GENERATE_CHARS) for _ in range(5)
                )
                meta["name"] = name
            if rtype.namespaced:
                self._check_namespace_locked(rtype, namespace, name)
            obj["kind"] = rtype.kind
            obj["apiVersion"] = rtype.api_version
            for wiped in (
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
                "generation",
                "managedFields",
            ):
                meta.pop(wiped, None)
            apply_defaults(rtype, obj, creating=True)
            normalize(obj)
            self._validate_create(rtype, obj)
            if meta.get("resourceVersion"):
                raise StatusError(
                    500, "", "resourceVersion should not be set on objects to be created"
                )
            meta.pop("resourceVersion", None)
            existing = self.objects[rtype.key].get((meta.get("namespace", ""), name))
            if existing is not None:
                prefix = (
                    "object is being deleted: "
                    if existing["metadata"].get("deletionTimestamp")
                    else ""
                )
                raise StatusError(
                    409,
                    "AlreadyExists",
                    f'{prefix}{rtype.qualified} "{name}" already exists',
                    _details(rtype, name),
                )
            self._reset_status_on_create(rtype, obj)
            if rtype.generation != "none":
                meta["generation"] = 1
            meta["uid"] = self.new_uid()
            meta["creationTimestamp"] = self.timestamp()
            created = self._commit_locked(rtype, "ADDED", obj, None)
            if rtype.key == "customresourcedefinitions.apiextensions.k8s.io":
                created = self._establish_crd_locked(created)
            return created

    def _validate_create(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        name = meta.get("name") or ""
        causes: list[tuple[str, str, str]] = []
        if not name:
            causes.append(
                (
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required",
                )
            )
        else:
            errs = dns1123_subdomain_errors(name)
            if errs:
                causes.append(
                    (
                        "metadata.name",
                        "FieldValueInvalid",
                        f'Invalid value: "{name}": {"; ".join(errs)}',
                    )
                )
        if rtype.key == "pods":
            causes.extend(_validate_pod_spec(obj.get("spec")))
        if rtype.key == "customresourcedefinitions.apiextensions.k8s.io" and name:
            spec = obj.get("spec") or {}
            expected = f"{(spec.get('names') or {}).get('plural', '')}.{spec.get('group', '')}"
            if name != expected:
                causes.append(
                    (
                        "metadata.name",
                        "FieldValueInvalid",
                        f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
                    )
                )
        if causes:
            raise invalid(rtype, name, causes)

    def _reset_status_on_create(self, rtype: ResourceType, obj: dict[str, Any]) -> None:  # noqa: C901 - mirrors the API server's decision table
        key = rtype.key
        if key == "pods":
            obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}
        elif key in {"deployments.apps", "replicasets.apps"}:
            obj["status"] = {}
        elif key == "namespaces":
            obj["status"] = {"phase": "Active"}
        elif key == "nodes":
            obj.setdefault("status", {})
        elif key == "services":
            obj["status"] = {"loadBalancer": {}}
            spec = obj["spec"]
            if spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
                if not spec.get("clusterIP"):
                    spec["clusterIP"] = f"10.96.{self._next_ip // 256}.{self._next_ip % 256}"
                    self._next_ip += 1
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
                spec.setdefault("internalTrafficPolicy", "Cluster")
        elif key == "secrets":
            string_data = obj.pop("stringData", None)
            if isinstance(string_data, dict):
                data = obj.setdefault("data", {})
                for k, v in string_data.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
        elif key == "customresourcedefinitions.apiextensions.k8s.io":
            versions = (obj.get("spec") or {}).get("versions") or []
            stored = [v.get("name", "") for v in versions if v.get("storage")]
            obj["status"] = {
                "acceptedNames": {"plural": "", "kind": ""},
                "storedVersions": stored,
            }
        elif rtype.status_subresource:
            obj.pop("status", None)

    def _establish_crd_locked(self, crd: dict[str, Any]) -> dict[str, Any]:
        """Serve the CRD's resources and write its Established status."""
        rtype = self.types["customresourcedefinitions.apiextensions.k8s.io"]
        for served in custom_resource_types(crd):
            self._serve_locked(served)
        names = dict((crd.get("spec") or {}).get("names") or {})
        names.setdefault("listKind", f"{names.get('kind', '')}List")
        names.setdefault("singular", str(names.get("kind", "")).lower())
        now = self.timestamp()
        new = copy.deepcopy(crd)
        new["status"] = {
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "lastTransitionTime": now,
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                },
                {
                    "type": "Established",
                    "status": "True",
                    "lastTransitionTime": now,
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                },
            ],
            "acceptedNames": names,
            "storedVersions": crd["status"].get("storedVersions", []),
        }
        return self._commit_locked(
            rtype, "MODIFIED", new, self.objects[rtype.key][("", crd["metadata"]["name"])]
        )

    # ------------------------------------------------------------ update and patch

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """Replace an object (PUT), or its status with ``subresource="status"``."""
        return self.modify(rtype, namespace, name, lambda _old: body, subresource=subresource)

    def modify(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        make: Callable[[dict[str, Any]], Any],
        *,
        subresource: str | None = None,
        patching: bool = False,
    ) -> dict[str, Any]:
        """Compute the new object from the stored one with `make`, then update.

        `make` receives a copy of the stored object and runs under the lock,
        so patches apply atomically.
        """
        with self.cond:
            old = self.objects[rtype.key].get((namespace, name))
            if old is None:
                raise not_found(rtype, name)
            body = make(copy.deepcopy(old))
            if not isinstance(body, dict):
                raise bad_request("the body of the request is not a JSON object")
            meta = _meta(body)
            body_rv = meta.get("resourceVersion")
            if body_rv and body_rv != old["metadata"]["resourceVersion"]:
                raise conflict(rtype, name)
            if not body_rv and not patching and not rtype.unconditional_update:
                raise invalid(
                    rtype,
                    name,
                    [
                        (
                            "metadata.resourceVersion",
                            "FieldValueInvalid",
                            "Invalid value: 0: must be specified for an update",
                        )
                    ],
                )
            if meta.get("name") and meta["name"] != name:
                raise bad_request(
                    f"the name of the object ({meta['name']}) does not match the name on "
                    f"the URL ({name})"
                )
            if rtype.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            new = self._prepare_update(rtype, old, body, subresource)
            return self._write_locked(rtype, old, new)

    def _prepare_update(  # noqa: C901, PLR0912 - mirrors the API server's decision table
        self,
        rtype: ResourceType,
        old: dict[str, Any],
        body: dict[str, Any],
        subresource: str | None,
    ) -> dict[str, Any]:
        old_meta = old["metadata"]
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in body:
                new["status"] = copy.deepcopy(body["status"])
            else:
                new.pop("status", None)
            body_meta = body["metadata"]
            for key in rtype.status_keeps:
                if body_meta.get(key) is not None:
                    new["metadata"][key] = copy.deepcopy(body_meta[key])
                else:
                    new["metadata"].pop(key, None)
            return new
        new = copy.deepcopy(body)
        meta = new["metadata"]
        for key in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "name",
            "namespace",
            "resourceVersion",
        ):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        meta.pop("selfLink", None)
        new["kind"] = rtype.kind
        new["apiVersion"] = rtype.api_version
        if rtype.status_subresource:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        apply_defaults(rtype, new, creating=False)
        if rtype.key == "secrets":
            string_data = new.pop("stringData", None)
            if isinstance(string_data, dict):
                data = new.setdefault("data", {})
                for k, v in string_data.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
        if rtype.key == "pods":
            self._validate_pod_update(rtype, old, new)
        self._bump_generation(rtype, old, new)
        return new

    @staticmethod
    def _bump_generation(rtype: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
        generation = old["metadata"].get("generation")
        if not generation:
            return
        rule = rtype.generation
        if rule in {"spec", "spec+annotations"}:
            changed = old.get("spec") != new.get("spec")
            if rule == "spec+annotations":
                changed = changed or (
                    (old["metadata"].get("annotations") or {})
                    != (new["metadata"].get("annotations") or {})
                )
        elif rule in {"nonmeta", "nonmeta+status"}:
            with_status = rule == "nonmeta+status"
            changed = _nonmeta(old, with_status=with_status) != _nonmeta(
                new, with_status=with_status
            )
        else:
            changed = False
        if changed:
            new["metadata"]["generation"] = generation + 1

    @staticmethod
    def _validate_pod_update(rtype: ResourceType, old: dict[str, Any], new: dict[str, Any]) -> None:
        name = old["metadata"]["name"]
        causes = _validate_pod_spec(new.get("spec"))
        if causes:
            raise invalid(rtype, name, causes)

        def masked(spec: Any) -> Any:
            spec = copy.deepcopy(spec) if isinstance(spec, dict) else {}
            for group in ("containers", "initContainers"):
                for container in spec.get(group) or []:
                    if isinstance(container, dict):
                        container.pop("image", None)
            for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
                spec.pop(key, None)
            return spec

        if masked(old.get("spec")) != masked(new.get("spec")):
            raise invalid(
                rtype,
                name,
                [("spec", "FieldValueForbidden", f"Forbidden: {_POD_MUTABLE_NOTE}")],
            )

    def _write_locked(
        self, rtype: ResourceType, old: dict[str, Any], new: dict[str, Any]
    ) -> dict[str, Any]:
        """Commit an update unless it changes nothing; honour emptied finalizers."""
        old_meta = old["metadata"]
        normalize(new)
        new["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
        if (
            old_meta.get("deletionTimestamp")
            and old_meta.get("finalizers")
            and not new["metadata"].get("finalizers")
            and not old_meta.get("deletionGracePeriodSeconds")
        ):
            return self._remove_locked(rtype, old)
        if new == old:
            return copy.deepcopy(old)
        return self._commit_locked(rtype, "MODIFIED", new, old)

    def write_status(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        change: Callable[[dict[str, Any]], None],
        *,
        uid: str | None = None,
    ) -> dict[str, Any] | None:
        """Let an internal controller change an object in place (no validation).

        Returns None if the object is gone (or has another `uid`).
        """
        with self.cond:
            old = self.objects[rtype.key].get((namespace, name))
            if old is None or (uid is not None and old["metadata"].get("uid") != uid):
                return None
            new = copy.deepcopy(old)
            change(new)
            return self._write_locked(rtype, old, new)

    def bind_pod(self, namespace: str, name: str, node: str) -> dict[str, Any]:
        """Bind a pod to `node` as the ``binding`` subresource does (one MODIFIED)."""
        rtype = self.types["pods"]
        with self.cond:
            old = self.objects[rtype.key].get((namespace, name))
            if old is None:
                raise not_found(rtype, name)
            current = (old.get("spec") or {}).get("nodeName")
            if current:
                raise StatusError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is '
                    f'already assigned to node "{current}"',
                    {"name": name, "kind": "pods/binding"},
                )
            new = copy.deepcopy(old)
            new.setdefault("spec", {})["nodeName"] = node
            status = new.setdefault("status", {})
            conditions = [
                c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"
            ]
            conditions.append(
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": self.timestamp(),
                }
            )
            status["conditions"] = conditions
            return self._write_locked(rtype, old, new)

    # ------------------------------------------------------------ delete

    def _remove_locked(self, rtype: ResourceType, old: dict[str, Any]) -> dict[str, Any]:
        result = self._commit_locked(rtype, "DELETED", copy.deepcopy(old), old)
        if rtype.key == "namespaces":
            self._purge_namespace_locked(old["metadata"]["name"])
        return result

    def _purge_namespace_locked(self, namespace: str) -> None:
        for rkey in sorted(self.objects):
            rtype = self.types.get(rkey)
            if rtype is None or not rtype.namespaced:
                continue
            for key in sorted(k for k in self.objects[rkey] if k[0] == namespace):
                self._commit_locked(
                    rtype,
                    "DELETED",
                    copy.deepcopy(self.objects[rkey][key]),
                    self.objects[rkey][key],
                )

    def delete(  # noqa: C901, PLR0911 - mirrors the API server's decision table
        self, rtype: ResourceType, namespace: str, name: str, options: DeleteOptions
    ) -> tuple[dict[str, Any], bool]:
        """Delete an object; returns (the object's last or updated state, removed)."""
        with self.cond:
            old = self.objects[rtype.key].get((namespace, name))
            if old is None:
                raise not_found(rtype, name)
            meta = old["metadata"]
            self._check_preconditions(rtype, old, options)
            if rtype.graceful:
                return self._delete_pod_locked(rtype, old, options)
            if rtype.key == "namespaces":
                return self._delete_namespace_locked(rtype, old)
            if rtype.key == "customresourcedefinitions.apiextensions.k8s.io":
                return self._delete_crd_locked(rtype, old)
            finalizers = list(meta.get("finalizers") or [])
            policy = options.propagation_policy
            if policy is None and options.orphan_dependents:
                policy = "Orphan"
            gc_finalizer = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(
                policy or ""
            )
            if meta.get("deletionTimestamp"):
                return copy.deepcopy(old), False
            if gc_finalizer and gc_finalizer not in finalizers:
                finalizers.append(gc_finalizer)
            if not finalizers:
                return self._remove_locked(rtype, old), True
            pending = self._mark_deleting(old, finalizers, grace=0, offset=0.0)
            current = self._commit_locked(rtype, "MODIFIED", pending, old)
            if any(f in _GC_FINALIZERS for f in finalizers):
                # Emulate the garbage collector: no dependents, so it removes its finalizers.
                stored = self.objects[rtype.key][(namespace, name)]
                left = [f for f in finalizers if f not in _GC_FINALIZERS]
                if not left:
                    return self._remove_locked(rtype, stored), True
                cleaned = copy.deepcopy(stored)
                cleaned["metadata"]["finalizers"] = left
                current = self._commit_locked(rtype, "MODIFIED", cleaned, stored)
            return current, False

    def _mark_deleting(
        self, old: dict[str, Any], finalizers: list[str], *, grace: int, offset: float
    ) -> dict[str, Any]:
        new = copy.deepcopy(old)
        meta = new["metadata"]
        if not meta.get("deletionTimestamp") and meta.get("generation"):
            meta["generation"] += 1
        meta["deletionTimestamp"] = self.timestamp(offset)
        meta["deletionGracePeriodSeconds"] = grace
        if finalizers:
            meta["finalizers"] = finalizers
        return new

    @staticmethod
    def _check_preconditions(
        rtype: ResourceType, old: dict[str, Any], options: DeleteOptions
    ) -> None:
        meta = old["metadata"]
        name = meta["name"]
        if options.precondition_uid is not None and options.precondition_uid != meta.get("uid"):
            raise StatusError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {rtype.group_kind} "{name}": the UID in the '
                f"precondition ({options.precondition_uid}) does not match the UID in record "
                f"({meta.get('uid')}). The object might have been deleted and then recreated",
                _details(rtype, name),
            )
        if options.precondition_rv is not None and options.precondition_rv != meta.get(
            "resourceVersion"
        ):
            raise StatusError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {rtype.group_kind} "{name}": the '
                f"ResourceVersion in the precondition ({options.precondition_rv}) does not match "
                f"the ResourceVersion in record ({meta.get('resourceVersion')}). The object might "
                "have been modified",
                _details(rtype, name),
            )

    def _delete_pod_locked(  # noqa: C901, PLR0911 - mirrors the API server's decision table
        self, rtype: ResourceType, old: dict[str, Any], options: DeleteOptions
    ) -> tuple[dict[str, Any], bool]:
        meta = old["metadata"]
        spec = old.get("spec") or {}
        finalizers = list(meta.get("finalizers") or [])
        grace = options.grace_period_seconds
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
            grace = 30 if grace is None else int(grace)
        if grace < 0:
            grace = 1
        phase = (old.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in {"Succeeded", "Failed"}:
            grace = 0
        if meta.get("deletionTimestamp"):
            current = int(meta.get("deletionGracePeriodSeconds") or 0)
            if grace == 0:
                if not finalizers:
                    return self._remove_locked(rtype, old), True
                if current == 0:
                    return copy.deepcopy(old), False
                return self._commit_locked(
                    rtype, "MODIFIED", self._mark_deleting(old, finalizers, grace=0, offset=0), old
                ), False
            if grace >= current:
                return copy.deepcopy(old), False
            requested = datetime.strptime(meta["deletionTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=timezone.utc
            ) - timedelta(seconds=current)
            offset = (requested + timedelta(seconds=grace) - self.now()).total_seconds()
            if offset <= 0:
                offset, grace = 0.0, 1
            pending = self._mark_deleting(old, finalizers, grace=grace, offset=offset)
            return self._commit_locked(rtype, "MODIFIED", pending, old), False
        if grace == 0 and not finalizers:
            # kube-apiserver 1.37 (seen on the test ground) first records the deletion
            # (deletionTimestamp, grace 0: one MODIFIED), then removes the pod (DELETED).
            marked = self._mark_deleting(old, finalizers, grace=0, offset=0)
            self._commit_locked(rtype, "MODIFIED", marked, old)
            stored = self.objects[rtype.key][(meta.get("namespace", ""), meta["name"])]
            return self._remove_locked(rtype, stored), True
        pending = self._mark_deleting(old, finalizers, grace=grace, offset=float(grace))
        return self._commit_locked(rtype, "MODIFIED", pending, old), False

    def _delete_namespace_locked(
        self, rtype: ResourceType, old: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        if old["metadata"].get("deletionTimestamp"):
            return copy.deepcopy(old), False
        pending = self._mark_deleting(
            old, list(old["metadata"].get("finalizers") or []), grace=0, offset=0
        )
        pending["status"] = {"phase": "Terminating"}
        current = self._commit_locked(rtype, "MODIFIED", pending, old)
        name = old["metadata"]["name"]
        self._purge_namespace_locked(name)
        stored = self.objects[rtype.key][("", name)]
        self._commit_locked(rtype, "DELETED", copy.deepcopy(stored), stored)
        return current, False

    def _delete_crd_locked(
        self, rtype: ResourceType, old: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        if old["metadata"].get("deletionTimestamp"):
            return copy.deepcopy(old), False
        finalizers = [*list(old["metadata"].get("finalizers") or []), _CRD_CLEANUP]
        pending = self._mark_deleting(old, finalizers, grace=0, offset=0)
        current = self._commit_locked(rtype, "MODIFIED", pending, old)
        for served in custom_resource_types(old):
            for key in sorted(self.objects.get(served.key, {})):
                obj = self.objects[served.key][key]
                self._commit_locked(served, "DELETED", copy.deepcopy(obj), obj)
            self.served.pop((served.group, served.version, served.plural), None)
        name = old["metadata"]["name"]
        stored = self.objects[rtype.key][("", name)]
        left = [f for f in stored["metadata"].get("finalizers", []) if f != _CRD_CLEANUP]
        if left:
            cleaned = copy.deepcopy(stored)
            cleaned["metadata"]["finalizers"] = left
            return self._commit_locked(rtype, "MODIFIED", cleaned, stored), False
        self._commit_locked(rtype, "DELETED", copy.deepcopy(stored), stored)
        return current, True

    # ------------------------------------------------------------ misc

    def iter_events(self) -> Iterator[Event]:
        """A copy of the retained history, oldest first."""
        with self.cond:
            return iter(list(self.history))


def _validate_pod_spec(spec: Any) -> list[tuple[str, str, str]]:
    """The pod-spec validation the fake performs: containers with names and images."""
    if not isinstance(spec, dict) or not spec.get("containers"):
        return [("spec.containers", "FieldValueRequired", "Required value")]
    causes: list[tuple[str, str, str]] = []
    for group in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(group) or []):
            if not isinstance(container, dict):
                continue
            if not container.get("name"):
                causes.append((f"spec.{group}[{i}].name", "FieldValueRequired", "Required value"))
            if not container.get("image"):
                causes.append((f"spec.{group}[{i}].image", "FieldValueRequired", "Required value"))
    return causes


def encode_continue(rv: int, start: str) -> str:
    """Make a continue token in the real server's format."""
    raw = json.dumps(
        {"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """Decode a continue token into (rv, key of the last item returned)."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        rv = int(data["rv"])
        start = str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad_request(f"invalid continue token: continue key is not valid: {exc}") from None
    if data.get("v") != "meta.k8s.io/v1":
        raise bad_request(
            "invalid continue token: continue key is not valid: incorrect encoded start "
            "resourceVersion (version meta.k8s.io/v1)"
        )
    return rv, start.removesuffix("\x00")
