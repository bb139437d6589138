"""Scenario scripts run against both the fake API server and a real kube-apiserver.

Each scenario takes a `Backend` (an official-client ApiClient, a fresh
namespace that exists, and a way to force 410 Gone) and returns a normalized
transcript: event types, order, object names, the fields the scenario is
about, and error Status bodies, with resourceVersions, uids and timestamps
replaced by placeholders. The same expected transcript must come out of both
backends; `EXPECTED` holds it.

Pods in these scenarios name a scheduler that does not exist, so no scheduler
or kubelet on the real control plane touches them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client as _k8s_client
from kubernetes import watch as _k8s_watch
from kubernetes.client.exceptions import ApiException

# The official client is only partly typed; treat it as dynamic here.
client: Any = _k8s_client
watch: Any = _k8s_watch

__all__ = ["EXPECTED", "SCENARIOS", "Backend"]

NO_SCHEDULER = "kwait-no-such-scheduler"
WATCH_TIMEOUT = 10


@dataclass
class Backend:
    """What a scenario needs from the backend it runs on."""

    api: Any
    namespace: str
    compact: Callable[[], object]


Transcript = list[Any]


def _cm(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = labels
    body: dict[str, Any] = {"metadata": meta}
    if data:
        body["data"] = dict(data)
    return body


def _secret(name: str) -> dict[str, Any]:
    # Secrets, not ConfigMaps, where a scenario lists everything in its namespace: a real
    # cluster's controllers put a kube-root-ca.crt ConfigMap in every namespace.
    return {"metadata": {"name": name}, "stringData": {"k": "v"}}


def _pod(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "schedulerName": NO_SCHEDULER,
            "containers": [{"name": "app", "image": "registry.example/app:1"}],
        },
    }


def _watch(
    list_fn: Callable[..., Any], namespace: str, count: int, **kwargs: Any
) -> list[dict[str, Any]]:
    """Read `count` events from a watch, then stop; objects stay raw dicts."""
    events: list[dict[str, Any]] = []
    w = watch.Watch()
    for event in w.stream(list_fn, namespace, timeout_seconds=WATCH_TIMEOUT, **kwargs):
        events.append({"type": event["type"], "object": event["raw_object"]})
        if len(events) >= count:
            w.stop()
            break
    return events


def _event(event: dict[str, Any], *fields: str) -> list[Any]:
    obj = event["object"]
    meta = obj.get("metadata") or {}
    row: list[Any] = [event["type"], meta.get("name", "")]
    for dotted in fields:
        node: Any = obj
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        row.append(node)
    return row


_NUMBER = re.compile(r"\d+")
_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _status(exc: ApiException) -> dict[str, Any]:
    """The error Status body with numbers and uids replaced by placeholders."""
    body: dict[str, Any] = json.loads(exc.body or "{}")
    text = _UID.sub("<uid>", json.dumps(body, sort_keys=True))
    return {"http": exc.status, "body": json.loads(text)}


def _normalize_message(message: str) -> str:
    return _NUMBER.sub("<n>", message)


# ---------------------------------------------------------------- scenarios


def replay_from_resource_version(b: Backend) -> Transcript:
    """Writes after RV N are replayed in order by a watch from N; nothing before it."""
    core = client.CoreV1Api(b.api)
    core.create_namespaced_config_map(b.namespace, _cm("a"))
    core.create_namespaced_config_map(b.namespace, _cm("b"))
    rv = core.list_namespaced_config_map(b.namespace).metadata.resource_version
    core.patch_namespaced_config_map("a", b.namespace, {"data": {"k": "v"}})
    core.delete_namespaced_config_map("b", b.namespace)
    core.create_namespaced_config_map(b.namespace, _cm("c"))
    events = _watch(core.list_namespaced_config_map, b.namespace, 3, resource_version=rv)
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    return [_event(e, "data") for e in events] + [["increasing", rvs == sorted(rvs)]]


def initial_events_in_key_order(b: Backend) -> Transcript:
    """A watch without RV sends ADDED per object in name order, each with its own RV."""
    core = client.CoreV1Api(b.api)
    own = {}
    for name in ("c", "a", "b"):
        own[name] = core.create_namespaced_config_map(
            b.namespace, _cm(name)
        ).metadata.resource_version
    events = _watch(core.list_namespaced_config_map, b.namespace, 3)
    same = all(
        e["object"]["metadata"]["resourceVersion"] == own[e["object"]["metadata"]["name"]]
        for e in events
    )
    return [_event(e) for e in events] + [["own resourceVersions", same]]


def initial_events_end_bookmark(b: Backend) -> Transcript:
    """AllowWatchBookmarks without RV: the initial ADDED events end with an annotated BOOKMARK."""
    core = client.CoreV1Api(b.api)
    for name in ("x", "y"):
        core.create_namespaced_secret(b.namespace, _secret(name))
    events = _watch(core.list_namespaced_secret, b.namespace, 3, allow_watch_bookmarks=True)
    return [_event(e, "metadata.annotations") for e in events]


def label_selector_transitions(b: Backend) -> Transcript:
    """Relabelling synthesizes ADDED and DELETED (with the old labels) on a selected watch."""
    core = client.CoreV1Api(b.api)
    core.create_namespaced_config_map(b.namespace, _cm("a", {"app": "web"}))
    core.create_namespaced_config_map(b.namespace, _cm("b"))
    rv = core.list_namespaced_config_map(b.namespace).metadata.resource_version
    core.patch_namespaced_config_map("b", b.namespace, {"metadata": {"labels": {"app": "web"}}})
    core.patch_namespaced_config_map("a", b.namespace, {"metadata": {"labels": {"app": "db"}}})
    core.patch_namespaced_config_map("a", b.namespace, {"data": {"unseen": "yes"}})
    core.patch_namespaced_config_map("b", b.namespace, {"data": {"seen": "yes"}})
    core.delete_namespaced_config_map("b", b.namespace)
    events = _watch(
        core.list_namespaced_config_map,
        b.namespace,
        4,
        resource_version=rv,
        label_selector="app=web",
    )
    return [_event(e, "metadata.labels", "data") for e in events]


def field_selector_transitions(b: Backend) -> Transcript:
    """A pod entering status.phase=Running is ADDED; leaving it is DELETED still showing Running."""
    core = client.CoreV1Api(b.api)
    core.create_namespaced_pod(b.namespace, _pod("p"))
    rv = core.list_namespaced_pod(b.namespace).metadata.resource_version
    core.patch_namespaced_pod_status("p", b.namespace, {"status": {"phase": "Running"}})
    core.patch_namespaced_pod_status("p", b.namespace, {"status": {"phase": "Succeeded"}})
    events = _watch(
        core.list_namespaced_pod,
        b.namespace,
        2,
        resource_version=rv,
        field_selector="status.phase=Running",
    )
    return [_event(e, "status.phase") for e in events]


def too_old_resource_version(b: Backend) -> Transcript:
    """A watch from a compacted RV gets HTTP 200 with one 410 ERROR event."""
    core = client.CoreV1Api(b.api)
    rv = core.create_namespaced_config_map(b.namespace, _cm("a")).metadata.resource_version
    for i in range(3):
        core.patch_namespaced_config_map("a", b.namespace, {"data": {"i": str(i)}})
    b.compact()
    try:
        _watch(core.list_namespaced_config_map, b.namespace, 1, resource_version=rv)
    except ApiException as exc:
        return [["ApiException", exc.status, _normalize_message(exc.reason)]]
    return [["no error"]]


def no_op_writes(b: Backend) -> Transcript:
    """A write that changes nothing keeps the RV and sends no event."""
    core = client.CoreV1Api(b.api)
    created = core.create_namespaced_config_map(b.namespace, _cm("a", k="v"))
    rv = created.metadata.resource_version
    same = core.replace_namespaced_config_map("a", b.namespace, created)
    core.patch_namespaced_config_map("a", b.namespace, {"data": {"k": "v"}})
    core.patch_namespaced_config_map("a", b.namespace, {"data": {"k": "w"}})
    events = _watch(core.list_namespaced_config_map, b.namespace, 1, resource_version=rv)
    return [["same rv", same.metadata.resource_version == rv]] + [_event(e, "data") for e in events]


def finalizer_holds_deletion(b: Backend) -> Transcript:
    """A finalizer turns delete into MODIFIED; removing it is the DELETED."""
    core = client.CoreV1Api(b.api)
    created = core.create_namespaced_config_map(
        b.namespace, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    )
    rv = created.metadata.resource_version
    core.delete_namespaced_config_map("held", b.namespace)
    core.patch_namespaced_config_map("held", b.namespace, {"metadata": {"finalizers": None}})
    events = _watch(core.list_namespaced_config_map, b.namespace, 2, resource_version=rv)
    rows = []
    for e in events:
        meta = e["object"]["metadata"]
        rows.append(
            [
                e["type"],
                meta["name"],
                "deletionTimestamp" in meta,
                meta.get("deletionGracePeriodSeconds"),
                meta.get("finalizers"),
            ]
        )
    return rows


def unbound_pod_is_deleted_at_once(b: Backend) -> Transcript:
    """A pod no node runs is removed by one DELETE without a grace period.

    kube-apiserver 1.37 records the deletion first (MODIFIED with a deletionTimestamp and
    grace 0), then removes the pod (DELETED).
    """
    core = client.CoreV1Api(b.api)
    rv = core.create_namespaced_pod(b.namespace, _pod("p")).metadata.resource_version
    returned = core.delete_namespaced_pod("p", b.namespace)
    events = _watch(core.list_namespaced_pod, b.namespace, 2, resource_version=rv)
    return [["returned kind", returned.kind]] + [_event(e) for e in events]


def list_paging(b: Backend) -> Transcript:
    """limit/continue pages come from one snapshot, with remainingItemCount."""
    core = client.CoreV1Api(b.api)
    for name in ("a", "b", "c", "d", "e"):
        core.create_namespaced_secret(b.namespace, _secret(name))
    first = core.list_namespaced_secret(b.namespace, limit=2)
    core.create_namespaced_secret(b.namespace, _secret("bb"))
    second = core.list_namespaced_secret(b.namespace, limit=2, _continue=first.metadata._continue)
    return [
        [i.metadata.name for i in first.items],
        first.metadata.remaining_item_count,
        [i.metadata.name for i in second.items],
        second.metadata.resource_version == first.metadata.resource_version,
        second.metadata.remaining_item_count,
    ]


def error_bodies(b: Backend) -> Transcript:
    """NotFound, AlreadyExists, Conflict, Invalid and BadRequest Status bodies."""
    core = client.CoreV1Api(b.api)
    out: Transcript = []

    def attempt(call: Callable[[], Any]) -> None:
        try:
            call()
        except ApiException as exc:
            out.append(_status(exc))
        else:
            out.append("no error")

    stale = core.create_namespaced_config_map(b.namespace, _cm("a"))
    core.patch_namespaced_config_map("a", b.namespace, {"data": {"k": "v"}})
    attempt(lambda: core.read_namespaced_config_map("missing", b.namespace))
    attempt(lambda: core.create_namespaced_config_map(b.namespace, _cm("a")))
    attempt(lambda: core.replace_namespaced_config_map("a", b.namespace, stale))
    attempt(
        lambda: core.create_namespaced_pod(
            b.namespace, {"metadata": {"name": "web-0"}, "spec": {"containers": [{"name": "a"}]}}
        )
    )
    attempt(lambda: core.list_namespaced_pod(b.namespace, label_selector="app in (a b)"))
    attempt(lambda: core.list_namespaced_pod(b.namespace, field_selector="spec.foo=1"))
    attempt(lambda: core.list_namespaced_config_map(b.namespace, field_selector="data.x=1"))
    attempt(lambda: core.create_namespaced_config_map("kwait-no-such-namespace", _cm("x")))
    return out


SCENARIOS: dict[str, Callable[[Backend], Transcript]] = {
    f.__name__: f
    for f in (
        replay_from_resource_version,
        initial_events_in_key_order,
        initial_events_end_bookmark,
        label_selector_transitions,
        field_selector_transitions,
        too_old_resource_version,
        no_op_writes,
        finalizer_holds_deletion,
        unbound_pod_is_deleted_at_once,
        list_paging,
        error_bodies,
    )
}


def _failure(code: int, reason: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "code": code,
        "kind": "Status",
        "message": message,
        "metadata": {},
        "reason": reason,
        "status": "Failure",
    }
    if details is not None:
        body["details"] = details
    return {"http": code, "body": body}


EXPECTED: dict[str, Transcript] = {
    "replay_from_resource_version": [
        ["MODIFIED", "a", {"k": "v"}],
        ["DELETED", "b", None],
        ["ADDED", "c", None],
        ["increasing", True],
    ],
    "initial_events_in_key_order": [
        ["ADDED", "a"],
        ["ADDED", "b"],
        ["ADDED", "c"],
        ["own resourceVersions", True],
    ],
    "initial_events_end_bookmark": [
        ["ADDED", "x", None],
        ["ADDED", "y", None],
        ["BOOKMARK", "", {"k8s.io/initial-events-end": "true"}],
    ],
    "label_selector_transitions": [
        ["ADDED", "b", {"app": "web"}, None],
        ["DELETED", "a", {"app": "web"}, None],
        ["MODIFIED", "b", {"app": "web"}, {"seen": "yes"}],
        ["DELETED", "b", {"app": "web"}, {"seen": "yes"}],
    ],
    "field_selector_transitions": [
        ["ADDED", "p", "Running"],
        ["DELETED", "p", "Running"],
    ],
    "too_old_resource_version": [
        ["ApiException", 410, "Expired: too old resource version: <n> (<n>)"],
    ],
    "no_op_writes": [
        ["same rv", True],
        ["MODIFIED", "a", {"k": "w"}],
    ],
    "finalizer_holds_deletion": [
        ["MODIFIED", "held", True, 0, ["example.com/hold"]],
        ["DELETED", "held", True, 0, ["example.com/hold"]],
    ],
    "unbound_pod_is_deleted_at_once": [
        ["returned kind", "Pod"],
        ["MODIFIED", "p"],
        ["DELETED", "p"],
    ],
    "list_paging": [["a", "b"], 3, ["c", "d"], True, 1],
    "error_bodies": [
        _failure(
            404,
            "NotFound",
            'configmaps "missing" not found',
            {"kind": "configmaps", "name": "missing"},
        ),
        _failure(
            409,
            "AlreadyExists",
            'configmaps "a" already exists',
            {"kind": "configmaps", "name": "a"},
        ),
        _failure(
            409,
            "Conflict",
            'Operation cannot be fulfilled on configmaps "a": the object has been modified; '
            "please apply your changes to the latest version and try again",
            {"kind": "configmaps", "name": "a"},
        ),
        _failure(
            422,
            "Invalid",
            'Pod "web-0" is invalid: spec.containers[0].image: Required value',
            {
                "causes": [
                    {
                        "field": "spec.containers[0].image",
                        "message": "Required value",
                        "reason": "FieldValueRequired",
                    }
                ],
                "kind": "Pod",
                "name": "web-0",
            },
        ),
        _failure(400, "BadRequest", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        _failure(400, "BadRequest", "field label not supported: spec.foo"),
        _failure(
            400,
            "BadRequest",
            '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
        _failure(
            404,
            "NotFound",
            'namespaces "kwait-no-such-namespace" not found',
            {"kind": "namespaces", "name": "kwait-no-such-namespace"},
        ),
    ],
}
