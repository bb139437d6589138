"""The fake API server's discovery documents: ``/version``, ``/api``, ``/apis`` and below.

`discovery_document` builds what kube-apiserver serves on its discovery
paths from the types currently served (built-in ones and those of
established CRDs), so the dynamic client and ``kubectl``-style discovery
work against the fake.
"""

from __future__ import annotations

from typing import Any

from kwait.testing._resources import ResourceType

__all__ = ["discovery_document"]

_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


def discovery_document(  # noqa: C901, PLR0911 - mirrors the API server's decision table
    path: str, types: list[ResourceType], host: str, port: int
) -> dict[str, Any] | None:
    """The discovery body served at `path`, or None if `path` is not a discovery path.

    `types` are the served types; `host` and `port` are the server's address.
    """
    if path == "/version":
        return {
            "major": "1",
            "minor": "37",
            "emulationMajor": "1",
            "emulationMinor": "37",
            "gitVersion": "v1.37.0-kwait-fake",
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.25.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{host}:{port}"}
            ],
        }
    groups: dict[str, list[str]] = {}
    for rtype in types:
        if rtype.group:
            versions = groups.setdefault(rtype.group, [])
            if rtype.version not in versions:
                versions.append(rtype.version)
    if path == "/apis":
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [_group_body(g, v) for g, v in sorted(groups.items())],
        }
    segments = [s for s in path.split("/") if s]
    if len(segments) == 2 and segments[0] == "apis" and segments[1] in groups:  # noqa: PLR2004
        body = _group_body(segments[1], groups[segments[1]])
        return {"kind": "APIGroup", "apiVersion": "v1", **body}
    if segments == ["api", "v1"]:
        return _resource_list("v1", [t for t in types if not t.group])
    if len(segments) == 3 and segments[0] == "apis":  # noqa: PLR2004
        group, version = segments[1], segments[2]
        served = [t for t in types if t.group == group and t.version == version]
        if served:
            return _resource_list(f"{group}/{version}", served)
    return None


def _group_body(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def _resource_list(group_version: str, types: list[ResourceType]) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for rtype in types:
        entry: dict[str, Any] = {
            "name": rtype.plural,
            "singularName": rtype.singular,
            "namespaced": rtype.namespaced,
            "kind": rtype.kind,
            "verbs": list(_VERBS),
        }
        if rtype.short_names:
            entry["shortNames"] = list(rtype.short_names)
        if rtype.categories:
            entry["categories"] = list(rtype.categories)
        resources.append(entry)
        if rtype.status_subresource:
            resources.append(
                {
                    "name": f"{rtype.plural}/status",
                    "singularName": "",
                    "namespaced": rtype.namespaced,
                    "kind": rtype.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        if rtype.key == "pods":
            resources.append(
                {
                    "name": "pods/binding",
                    "singularName": "",
                    "namespaced": True,
                    "kind": "Binding",
                    "verbs": ["create"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
