"""The API server's per-resource object rules, as pure functions on object dicts.

What a create or an update turns a request body into before it is stored:
type identity and server-owned metadata, defaulting, ``stringData`` folding,
status resets and the status subresource, ``generation`` bumps, Go's
``omitempty`` normalisation, and validation (names, pod specs, what a pod
update may change, CRD names). Nothing here touches storage or locks:
`kwait.testing._lifecycle` applies these rules inside its writes.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

from kwait.testing._errors import StatusError, invalid
from kwait.testing._resources import ResourceType, apply_defaults, qos_class
from kwait.testing._selectors import dns1123_subdomain_errors

__all__ = [
    "ensure_metadata",
    "normalize",
    "prepare_create",
    "prepare_update",
    "reset_status_on_create",
]

_POD_MUTABLE_NOTE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def ensure_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's ``metadata`` dict, replacing a missing or malformed one by ``{}``."""
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


def _fold_string_data(obj: dict[str, Any]) -> None:
    """Move a secret's ``stringData`` into ``data``, base64-encoded."""
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        data = obj.setdefault("data", {})
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()


# ---------------------------------------------------------------- create


def prepare_create(rtype: ResourceType, obj: dict[str, Any]) -> None:
    """Stamp the type, wipe server-owned metadata, default, normalise and validate.

    `obj` already has its final namespace and name; raises `StatusError` for
    an invalid object or one that sets a resourceVersion.
    """
    meta = obj["metadata"]
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
    _validate_create(rtype, obj)
    if meta.get("resourceVersion"):
        raise StatusError(500, "", "resourceVersion should not be set on objects to be created")
    meta.pop("resourceVersion", None)


def _validate_create(rtype: ResourceType, obj: dict[str, Any]) -> None:
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


def reset_status_on_create(  # noqa: C901 - mirrors the API server's decision table
    rtype: ResourceType, obj: dict[str, Any], cluster_ip: Callable[[], str]
) -> None:
    """Set the status a new object starts with (and a service's allocated IPs).

    `cluster_ip` allocates the next service cluster IP; it is called only
    for a service that needs one.
    """
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
                spec["clusterIP"] = cluster_ip()
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
    elif key == "secrets":
        _fold_string_data(obj)
    elif key == "customresourcedefinitions.apiextensions.k8s.io":
        versions = (obj.get("spec") or {}).get("versions") or []
        stored = [v.get("name", "") for v in versions if v.get("storage")]
        obj["status"] = {
            "acceptedNames": {"plural": "", "kind": ""},
            "storedVersions": stored,
        }
    elif rtype.status_subresource:
        obj.pop("status", None)


# ---------------------------------------------------------------- update


def prepare_update(
    rtype: ResourceType,
    old: dict[str, Any],
    body: dict[str, Any],
    subresource: str | None,
) -> dict[str, Any]:
    """The object an update of `old` with `body` stores (before normalisation).

    With ``subresource="status"`` only the status (and the type's
    status-owned metadata) changes; otherwise server-owned metadata and a
    status-subresource status are kept from `old`. Raises `StatusError` for
    a pod update the API server rejects.
    """
    if subresource == "status":
        return _prepare_status_update(rtype, old, body)
    old_meta = old["metadata"]
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
        _fold_string_data(new)
    if rtype.key == "pods":
        _validate_pod_update(rtype, old, new)
    _bump_generation(rtype, old, new)
    return new


def _prepare_status_update(
    rtype: ResourceType, old: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """`old` with the status (and status-owned metadata) of `body`."""
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
        changed = _nonmeta(old, with_status=with_status) != _nonmeta(new, with_status=with_status)
    else:
        changed = False
    if changed:
        new["metadata"]["generation"] = generation + 1


# ---------------------------------------------------------------- pods


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
