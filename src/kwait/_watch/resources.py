"""Resolving resource names the way kubectl users write them, against discovery data.

Accepted forms: the plural (``pods``), the singular (``pod``), a short name
(``po``, ``deploy``), the Kind (``Deployment``), any of these qualified with a
group (``deployments.apps``) or a version and group (``deployments.v1.apps``),
and an object or manifest (its ``apiVersion`` and ``kind``). Matching is
case-insensitive. When several groups serve the name, the core group wins,
then the server's discovery order (which is its priority order), as kubectl
does. An unknown name raises `kwait.errors.UnknownResourceError` with the closest
names the server does serve.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kwait._errors import UnknownResourceError

__all__ = ["BUILTIN", "BUILTIN_CORE", "ResourceInfo", "builtin_resource", "resolve_resource"]

_VERSION = re.compile(r"^v\d+((alpha|beta)\d+)?$")


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """One resource a server serves, as discovery describes it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    preferred: bool = True

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``group/version`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``pods`` or ``deployments.apps``: the name kubectl prints."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def collection_path(self, namespace: str | None) -> str:
        """The URL path of the collection, in `namespace` or across all namespaces.

        >>> ResourceInfo("apps", "v1", "deployments", "Deployment", True).collection_path("ci")
        '/apis/apps/v1/namespaces/ci/deployments'
        """
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def names(self) -> set[str]:
        """Every lower-case name this resource answers to, unqualified."""
        out = {self.plural.lower(), self.kind.lower()}
        if self.singular:
            out.add(self.singular.lower())
        out.update(s.lower() for s in self.short_names)
        return out


def _split(name: str) -> tuple[str, str | None, str | None]:
    """Split ``res[.version].group`` into its parts (version/group None if absent)."""
    head, _, rest = name.partition(".")
    if not rest:
        return head, None, None
    first, _, tail = rest.partition(".")
    if tail and _VERSION.match(first):
        return head, first, tail
    return head, None, rest


def _from_manifest(obj: Mapping[str, Any], resources: list[ResourceInfo]) -> ResourceInfo:
    api_version = str(obj.get("apiVersion", ""))
    kind = str(obj.get("kind", ""))
    if not api_version or not kind:
        raise ValueError("an object names its resource through 'apiVersion' and 'kind'")
    group, _, version = api_version.rpartition("/")
    for info in resources:
        if info.group == group and info.version == version and info.kind == kind:
            return info
    same_kind = [i for i in resources if i.kind == kind]
    raise UnknownResourceError(
        f"{kind} ({api_version})", sorted({f"{i.kind} ({i.api_version})" for i in same_kind})
    )


def resolve_resource(
    name: str | Mapping[str, Any],
    resources: Iterable[ResourceInfo],
) -> ResourceInfo:
    """Find the resource `name` refers to.

    >>> pods = ResourceInfo("", "v1", "pods", "Pod", namespaced=True, short_names=("po",))
    >>> deps = ResourceInfo("apps", "v1", "deployments", "Deployment", namespaced=True)
    >>> [resolve_resource(n, [pods, deps]).qualified for n in ("po", "Pod", "deployments.apps")]
    ['pods', 'pods', 'deployments.apps']
    >>> resolve_resource("deploymnets", [pods, deps])
    Traceback (most recent call last):
    ...
    kwait.errors.UnknownResourceError: the server has no resource named 'deploymnets'; ...
    """
    listed = list(resources)
    if isinstance(name, Mapping):
        return _from_manifest(name, listed)
    wanted = name.strip()
    if not wanted:
        raise ValueError("a resource name must not be empty")
    head, version, group = _split(wanted.lower())
    candidates = [
        info
        for info in listed
        if head in info.names()
        and (group is None or info.group.lower() == group)
        and (info.version.lower() == version if version is not None else info.preferred)
    ]
    if candidates:
        core = [c for c in candidates if not c.group]
        return core[0] if core else candidates[0]
    raise UnknownResourceError(wanted, _closest(wanted, listed))


def _closest(wanted: str, resources: list[ResourceInfo]) -> list[str]:
    """The qualified names of up to three resources whose names look like `wanted`."""
    vocabulary: dict[str, str] = {}
    for info in resources:
        if not info.preferred:
            continue
        for alias in (info.plural, info.singular, info.qualified, info.kind, *info.short_names):
            if alias:
                vocabulary.setdefault(alias.lower(), info.qualified)
    close = difflib.get_close_matches(wanted.lower(), list(vocabulary), n=3, cutoff=0.6)
    return list(dict.fromkeys(vocabulary[c] for c in close))


def _table(group: str, version: str, rows: str) -> tuple[ResourceInfo, ...]:
    """Parse ``plural Kind singular N|C short,names`` rows (N: namespaced, C: cluster)."""
    out = []
    for row in rows.strip().splitlines():
        plural, kind, singular, scope, *short = row.split()
        out.append(
            ResourceInfo(
                group=group,
                version=version,
                plural=plural,
                kind=kind,
                namespaced=scope == "N",
                singular=singular,
                short_names=tuple(short[0].split(",")) if short else (),
                verbs=("get", "list", "watch"),
            )
        )
    return tuple(out)


BUILTIN_CORE: tuple[ResourceInfo, ...] = _table(
    "",
    "v1",
    """
    pods Pod pod N po
    services Service service N svc
    configmaps ConfigMap configmap N cm
    secrets Secret secret N
    namespaces Namespace namespace C ns
    nodes Node node C no
    events Event event N ev
    endpoints Endpoints endpoints N ep
    persistentvolumeclaims PersistentVolumeClaim persistentvolumeclaim N pvc
    persistentvolumes PersistentVolume persistentvolume C pv
    serviceaccounts ServiceAccount serviceaccount N sa
    replicationcontrollers ReplicationController replicationcontroller N rc
    resourcequotas ResourceQuota resourcequota N quota
    limitranges LimitRange limitrange N limits
    podtemplates PodTemplate podtemplate N
    componentstatuses ComponentStatus componentstatus C cs
    """,
)
"""Every core (``v1``) resource: stable since Kubernetes 1.0, so never discovered."""

BUILTIN: tuple[ResourceInfo, ...] = (
    *BUILTIN_CORE,
    *_table(
        "apps",
        "v1",
        """
        deployments Deployment deployment N deploy
        statefulsets StatefulSet statefulset N sts
        daemonsets DaemonSet daemonset N ds
        replicasets ReplicaSet replicaset N rs
        controllerrevisions ControllerRevision controllerrevision N
        """,
    ),
    *_table(
        "batch",
        "v1",
        """
        jobs Job job N
        cronjobs CronJob cronjob N cj
        """,
    ),
    *_table(
        "networking.k8s.io",
        "v1",
        """
        ingresses Ingress ingress N ing
        networkpolicies NetworkPolicy networkpolicy N netpol
        ingressclasses IngressClass ingressclass C
        """,
    ),
    *_table("discovery.k8s.io", "v1", "endpointslices EndpointSlice endpointslice N"),
    *_table("policy", "v1", "poddisruptionbudgets PodDisruptionBudget poddisruptionbudget N pdb"),
    *_table(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers HorizontalPodAutoscaler horizontalpodautoscaler N hpa",
    ),
    *_table("coordination.k8s.io", "v1", "leases Lease lease N"),
    *_table(
        "storage.k8s.io",
        "v1",
        """
        storageclasses StorageClass storageclass C sc
        volumeattachments VolumeAttachment volumeattachment C
        """,
    ),
    *_table(
        "rbac.authorization.k8s.io",
        "v1",
        """
        roles Role role N
        rolebindings RoleBinding rolebinding N
        clusterroles ClusterRole clusterrole C
        clusterrolebindings ClusterRoleBinding clusterrolebinding C
        """,
    ),
    *_table(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions CustomResourceDefinition customresourcedefinition C crd,crds",
    ),
)
"""The resources every supported Kubernetes version serves at these versions.

A tracker resolves these names without any discovery request; anything else
(CRDs, other versions) is discovered once per client.
"""


def builtin_resource(name: str | Mapping[str, Any]) -> ResourceInfo | None:
    """The built-in resource `name` refers to, or None when discovery must answer.

    >>> builtin_resource("deploy").qualified, builtin_resource("po").namespaced
    ('deployments.apps', True)
    >>> builtin_resource("widgets.example.com") is None
    True
    """
    try:
        return resolve_resource(name, BUILTIN)
    except (UnknownResourceError, ValueError):
        return None
