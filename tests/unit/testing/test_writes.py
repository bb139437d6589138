"""Writes: create, update, status, patch, generation, delete (checklist 10-15)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from kubernetes import client as _client
from kubernetes.client.exceptions import ApiException

from kwait.testing import FakeApiServer, FakeClock

from .conftest import RawWatch, cm_body, pod_body, raw

# The official client is only partly typed; treat it as dynamic here.
client: Any = _client

CMS = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"
CRD = {
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wd"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}


def _body(exc: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(exc.value.body or "{}")
    return decoded


@pytest.fixture
def widgets(api: Any) -> Any:
    """Register the Widget CRD through the API and return CustomObjectsApi."""
    client.ApiextensionsV1Api(api).create_custom_resource_definition(CRD)
    return client.CustomObjectsApi(api)


def create_widget(widgets: Any, **fields: Any) -> Any:
    """Create the Widget custom resource "w" in default, with the given top-level fields."""
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, **fields}
    return widgets.create_namespaced_custom_object("example.com", "v1", "default", "widgets", body)


def test_no_op_writes_take_no_rv_and_send_no_event(server: FakeApiServer, core: Any) -> None:
    """Replacing or patching an object with what it already is changes neither RV nor history."""
    created = core.create_namespaced_config_map("default", cm_body("a", k="v"))
    rv = server.resource_version
    events = len(list(server.store.iter_events()))
    same = core.replace_namespaced_config_map("a", "default", created)
    core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
    assert same.metadata.resource_version == created.metadata.resource_version
    assert server.resource_version == rv
    assert len(list(server.store.iter_events())) == events


def test_create_sets_system_fields(server: FakeApiServer, http: urllib3.PoolManager) -> None:
    """Create is 201 with uid, timestamp, RV; generation 1 for pods, none for ConfigMaps."""
    answer = raw(http, server, "POST", PODS, {**pod_body("p"), "status": {"phase": "Running"}})
    assert answer.status == 201
    meta = answer.json["metadata"]
    assert meta["resourceVersion"] == str(server.resource_version)
    assert meta["generation"] == 1
    assert meta["creationTimestamp"] == "2025-01-01T00:00:00Z"
    assert len(meta["uid"]) == 36
    assert answer.json["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert answer.json["spec"]["restartPolicy"] == "Always"
    assert answer.json["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    cm = raw(http, server, "POST", CMS, cm_body("c")).json
    assert "generation" not in cm["metadata"]


def test_create_with_resource_version_is_a_plain_500(
    server: FakeApiServer, http: urllib3.PoolManager
) -> None:
    """A create body carrying metadata.resourceVersion fails with the real untyped 500."""
    body = cm_body("c")
    body["metadata"]["resourceVersion"] = "5"
    answer = raw(http, server, "POST", CMS, body)
    assert answer.status == 500
    assert answer.json == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "resourceVersion should not be set on objects to be created",
        "code": 500,
    }


def test_already_exists_and_the_being_deleted_prefix(core: Any) -> None:
    """A taken name is 409 AlreadyExists, prefixed 'object is being deleted: ' while terminating."""
    core.create_namespaced_config_map(
        "default", {**cm_body("a"), "metadata": {"name": "a", "finalizers": ["x/y"]}}
    )
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("default", cm_body("a"))
    assert _body(exc) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "a" already exists',
        "reason": "AlreadyExists",
        "details": {"name": "a", "kind": "configmaps"},
        "code": 409,
    }
    core.delete_namespaced_config_map("a", "default")
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("default", cm_body("a"))
    assert _body(exc)["message"] == 'object is being deleted: configmaps "a" already exists'


def test_create_in_missing_namespace_is_404(core: Any) -> None:
    """Creating in a namespace that does not exist is 404 namespaces "x" not found."""
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("nowhere", cm_body("a"))
    assert exc.value.status == 404
    assert _body(exc)["message"] == 'namespaces "nowhere" not found'


def test_generate_name(core: Any) -> None:
    """GenerateName gets five characters from the server's alphabet appended."""
    created = core.create_namespaced_config_map("default", {"metadata": {"generateName": "job-"}})
    suffix = created.metadata.name.removeprefix("job-")
    assert len(suffix) == 5
    assert set(suffix) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_validation_failure_is_422_invalid(core: Any) -> None:
    """A pod container without an image is 422 Invalid naming the Kind and the field."""
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod(
            "default", {"metadata": {"name": "web-0"}, "spec": {"containers": [{"name": "a"}]}}
        )
    assert _body(exc) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Pod "web-0" is invalid: spec.containers[0].image: Required value',
        "reason": "Invalid",
        "details": {
            "name": "web-0",
            "kind": "Pod",
            "causes": [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value",
                    "field": "spec.containers[0].image",
                }
            ],
        },
        "code": 422,
    }


def test_stale_update_is_409_conflict(core: Any) -> None:
    """An update with an old resourceVersion is 409 with the optimistic-lock message."""
    stale = core.create_namespaced_pod("default", pod_body("web-0"))
    core.patch_namespaced_pod("web-0", "default", {"metadata": {"labels": {"a": "b"}}})
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_pod("web-0", "default", stale)
    assert _body(exc) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Operation cannot be fulfilled on pods "web-0": the object has been modified; '
        "please apply your changes to the latest version and try again",
        "reason": "Conflict",
        "details": {"name": "web-0", "kind": "pods"},
        "code": 409,
    }


def test_unconditional_update_for_pods_but_not_custom_resources(core: Any, widgets: Any) -> None:
    """Pods accept an update without resourceVersion; custom resources answer 422."""
    pod = core.create_namespaced_pod("default", pod_body("p")).to_dict()
    pod = core.read_namespaced_pod("p", "default")
    pod.metadata.resource_version = None
    pod.metadata.labels = {"x": "y"}
    assert core.replace_namespaced_pod("p", "default", pod).metadata.labels == {"x": "y"}
    create_widget(widgets, spec={"size": 1})
    with pytest.raises(ApiException) as exc:
        widgets.replace_namespaced_custom_object(
            "example.com",
            "v1",
            "default",
            "widgets",
            "w",
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w"},
                "spec": {"size": 2},
            },
        )
    assert exc.value.status == 422
    assert _body(exc)["message"] == (
        'Widget.example.com "w" is invalid: metadata.resourceVersion: Invalid value: 0: '
        "must be specified for an update"
    )


def test_status_is_ignored_on_the_main_resource_and_spec_on_status(core: Any) -> None:
    """Main-resource writes keep the stored status; /status writes keep spec but take labels."""
    core.create_namespaced_pod("default", pod_body("p"))
    pod = core.read_namespaced_pod("p", "default")
    pod.status.phase = "Running"
    pod.metadata.labels = {"via": "main"}
    after = core.replace_namespaced_pod("p", "default", pod)
    assert after.status.phase == "Pending"
    assert after.metadata.labels == {"via": "main"}
    pod = core.read_namespaced_pod("p", "default")
    pod.status.phase = "Running"
    pod.spec.active_deadline_seconds = 99
    pod.metadata.labels = {"via": "status"}
    after = core.replace_namespaced_pod_status("p", "default", pod)
    assert after.status.phase == "Running"
    assert after.spec.active_deadline_seconds is None
    assert after.metadata.labels == {"via": "status"}
    assert after.metadata.generation == 1


def test_pod_spec_is_mostly_immutable(core: Any) -> None:
    """Changing a pod's image is allowed (generation +1); changing other spec fields is 422."""
    core.create_namespaced_pod("default", pod_body("p"))
    patched = core.patch_namespaced_pod(
        "p", "default", {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}
    )
    assert patched.metadata.generation == 2
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_pod("p", "default", {"spec": {"restartPolicy": "Never"}})
    assert exc.value.status == 422
    assert _body(exc)["message"].startswith(
        'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields'
    )


def test_patch_content_types(server: FakeApiServer, core: Any, http: urllib3.PoolManager) -> None:
    """SMP merges containers by name, merge patch replaces lists, JSON patch edits paths."""
    core.create_namespaced_pod("default", pod_body("p"))
    path = PODS + "/p"
    smp = raw(
        http,
        server,
        "PATCH",
        path,
        {
            "metadata": {"labels": {"a": "1"}},
            "spec": {"containers": [{"name": "app", "image": "nginx:2"}]},
        },
        {"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert smp.status == 200
    assert smp.json["spec"]["containers"][0]["terminationMessagePath"] == "/dev/termination-log"
    merge = raw(
        http,
        server,
        "PATCH",
        path,
        {"metadata": {"labels": {"a": None, "b": "2"}}},
        {"Content-Type": "application/merge-patch+json; charset=utf-8"},
    )
    assert merge.json["metadata"]["labels"] == {"b": "2"}
    jp = raw(
        http,
        server,
        "PATCH",
        path,
        [{"op": "add", "path": "/metadata/annotations", "value": {"n": "1"}}],
        {"Content-Type": "application/json-patch+json"},
    )
    assert jp.json["metadata"]["annotations"] == {"n": "1"}


def test_patch_errors(
    server: FakeApiServer, core: Any, widgets: Any, http: urllib3.PoolManager
) -> None:
    """Unknown type and SMP on a CR are 415, a failing JSON patch 422, bad JSON 400."""
    core.create_namespaced_config_map("default", cm_body("a"))
    path = CMS + "/a"
    bad_type = raw(http, server, "PATCH", path, {}, {"Content-Type": "text/plain"})
    assert bad_type.status == 415
    assert bad_type.json["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml"
    )
    create_widget(widgets)
    cr = raw(
        http,
        server,
        "PATCH",
        "/apis/example.com/v1/namespaces/default/widgets/w",
        {},
        {"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert cr.status == 415
    assert "strategic" not in cr.json["message"]
    failed = raw(
        http,
        server,
        "PATCH",
        path,
        [{"op": "test", "path": "/data/x", "value": 1}],
        {"Content-Type": "application/json-patch+json"},
    )
    assert failed.status == 422
    assert failed.json == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server rejected our request due to an error in our request",
        "reason": "Invalid",
        "details": {},
        "code": 422,
    }
    undecodable = raw(
        http, server, "PATCH", path, b"{nope", {"Content-Type": "application/merge-patch+json"}
    )
    assert undecodable.status == 400


def test_resource_version_in_a_patch_is_a_precondition(core: Any) -> None:
    """A patch that sets a stale metadata.resourceVersion is 409; the current one succeeds."""
    created = core.create_namespaced_config_map("default", cm_body("a"))
    core.patch_namespaced_config_map("a", "default", {"data": {"x": "1"}})
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map(
            "a",
            "default",
            {
                "metadata": {"resourceVersion": created.metadata.resource_version},
                "data": {"x": "2"},
            },
        )
    assert exc.value.status == 409
    current = core.read_namespaced_config_map("a", "default").metadata.resource_version
    core.patch_namespaced_config_map(
        "a", "default", {"metadata": {"resourceVersion": current}, "data": {"x": "2"}}
    )


def test_apply_patch_needs_a_field_manager_and_can_create(
    server: FakeApiServer, http: urllib3.PoolManager
) -> None:
    """Server-side apply without fieldManager is 422; with it, it creates a missing object."""
    headers = {"Content-Type": "application/apply-patch+yaml"}
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n"
    refused = raw(http, server, "PATCH", CMS + "/applied", body, headers)
    assert refused.status == 422
    assert refused.json["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch"
    )
    created = raw(http, server, "PATCH", CMS + "/applied?fieldManager=test", body, headers)
    assert created.json["data"] == {"k": "v"}


def test_generation_rules(core: Any, apps: Any, widgets: Any) -> None:
    """Generation follows the per-kind table: spec, Deployment annotations, CR non-metadata."""
    deploy = {
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i:1"}]},
            },
        },
    }
    assert apps.create_namespaced_deployment("default", deploy).metadata.generation == 1
    assert (
        apps.patch_namespaced_deployment(
            "d", "default", {"metadata": {"labels": {"x": "1"}}}
        ).metadata.generation
        == 1
    )
    assert (
        apps.patch_namespaced_deployment(
            "d", "default", {"metadata": {"annotations": {"x": "1"}}}
        ).metadata.generation
        == 2
    )
    assert (
        apps.patch_namespaced_deployment(
            "d", "default", {"spec": {"replicas": 3}}
        ).metadata.generation
        == 3
    )
    assert (
        apps.patch_namespaced_deployment_status(
            "d", "default", {"status": {"replicas": 3}}
        ).metadata.generation
        == 3
    )
    create_widget(widgets, spec={"size": 1}, status={"ok": True})
    got = widgets.get_namespaced_custom_object("example.com", "v1", "default", "widgets", "w")
    assert "status" not in got
    got = widgets.patch_namespaced_custom_object(
        "example.com", "v1", "default", "widgets", "w", {"spec": {"size": 2}}
    )
    assert got["metadata"]["generation"] == 2
    got = widgets.patch_namespaced_custom_object_status(
        "example.com",
        "v1",
        "default",
        "widgets",
        "w",
        {"status": {"ok": True}, "spec": {"size": 9}},
    )
    assert got["metadata"]["generation"] == 2
    assert got["spec"] == {"size": 2}
    assert got["status"] == {"ok": True}
    cm = core.create_namespaced_config_map("default", cm_body("c"))
    assert (
        core.patch_namespaced_config_map("c", "default", {"data": {"x": "1"}}).metadata.generation
        is None
    )
    assert cm.metadata.generation is None


def test_delete_returns_the_pod_and_a_status_for_others(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """Deleting a pod returns the pod; a ConfigMap returns a Success Status with its uid."""
    pod = core.create_namespaced_pod("default", pod_body("p"))
    deleted = core.delete_namespaced_pod("p", "default")
    assert deleted.metadata.uid == pod.metadata.uid
    cm = core.create_namespaced_config_map("default", cm_body("c"))
    answer = raw(http, server, "DELETE", CMS + "/c")
    assert answer.status == 200
    assert answer.json == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "c", "kind": "configmaps", "uid": cm.metadata.uid},
    }
    missing = raw(http, server, "DELETE", CMS + "/c")
    assert missing.status == 404


def test_graceful_pod_deletion(server: FakeApiServer, core: Any, clock: FakeClock) -> None:
    """A bound pod gets a future deletionTimestamp, grace, generation+1; grace 0 removes it."""
    core.create_namespaced_pod("default", pod_body("p", nodeName="n1"))
    start = server.resource_version
    pending = core.delete_namespaced_pod("p", "default")
    assert pending.metadata.deletion_grace_period_seconds == 30
    assert pending.metadata.generation == 2
    assert pending.metadata.deletion_timestamp.isoformat() == "2025-01-01T00:00:30+00:00"
    clock.advance(10)
    shorter = core.delete_namespaced_pod("p", "default", grace_period_seconds=5)
    assert shorter.metadata.deletion_timestamp.isoformat() == "2025-01-01T00:00:10+00:00"
    assert shorter.metadata.deletion_grace_period_seconds == 1
    same = core.delete_namespaced_pod("p", "default", grace_period_seconds=20)
    assert same.metadata.resource_version == shorter.metadata.resource_version
    core.delete_namespaced_pod("p", "default", grace_period_seconds=0)
    stream = RawWatch(server, f"{PODS}?watch=1&resourceVersion={start}")
    try:
        types = [stream.event()["type"] for _ in range(3)]
        assert types == ["MODIFIED", "MODIFIED", "DELETED"]
    finally:
        stream.close()


def test_unbound_and_terminal_pods_are_deleted_at_once(core: Any) -> None:
    """An unscheduled pod, or one that has finished, is removed without a grace period."""
    core.create_namespaced_pod("default", pod_body("unbound"))
    core.delete_namespaced_pod("unbound", "default")
    core.create_namespaced_pod("default", pod_body("done", nodeName="n1"))
    core.patch_namespaced_pod_status("done", "default", {"status": {"phase": "Succeeded"}})
    core.delete_namespaced_pod("done", "default")
    assert core.list_namespaced_pod("default").items == []


def test_finalizers_hold_deletion_until_removed(server: FakeApiServer, core: Any) -> None:
    """A finalizer turns delete into MODIFIED; removing the last one is the DELETED."""
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "a", "finalizers": ["example.com/hold"]}}
    )
    start = server.resource_version
    core.delete_namespaced_config_map("a", "default")
    rv = server.resource_version
    core.delete_namespaced_config_map("a", "default")
    assert server.resource_version == rv
    core.patch_namespaced_config_map("a", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("a", "default")
    stream = RawWatch(server, f"{CMS}?watch=1&resourceVersion={start}")
    try:
        first, second = stream.event(), stream.event()
        assert first["type"] == "MODIFIED"
        assert first["object"]["metadata"]["deletionGracePeriodSeconds"] == 0
        assert second["type"] == "DELETED"
        assert second["object"]["metadata"]["finalizers"] == ["example.com/hold"]
    finally:
        stream.close()


def test_foreground_deletion_is_emulated(server: FakeApiServer, core: Any) -> None:
    """Foreground deletion adds foregroundDeletion, which the emulated GC removes at once."""
    core.create_namespaced_config_map("default", cm_body("a"))
    start = server.resource_version
    core.delete_namespaced_config_map("a", "default", propagation_policy="Foreground")
    stream = RawWatch(server, f"{CMS}?watch=1&resourceVersion={start}")
    try:
        first, second = stream.event(), stream.event()
        assert first["type"] == "MODIFIED"
        assert first["object"]["metadata"]["finalizers"] == ["foregroundDeletion"]
        assert second["type"] == "DELETED"
    finally:
        stream.close()


def test_delete_body_wins_over_query_and_preconditions(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """A DeleteOptions body overrides query parameters; a wrong precondition is 409."""
    pod = core.create_namespaced_pod("default", pod_body("p", nodeName="n1"))
    answer = raw(
        http, server, "DELETE", PODS + "/p?gracePeriodSeconds=0", {"gracePeriodSeconds": 7}
    )
    assert answer.json["metadata"]["deletionGracePeriodSeconds"] == 7
    wrong = raw(http, server, "DELETE", PODS + "/p", {"preconditions": {"resourceVersion": "1"}})
    assert wrong.status == 409
    assert wrong.json["message"] == (
        'Operation cannot be fulfilled on Pod "p": the ResourceVersion in the precondition (1) '
        "does not match the ResourceVersion in record "
        f"({answer.json['metadata']['resourceVersion']}). "
        "The object might have been modified"
    )
    right = raw(
        http,
        server,
        "DELETE",
        PODS + "/p",
        {"gracePeriodSeconds": 0, "preconditions": {"uid": pod.metadata.uid}},
    )
    assert right.status == 200
    assert core.list_namespaced_pod("default").items == []


def test_crd_registration_serves_the_resource(
    server: FakeApiServer, api: Any, widgets: Any, http: urllib3.PoolManager
) -> None:
    """Creating a CRD makes its resource served and discoverable; its list items keep kind."""
    crd = client.ApiextensionsV1Api(api).read_custom_resource_definition("widgets.example.com")
    assert [c.type for c in crd.status.conditions] == ["NamesAccepted", "Established"]
    create_widget(widgets)
    listed = widgets.list_namespaced_custom_object("example.com", "v1", "default", "widgets")
    assert listed["kind"] == "WidgetList"
    assert listed["items"][0]["kind"] == "Widget"
    discovery = raw(http, server, "GET", "/apis/example.com/v1").json
    assert discovery["resources"][0]["name"] == "widgets"
    client.ApiextensionsV1Api(api).delete_custom_resource_definition("widgets.example.com")
    assert raw(http, server, "GET", "/apis/example.com/v1/namespaces/default/widgets").status == 404


def test_namespace_deletion_removes_its_content(core: Any) -> None:
    """Deleting a namespace marks it Terminating, deletes what it holds, then removes it."""
    core.create_namespace({"metadata": {"name": "tmp"}})
    core.create_namespaced_config_map("tmp", cm_body("a"))
    core.delete_namespace("tmp")
    assert core.list_namespaced_config_map("tmp").items == []
    assert "tmp" not in [n.metadata.name for n in core.list_namespace().items]


def test_binding_subresource(core: Any) -> None:
    """POST pods/binding sets spec.nodeName and PodScheduled; binding twice is 409."""
    core.create_namespaced_pod("default", pod_body("p"))
    core.create_namespaced_pod_binding(
        "p",
        "default",
        {"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}},
        _preload_content=False,
    )
    pod = core.read_namespaced_pod("p", "default")
    assert pod.spec.node_name == "n1"
    assert pod.status.conditions[0].type == "PodScheduled"
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod_binding(
            "p",
            "default",
            {"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n2"}},
            _preload_content=False,
        )
    assert exc.value.status == 409
