"""Tests of internals: `resolve_resource`.

Resource names resolve the way kubectl users write them.
"""

from __future__ import annotations

import pytest

import kwait
from kwait._watch.resources import ResourceInfo, resolve_resource


def info(group: str, plural: str, kind: str, short: str, **extra: object) -> ResourceInfo:
    """Build a namespaced ResourceInfo whose singular is the lower-case kind."""
    fields: dict[str, object] = {
        "group": group,
        "version": "v1",
        "plural": plural,
        "kind": kind,
        "namespaced": True,
        "singular": kind.lower(),
        "short_names": (short,),
    }
    fields.update(extra)
    return ResourceInfo(**fields)  # type: ignore[arg-type]


PODS = info("", "pods", "Pod", "po")
CORE_EVENTS = info("", "events", "Event", "ev")
EVENTS = info("events.k8s.io", "events", "Event", "ev")
DEPLOYMENTS = info("apps", "deployments", "Deployment", "deploy")
NODES = info("", "nodes", "Node", "no", namespaced=False)
CRONTABS_V1 = info("stable.example.com", "crontabs", "CronTab", "ct")
CRONTABS_V2 = info(
    "stable.example.com", "crontabs", "CronTab", "ct", version="v2beta1", preferred=False
)
ALL = [PODS, EVENTS, CORE_EVENTS, DEPLOYMENTS, NODES, CRONTABS_V1, CRONTABS_V2]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pods", PODS),
        ("pod", PODS),
        ("po", PODS),
        ("Pod", PODS),
        ("PODS", PODS),
        ("deployments.apps", DEPLOYMENTS),
        ("deployment.apps", DEPLOYMENTS),
        ("deploy", DEPLOYMENTS),
        ("Deployment", DEPLOYMENTS),
        ("deployments.v1.apps", DEPLOYMENTS),
        ("crontabs.stable.example.com", CRONTABS_V1),
        ("ct", CRONTABS_V1),
        ("crontabs.v2beta1.stable.example.com", CRONTABS_V2),
        ("no", NODES),
    ],
)
def test_names_kubectl_users_write(name: str, expected: ResourceInfo) -> None:
    """Plural, singular, short name, Kind and group/version-qualified forms all resolve."""
    assert resolve_resource(name, ALL) == expected


def test_core_group_wins_when_several_groups_serve_a_name() -> None:
    """'events' means core/v1 events, as in kubectl, even if another group is listed first."""
    assert resolve_resource("events", ALL) == CORE_EVENTS
    assert resolve_resource("events.events.k8s.io", ALL) == EVENTS


def test_an_object_or_manifest_names_its_resource() -> None:
    """The apiVersion and kind of an object select the exact group, version and resource."""
    manifest = {"apiVersion": "stable.example.com/v2beta1", "kind": "CronTab", "metadata": {}}
    assert resolve_resource(manifest, ALL) == CRONTABS_V2
    assert resolve_resource({"apiVersion": "v1", "kind": "Pod"}, ALL) == PODS


def test_unknown_names_get_the_closest_valid_names() -> None:
    """A typo is an UnknownResourceError listing what the user probably meant."""
    with pytest.raises(kwait.errors.UnknownResourceError) as err:
        resolve_resource("deploymnet", ALL)
    assert err.value.suggestions == ["deployments.apps"]
    with pytest.raises(kwait.errors.UnknownResourceError) as err:
        resolve_resource({"apiVersion": "apps/v2", "kind": "Deployment"}, ALL)
    assert err.value.suggestions == ["Deployment (apps/v1)"]


def test_a_name_qualified_with_the_wrong_group_is_unknown() -> None:
    """'pods.apps' does not silently fall back to core pods."""
    with pytest.raises(kwait.errors.UnknownResourceError):
        resolve_resource("pods.apps", ALL)


def test_empty_names_and_incomplete_manifests_are_rejected() -> None:
    """Bad input gets a clear ValueError, not a lookup of nothing."""
    with pytest.raises(ValueError, match="must not be empty"):
        resolve_resource("  ", ALL)
    with pytest.raises(ValueError, match="apiVersion"):
        resolve_resource({"kind": "Pod"}, ALL)


def test_collection_paths() -> None:
    """Paths follow the API's URL layout for core, groups, namespaced and cluster scope."""
    assert PODS.collection_path("ci") == "/api/v1/namespaces/ci/pods"
    assert PODS.collection_path(None) == "/api/v1/pods"
    assert NODES.collection_path("ci") == "/api/v1/nodes"
    assert DEPLOYMENTS.collection_path(None) == "/apis/apps/v1/deployments"
