"""kubectl wait's semantics that kwait now shares, checked against the real control plane."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait import errors

pytestmark = pytest.mark.integration


@pytest.fixture
def core(kube_api_client: k8s.ApiClient) -> k8s.CoreV1Api:
    """The typed core/v1 API of the session's cluster."""
    return k8s.CoreV1Api(kube_api_client)


def configmap(name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> Any:
    """A ConfigMap body."""
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data}


def test_escaped_dots_in_jsonpath(
    core: k8s.CoreV1Api, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    r"""``{.metadata.labels.app\\.kubernetes\\.io/name}`` reads the label, as kubectl does."""
    core.create_namespaced_config_map(
        namespace, configmap("web", {}, {"app.kubernetes.io/name": "web"})
    )
    [timeline] = kwait.wait_for(
        "configmaps",
        "web",
        namespace=namespace,
        api_client=kube_api_client,
        until=r"jsonpath={.metadata.labels.app\.kubernetes\.io/name}=web",
        timeout=30,
    )
    assert timeline.identity.name == "web"


def test_a_missing_namespace_is_named(kube_api_client: k8s.ApiClient) -> None:
    """A wait in a namespace the server does not have says so in its report."""
    with pytest.raises(kwait.WaitTimeoutError, match="namespace 'kwait-no-such-ns' does not exist"):
        kwait.wait_for(
            "configmaps",
            "web",
            namespace="kwait-no-such-ns",
            api_client=kube_api_client,
            until="create",
            timeout=0,
        )


def test_several_for_flags_in_turn(
    core: k8s.CoreV1Api, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """``--for=jsonpath={.data.x}=2 --for=jsonpath={.data.x}=1``: 2 first, then 1 again."""
    core.create_namespaced_config_map(namespace, configmap("web", {"x": "1"}))

    def flip() -> None:
        core.patch_namespaced_config_map("web", namespace, {"data": {"x": "2"}})
        core.patch_namespaced_config_map("web", namespace, {"data": {"x": "1"}})

    [timeline] = kwait.wait_for(
        "configmaps",
        "web",
        namespace=namespace,
        api_client=kube_api_client,
        until=["jsonpath={.data.x}=2", "jsonpath={.data.x}=1"],
        act=flip,
        timeout=30,
    )
    values = [o.object["data"]["x"] for o in timeline.observations if o.object]
    assert values[-2:] == ["2", "1"]


def test_delete_is_keyed_by_uid(
    core: k8s.CoreV1Api, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """A manifest with the old uid: its object is gone although the name is back."""
    first = core.create_namespaced_config_map(namespace, configmap("web", {}))
    core.delete_namespaced_config_map("web", namespace)
    core.create_namespaced_config_map(namespace, configmap("web", {}))
    # The model object the client returned, with its uid, is what to wait on.
    assert kwait.wait_for(first, until="delete", api_client=kube_api_client, timeout=0) == []


def test_follow_replacement(
    core: k8s.CoreV1Api, kube_api_client: k8s.ApiClient, namespace: str
) -> None:
    """Deleted and created again during the wait: followed on request, a failure otherwise."""
    core.create_namespaced_config_map(namespace, configmap("web", {"ready": "no"}))

    def replace() -> None:
        core.delete_namespaced_config_map("web", namespace)
        core.create_namespaced_config_map(namespace, configmap("web", {"ready": "yes"}))

    [timeline] = kwait.wait_for(
        "configmaps",
        "web",
        namespace=namespace,
        api_client=kube_api_client,
        until="jsonpath={.data.ready}=yes",
        act=replace,
        follow_replacement=True,
        timeout=30,
    )
    assert timeline.observations[-1].object is not None
    core.patch_namespaced_config_map("web", namespace, {"data": {"ready": "no"}})
    with pytest.raises(errors.TransitionMismatchError):
        kwait.wait_for(
            "configmaps",
            "web",
            namespace=namespace,
            api_client=kube_api_client,
            until="jsonpath={.data.ready}=yes",
            act=replace,
            timeout=30,
        )
