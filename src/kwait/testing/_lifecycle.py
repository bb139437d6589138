"""Object lifecycles on the fake API server: create, update, delete with the server's rules.

`Store` is the storage (`kwait.testing._store.Storage`) plus what the API
server does on each write: namespace checks, generated names, uids and
creation timestamps, CRD establishment, optimistic concurrency on updates,
no-op updates, and the deletion decision tables (preconditions, grace
periods, finalizers and the garbage collector's, namespace and CRD cleanup).
The per-object rules (defaulting, validation, status) come from
`kwait.testing._rules`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from kwait.testing._errors import (
    StatusError,
    bad_request,
    conflict,
    invalid,
    not_found,
    status_details,
)
from kwait.testing._resources import ResourceType, custom_resource_types
from kwait.testing._rules import (
    ensure_metadata,
    normalize,
    prepare_create,
    prepare_update,
    reset_status_on_create,
)
from kwait.testing._store import Storage

__all__ = ["DeleteOptions", "Store"]

_GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_GC_FINALIZERS = ("foregroundDeletion", "orphan")
_CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"


@dataclass
class DeleteOptions:
    """The parts of DeleteOptions the fake honours."""

    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None


class Store(Storage):
    """The fake API server's objects, written as the real server writes them.

    All methods are thread-safe; they take `cond`'s lock. Methods whose name
    ends in ``_locked`` expect the caller to hold it.
    """

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
                    **status_details(rtype, name),
                    "causes": [
                        {
                            "reason": "NamespaceTerminating",
                            "message": f"namespace {namespace} is being terminated",
                            "field": "metadata.namespace",
                        }
                    ],
                },
            )

    def create(self, rtype: ResourceType, namespace: str, body: Any) -> dict[str, Any]:
        """Create an object (POST); returns the stored object."""
        if not isinstance(body, dict):
            raise bad_request("the body of the request is not a JSON object")
        obj = copy.deepcopy(body)
        meta = ensure_metadata(obj)
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
            prepare_create(rtype, obj)
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
                    status_details(rtype, name),
                )
            reset_status_on_create(rtype, obj, self.new_cluster_ip)
            if rtype.generation != "none":
                meta["generation"] = 1
            meta["uid"] = self.new_uid()
            meta["creationTimestamp"] = self.timestamp()
            created = self._commit_locked(rtype, "ADDED", obj, None)
            if rtype.key == "customresourcedefinitions.apiextensions.k8s.io":
                created = self._establish_crd_locked(created)
            return created

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
            meta = ensure_metadata(body)
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
            new = prepare_update(rtype, old, body, subresource)
            return self._write_locked(rtype, old, new)

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
                status_details(rtype, name),
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
                status_details(rtype, name),
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
