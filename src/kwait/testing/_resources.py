"""The resource types the fake API server serves, and their per-kind rules.

Each `ResourceType` records what the real registry strategies decide for its
kind: scope, status subresource, generation rule, selectable fields, graceful
deletion, and the defaults the server fills in on create.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BUILTIN_TYPES",
    "ResourceType",
    "custom_resource_types",
    "field_value",
]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One served resource (a plural in one group/version) and its rules.

    Attributes:
        generation: ``none`` (never set), ``spec`` (bumped when spec changes),
            ``spec+annotations`` (Deployments), ``nonmeta`` (everything
            outside metadata and status) or ``nonmeta+status`` (a custom
            resource without a status subresource).
        field_selectors: The selectable fields, or None for the default
            ``metadata.name``/``metadata.namespace`` with the generic error.
    """

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    status_subresource: bool = False
    generation: str = "none"
    field_selectors: tuple[str, ...] | None = None
    graceful: bool = False
    return_deleted_object: bool = False
    custom: bool = False
    list_kind: str = ""
    status_keeps: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    extra_fields: dict[str, Callable[[dict[str, Any]], str]] = field(
        default_factory=dict, compare=False, hash=False
    )

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` of objects of this type (``v1``, ``apps/v1``)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """The storage key of this resource: ``plural.group`` (``pods`` for core)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified(self) -> str:
        """The resource as error messages name it (``pods``, ``deployments.apps``)."""
        return self.key

    @property
    def list_kind_name(self) -> str:
        """The ``kind`` of a list response."""
        return self.list_kind or f"{self.kind}List"

    @property
    def group_kind(self) -> str:
        """``Kind.group`` for error messages about validation (``Pod``, ``Deployment.apps``)."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def strategic_merge(self) -> bool:
        """Whether strategic merge patches are accepted (built-in types only)."""
        return not self.custom

    @property
    def unconditional_update(self) -> bool:
        """Whether an update without ``metadata.resourceVersion`` is allowed."""
        return not self.custom

    def bookmark_object(self, rv: str, *, initial_events_end: bool = False) -> dict[str, Any]:
        """The object of a BOOKMARK event for this kind (the kind's zero value)."""
        meta: dict[str, Any] = {"resourceVersion": rv}
        if initial_events_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj: dict[str, Any] = {"kind": self.kind, "apiVersion": self.api_version, "metadata": meta}
        obj.update(copy.deepcopy(_ZERO_VALUES.get(self.key, {})))
        return obj


_ZERO_VALUES: dict[str, dict[str, Any]] = {
    "pods": {"spec": {"containers": None}, "status": {}},
    "deployments.apps": {
        "spec": {
            "selector": None,
            "template": {"metadata": {}, "spec": {"containers": None}},
            "strategy": {},
        },
        "status": {},
    },
    "replicasets.apps": {
        "spec": {"selector": None, "template": {"metadata": {}, "spec": {"containers": None}}},
        "status": {"replicas": 0},
    },
    "nodes": {"spec": {}, "status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 0}}}},
    "namespaces": {"spec": {}, "status": {}},
    "services": {"spec": {}, "status": {"loadBalancer": {}}},
    "events": {"involvedObject": {}, "source": {}, "eventTime": None, "reportingComponent": ""},
}


def _path(obj: dict[str, Any], dotted: str) -> Any:
    node: Any = obj
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pod_ip(obj: dict[str, Any]) -> str:
    ips = _path(obj, "status.podIPs") or []
    if ips and isinstance(ips[0], dict):
        return _text(ips[0].get("ip"))
    return _text(_path(obj, "status.podIP"))


def field_value(rtype: ResourceType, obj: dict[str, Any], name: str) -> str:
    """Return the selectable field `name` of `obj` as the server compares it."""
    special = rtype.extra_fields.get(name)
    if special is not None:
        return special(obj)
    return _text(_path(obj, name))


_POD_FIELDS = (
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
    "spec.host",
    "status.podIPs",
)
_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.name",
    "metadata.namespace",
)


def _builtin_types() -> tuple[ResourceType, ...]:
    return (
        ResourceType(
            "",
            "v1",
            "pods",
            "Pod",
            namespaced=True,
            singular="pod",
            short_names=("po",),
            status_subresource=True,
            generation="spec",
            field_selectors=_POD_FIELDS,
            graceful=True,
            return_deleted_object=True,
            status_keeps=("labels", "annotations"),
            categories=("all",),
            extra_fields={
                "status.podIP": _pod_ip,
                "status.podIPs": lambda _obj: "",
                "spec.host": lambda obj: _text(_path(obj, "spec.nodeName")),
                "spec.hostNetwork": lambda obj: _text(bool(_path(obj, "spec.hostNetwork"))),
            },
        ),
        ResourceType(
            "",
            "v1",
            "nodes",
            "Node",
            namespaced=False,
            singular="node",
            short_names=("no",),
            status_subresource=True,
            field_selectors=("metadata.name", "spec.unschedulable"),
            status_keeps=("labels", "annotations"),
            extra_fields={
                "spec.unschedulable": lambda obj: _text(bool(_path(obj, "spec.unschedulable")))
            },
        ),
        ResourceType(
            "",
            "v1",
            "namespaces",
            "Namespace",
            namespaced=False,
            singular="namespace",
            short_names=("ns",),
            status_subresource=True,
            field_selectors=("metadata.name", "status.phase"),
        ),
        ResourceType(
            "",
            "v1",
            "events",
            "Event",
            namespaced=True,
            singular="event",
            short_names=("ev",),
            field_selectors=_EVENT_FIELDS,
            extra_fields={"source": lambda obj: _text(_path(obj, "source.component"))},
        ),
        ResourceType(
            "",
            "v1",
            "configmaps",
            "ConfigMap",
            namespaced=True,
            singular="configmap",
            short_names=("cm",),
        ),
        ResourceType(
            "",
            "v1",
            "secrets",
            "Secret",
            namespaced=True,
            singular="secret",
            field_selectors=("metadata.name", "metadata.namespace", "type"),
        ),
        ResourceType(
            "",
            "v1",
            "services",
            "Service",
            namespaced=True,
            singular="service",
            short_names=("svc",),
            status_subresource=True,
            field_selectors=("metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"),
            categories=("all",),
        ),
        ResourceType(
            "",
            "v1",
            "persistentvolumeclaims",
            "PersistentVolumeClaim",
            namespaced=True,
            singular="persistentvolumeclaim",
            short_names=("pvc",),
            status_subresource=True,
            status_keeps=("annotations",),
        ),
        ResourceType(
            "batch",
            "v1",
            "jobs",
            "Job",
            namespaced=True,
            singular="job",
            status_subresource=True,
            generation="spec",
            status_keeps=("annotations", "finalizers"),
            categories=("all",),
        ),
        ResourceType(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            namespaced=True,
            singular="deployment",
            short_names=("deploy",),
            status_subresource=True,
            generation="spec+annotations",
            status_keeps=("annotations", "finalizers"),
            categories=("all",),
        ),
        ResourceType(
            "apps",
            "v1",
            "replicasets",
            "ReplicaSet",
            namespaced=True,
            singular="replicaset",
            short_names=("rs",),
            status_subresource=True,
            generation="spec",
            status_keeps=("annotations", "finalizers"),
            categories=("all",),
        ),
        ResourceType(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            namespaced=False,
            singular="customresourcedefinition",
            short_names=("crd", "crds"),
            status_subresource=True,
            generation="spec",
            categories=("api-extensions",),
        ),
    )


BUILTIN_TYPES: tuple[ResourceType, ...] = _builtin_types()


def custom_resource_types(crd: dict[str, Any]) -> list[ResourceType]:
    """Return the served resource types a CustomResourceDefinition declares."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    types: list[ResourceType] = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        has_status = "status" in ((version.get("subresources") or {}) or {})
        types.append(
            ResourceType(
                spec.get("group", ""),
                version.get("name", "v1"),
                names.get("plural", ""),
                names.get("kind", ""),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                singular=names.get("singular") or names.get("kind", "").lower(),
                short_names=tuple(names.get("shortNames") or ()),
                status_subresource=has_status,
                generation="nonmeta" if has_status else "nonmeta+status",
                custom=True,
                list_kind=names.get("listKind") or "",
                categories=tuple(names.get("categories") or ()),
            )
        )
    return types


# ---------------------------------------------------------------- defaults


def _image_pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    if ":" not in name or name.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


_DEFAULT_TOLERATIONS = (
    {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
    {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    },
)


def default_pod_spec(spec: dict[str, Any], *, with_tolerations: bool) -> None:
    """Fill in the defaults the API server adds to a pod spec, in place."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    if "serviceAccountName" in spec or "serviceAccount" in spec:
        account = spec.get("serviceAccountName") or spec.get("serviceAccount")
        spec["serviceAccountName"] = spec["serviceAccount"] = account
    else:
        spec["serviceAccountName"] = spec["serviceAccount"] = "default"
    if with_tolerations:
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        tolerations = spec.setdefault("tolerations", [])
        if isinstance(tolerations, list):
            keys = {t.get("key") for t in tolerations if isinstance(t, dict)}
            tolerations.extend(
                copy.deepcopy(t) for t in _DEFAULT_TOLERATIONS if t["key"] not in keys
            )
    for group in ("initContainers", "containers"):
        for container in spec.get(group) or []:
            if not isinstance(container, dict):
                continue
            container.setdefault("imagePullPolicy", _image_pull_policy(container.get("image", "")))
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def qos_class(spec: dict[str, Any]) -> str:
    """Return the pod's QoS class from its containers' requests and limits."""
    containers = [c for c in (spec.get("containers") or []) if isinstance(c, dict)]
    containers += [c for c in (spec.get("initContainers") or []) if isinstance(c, dict)]
    any_set = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            any_set = True
        for res in ("cpu", "memory"):
            if res not in limits or requests.get(res, limits[res]) != limits[res]:
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def apply_defaults(rtype: ResourceType, obj: dict[str, Any], *, creating: bool) -> None:  # noqa: C901 - mirrors the API server's decision table
    """Fill in server-side defaults for `obj` of type `rtype`, in place."""
    key = rtype.key
    if key == "pods":
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            default_pod_spec(spec, with_tolerations=creating)
    elif key in {"deployments.apps", "replicasets.apps"}:
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        if key == "deployments.apps":
            spec.setdefault(
                "strategy",
                {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                },
            )
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
        template = spec.get("template")
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            default_pod_spec(template["spec"], with_tolerations=False)
    elif key == "services":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                if "port" in port:
                    port.setdefault("targetPort", port["port"])
    elif key == "secrets":
        obj.setdefault("type", "Opaque")
    elif key == "namespaces":
        spec = obj.setdefault("spec", {})
        spec.setdefault("finalizers", ["kubernetes"])
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")
