"""kwait.compare: diffs that ignore server-managed fields, partial manifests, YAML loading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait import compare

EXPORTED = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: a
  uid: 1111
  resourceVersion: "812"
  generation: 4
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: kubectl}]
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"big": "json"}'
    team: payments
spec:
  replicas: 3
  template:
    spec:
      containers:
      - {name: app, image: "app:1"}
      - {name: sidecar, image: envoy}
status: {readyReplicas: 3}
"""


def test_diff_ignores_every_server_managed_field() -> None:
    """An object imported again (new uid, rv, timestamps, status) equals the original."""
    original = compare.load(EXPORTED)
    imported = compare.load(EXPORTED)
    imported["metadata"].update(
        uid="2222", resourceVersion="9999", generation=1, creationTimestamp="2026-02-02T00:00:00Z"
    )
    imported["metadata"]["managedFields"] = [{"manager": "kwait"}]
    imported["metadata"]["annotations"].pop("kubectl.kubernetes.io/last-applied-configuration")
    imported["status"] = {}
    assert not compare.diff(original, imported)
    compare.expect_same(original, imported)


def test_diff_reports_each_real_difference_with_its_path() -> None:
    """Changed, missing and unexpected fields are each named, list elements by their name."""
    original = compare.load(EXPORTED)
    imported = compare.load(EXPORTED)
    containers = imported["spec"]["template"]["spec"]["containers"]
    containers.reverse()  # order of keyed elements does not matter
    containers[1]["image"] = "app:2"
    del imported["metadata"]["annotations"]["team"]
    imported["spec"]["paused"] = True
    found = compare.diff(original, imported)
    assert [str(c) for c in found.changes] == [
        '.metadata.annotations.team: missing (expected "payments")',
        '.spec.template.spec.containers[name=app].image: expected "app:1", got "app:2"',
        ".spec.paused: unexpected true",
    ]
    with pytest.raises(compare.ObjectMismatchError) as info:
        compare.expect_same(original, imported)
    assert "deployment/a/web differs" in str(info.value)
    assert info.value.diff == found


def test_the_ignored_set_is_extensible_with_wildcards() -> None:
    """Extra paths, with `*` for any key and `[*]` for any element, are ignored too."""
    a = {"spec": {"clusterIP": "10.0.0.1", "ports": [{"name": "http", "nodePort": 30001}]}}
    b = {"spec": {"clusterIP": "10.0.0.9", "ports": [{"name": "http", "nodePort": 30777}]}}
    assert len(compare.diff(a, b)) == 2
    ignore = (*compare.SERVER_FIELDS, "spec.clusterIP", "spec.ports[*].nodePort")
    assert not compare.diff(a, b, ignore=ignore)


def test_lists_without_keys_compare_by_position() -> None:
    """Scalar lists and lists of unkeyed objects are compared element by element."""
    found = compare.diff({"args": ["a", "b"]}, {"args": ["a", "c", "d"]})
    assert [str(c) for c in found.changes] == [
        '.args[1]: expected "b", got "c"',
        '.args[2]: unexpected "d"',
    ]


def test_a_partial_manifest_matches_what_the_server_filled_in() -> None:
    """Defaults added by the server do not count; conditions are matched by type."""
    pod = {
        "kind": "Pod",
        "metadata": {"name": "web", "uid": "u"},
        "spec": {"containers": [{"name": "app", "image": "app:1", "imagePullPolicy": "Always"}]},
        "status": {
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "ContainersNotReady"},
            ]
        },
    }
    assert compare.matches("spec: {containers: [{name: app, image: 'app:1'}]}")(pod)
    want_ready = compare.matches({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert not want_ready(pod)
    assert want_ready.explain(pod) == [  # type: ignore[attr-defined]
        '.status.conditions[type=Ready].status: expected "True", got "False"'
    ]
    with pytest.raises(compare.ObjectMismatchError, match=r"pod/web does not match"):
        compare.expect_matches(pod, {"spec": {"containers": [{"name": "other"}]}})


def test_model_objects_are_compared_with_the_servers_field_names() -> None:
    """The official client's models become dicts with camelCase keys and RFC 3339 dates."""
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    pod = k8s.V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=k8s.V1ObjectMeta(name="web", creation_timestamp=when),
        spec=k8s.V1PodSpec(
            containers=[k8s.V1Container(name="app", image="app:1", image_pull_policy="Never")]
        ),
    )
    plain = compare.to_plain(pod)
    assert plain["apiVersion"] == "v1"
    assert plain["metadata"] == {"name": "web", "creationTimestamp": "2026-01-02T03:04:05Z"}
    assert plain["spec"]["containers"][0]["imagePullPolicy"] == "Never"
    assert compare.matches("metadata: {name: web}")(plain)
    assert not compare.diff(pod, plain)


def test_manifests_load_from_files_multi_documents_and_lists(tmp_path: Path) -> None:
    """A file path is read, `---` documents and `kind: List` items are all returned."""
    path = tmp_path / "objs.yaml"
    path.write_text(
        "kind: ConfigMap\nmetadata: {name: a}\n---\n"
        "kind: List\nitems:\n- {kind: Secret, metadata: {name: b}}\n"
    )
    assert [o["metadata"]["name"] for o in compare.load_all(path)] == ["a", "b"]
    with pytest.raises(ValueError, match="exactly one object, found 2"):
        compare.load(path)


def test_corrupt_manifests_are_refused_with_a_reason(tmp_path: Path) -> None:
    """Bad YAML names the file; a document that is not a mapping says what it is."""
    path = tmp_path / "broken.yaml"
    path.write_text("kind: ConfigMap\nmetadata: {name: a\n")
    with pytest.raises(ValueError, match=r"broken.yaml: not valid YAML"):
        compare.load(path)
    with pytest.raises(TypeError, match="a Kubernetes object is a mapping, got list"):
        compare.load("- a\n- b\n")


def test_a_failed_wait_for_a_manifest_shows_what_differs(kwait_api_client: Any) -> None:
    """The report of a wait on `matches` lists the differences in the last state."""
    core = k8s.CoreV1Api(kwait_api_client)
    core.create_namespaced_config_map(
        "default",
        k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="settings"), data={"mode": "fast"}),
    )
    want = compare.matches("data: {mode: slow, level: '3'}")
    with pytest.raises(kwait.WaitTimeoutError) as info:
        kwait.wait_for("configmaps", "settings", until=want, api_client=kwait_api_client, timeout=0)
    text = str(info.value)
    assert "differences in the last state (2):" in text
    assert '.data.mode: expected "slow", got "fast"' in text
    assert '.data.level: missing (expected "3")' in text
    report = info.value.report.to_json()
    assert report["objects"][0]["differences"][0] == '.data.mode: expected "slow", got "fast"'
