"""LIST: response shape, paging, the resourceVersion matrix and selectors (checklist 1-4)."""

from __future__ import annotations

from typing import Any

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from kwait.testing import FakeApiServer, FakeClock

from .conftest import cm_body, pod_body, raw

PODS = "/api/v1/namespaces/default/pods"
CMS = "/api/v1/namespaces/default/configmaps"


def _create_cms(core: Any, names: list[str], labels: dict[str, str] | None = None) -> None:
    for name in names:
        core.create_namespaced_config_map("default", cm_body(name, labels))


def test_empty_list_shape(server: FakeApiServer, http: urllib3.PoolManager) -> None:
    """An empty list has kind, apiVersion, the global RV as a string, and items: []."""
    answer = raw(http, server, "GET", PODS)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.data.endswith(b"}\n")
    assert answer.json == {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": str(server.resource_version)},
        "items": [],
    }


def test_list_items_lack_kind_and_are_in_key_order(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """Built-in list items carry no kind/apiVersion and come out sorted by namespace/name."""
    _create_cms(core, ["b", "a", "c"])
    answer = raw(http, server, "GET", "/api/v1/configmaps")
    names = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in answer.json["items"]]
    assert names == sorted(names)
    assert [n for ns, n in names if ns == "default"] == ["a", "b", "c"]
    assert all("kind" not in i and "apiVersion" not in i for i in answer.json["items"])
    assert answer.json["metadata"]["resourceVersion"] == str(server.resource_version)


def test_list_rv_is_the_global_rv_not_the_largest_item_rv(server: FakeApiServer, core: Any) -> None:
    """The list RV is the current global RV even when the newest write was another resource."""
    _create_cms(core, ["a"])
    core.create_namespaced_pod("default", pod_body("p"))
    listed = core.list_namespaced_config_map("default")
    assert listed.metadata.resource_version == str(server.resource_version)
    assert int(listed.items[0].metadata.resource_version) < server.resource_version


def test_paging_is_consistent_and_counts_remaining(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """Pages come from the first page's snapshot with one RV, and remainingItemCount is exact."""
    _create_cms(core, ["a", "b", "c", "d", "e"])
    first = raw(http, server, "GET", CMS + "?limit=2").json
    assert [i["metadata"]["name"] for i in first["items"]] == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 3
    rv = first["metadata"]["resourceVersion"]
    core.delete_namespaced_config_map("c", "default")
    core.create_namespaced_config_map("default", cm_body("bb"))
    token = first["metadata"]["continue"]
    second = raw(http, server, "GET", f"{CMS}?limit=2&continue={token}").json
    assert [i["metadata"]["name"] for i in second["items"]] == ["c", "d"]
    assert second["metadata"]["resourceVersion"] == rv
    third = raw(http, server, "GET", f"{CMS}?limit=2&continue={second['metadata']['continue']}")
    assert [i["metadata"]["name"] for i in third.json["items"]] == ["e"]
    assert "continue" not in third.json["metadata"]
    assert "remainingItemCount" not in third.json["metadata"]


def test_remaining_item_count_is_omitted_with_a_selector(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """With a label selector a partial page has a continue token but no remainingItemCount."""
    _create_cms(core, ["a", "b", "c"], {"app": "x"})
    page = raw(http, server, "GET", CMS + "?limit=1&labelSelector=app%3Dx").json
    assert "continue" in page["metadata"]
    assert "remainingItemCount" not in page["metadata"]


def test_expired_continue_token_is_410_with_a_fresh_token(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """A continue token older than the history is HTTP 410 Expired with an rv=-1 token."""
    _create_cms(core, ["a", "b", "c"])
    token = raw(http, server, "GET", CMS + "?limit=1").json["metadata"]["continue"]
    core.create_namespaced_config_map("default", cm_body("z"))
    server.compact()
    answer = raw(http, server, "GET", f"{CMS}?limit=1&continue={token}")
    assert answer.status == 410
    assert answer.json["reason"] == "Expired"
    assert answer.json["message"].startswith(
        "The provided continue parameter is too old to display a consistent list result."
    )
    fresh = answer.json["metadata"]["continue"]
    rest = raw(http, server, "GET", f"{CMS}?continue={fresh}").json
    assert [i["metadata"]["name"] for i in rest["items"]] == ["b", "c", "z"]


def test_resource_version_with_continue_is_400(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """Sending both resourceVersion and continue is a 400 with the server's message."""
    _create_cms(core, ["a", "b"])
    token = raw(http, server, "GET", CMS + "?limit=1").json["metadata"]["continue"]
    answer = raw(http, server, "GET", f"{CMS}?continue={token}&resourceVersion=5")
    assert answer.status == 400
    assert (
        answer.json["message"] == "specifying resource version is not allowed when using continue"
    )


def test_malformed_continue_token_is_400(server: FakeApiServer, http: urllib3.PoolManager) -> None:
    """A continue token that does not decode is 400 invalid continue token."""
    answer = raw(http, server, "GET", CMS + "?continue=%21%21garbage")
    assert answer.status == 400
    assert answer.json["message"].startswith("invalid continue token: continue key is not valid")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "resourceVersionMatch=NotOlderThan",
            (
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
                "resourceVersion is provided"
            ),
        ),
        (
            "resourceVersionMatch=Exact&resourceVersion=0",
            (
                'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for '
                'resourceVersion "0"'
            ),
        ),
        (
            "resourceVersionMatch=Foo&resourceVersion=1",
            (
                'resourceVersionMatch: Unsupported value: "Foo": supported values: "Exact", '
                '"NotOlderThan", ""'
            ),
        ),
        (
            "sendInitialEvents=true",
            "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
        ),
    ],
)
def test_invalid_list_options_are_422(
    server: FakeApiServer, http: urllib3.PoolManager, query: str, message: str
) -> None:
    """Forbidden option combinations are 422 Invalid on ListOptions.meta.k8s.io."""
    answer = raw(http, server, "GET", f"{CMS}?{query}")
    assert answer.status == 422
    assert answer.json["reason"] == "Invalid"
    assert answer.json["message"] == f'ListOptions.meta.k8s.io "" is invalid: {message}'
    assert answer.json["details"]["group"] == "meta.k8s.io"
    assert answer.json["details"]["kind"] == "ListOptions"


def test_non_numeric_resource_version_is_400(
    server: FakeApiServer, http: urllib3.PoolManager
) -> None:
    """A resourceVersion that is not a number is 400 with the strconv message."""
    answer = raw(http, server, "GET", CMS + "?resourceVersion=abc")
    assert answer.status == 400
    assert answer.json["message"] == (
        'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: '
        'parsing "abc": invalid syntax'
    )


def test_exact_list_serves_the_past(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """resourceVersionMatch=Exact returns the state as of that RV, reporting that RV."""
    _create_cms(core, ["a"])
    then = str(server.resource_version)
    core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
    core.create_namespaced_config_map("default", cm_body("b"))
    core.delete_namespaced_config_map("a", "default")
    answer = raw(http, server, "GET", f"{CMS}?resourceVersion={then}&resourceVersionMatch=Exact")
    assert answer.json["metadata"]["resourceVersion"] == then
    assert [i["metadata"]["name"] for i in answer.json["items"]] == ["a"]
    assert "data" not in answer.json["items"][0]
    also_exact = raw(http, server, "GET", f"{CMS}?resourceVersion={then}&limit=10")
    assert also_exact.json["items"] == answer.json["items"]


def test_exact_list_older_than_history_is_410(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """An exact list at a compacted RV is HTTP 410 with the too-old message."""
    then = server.resource_version
    _create_cms(core, ["a"])
    server.compact()
    answer = raw(http, server, "GET", f"{CMS}?resourceVersion={then}&resourceVersionMatch=Exact")
    assert answer.status == 410
    assert answer.json == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "The resourceVersion for the provided list is too old.",
        "reason": "Expired",
        "code": 410,
    }


def test_exact_list_in_the_future_is_504(server: FakeApiServer, http: urllib3.PoolManager) -> None:
    """An exact list at an RV the server has not reached is 504 Too large resource version."""
    future = server.resource_version + 100
    answer = raw(http, server, "GET", f"{CMS}?resourceVersion={future}&resourceVersionMatch=Exact")
    assert answer.status == 504
    assert answer.headers["Retry-After"] == "1"
    assert answer.json["message"] == (
        f"Timeout: Too large resource version: {future}, current: {server.resource_version}"
    )
    assert answer.json["details"] == {
        "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
        "retryAfterSeconds": 1,
    }


def test_not_older_than_a_future_rv_waits_three_clock_seconds(
    server: FakeApiServer, clock: FakeClock, core: Any, http: urllib3.PoolManager
) -> None:
    """A NotOlderThan list at a future RV waits on the clock, then answers 504."""
    import threading  # noqa: PLC0415

    future = server.resource_version + 1
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(
            raw(http, server, "GET", f"{CMS}?resourceVersion={future + 5}").status
        )
    )
    worker.start()
    assert clock.wait_for_blocked(1)
    clock.advance(3)
    worker.join(10)
    assert result == [504]
    waiting: list[Any] = []
    worker = threading.Thread(
        target=lambda: waiting.append(raw(http, server, "GET", f"{CMS}?resourceVersion={future}"))
    )
    worker.start()
    assert clock.wait_for_blocked(1)
    _create_cms(core, ["a"])
    worker.join(10)
    assert waiting[0].status == 200
    assert [i["metadata"]["name"] for i in waiting[0].json["items"]] == ["a"]


def test_resource_version_zero_ignores_limit(
    server: FakeApiServer, core: Any, http: urllib3.PoolManager
) -> None:
    """resourceVersion=0 serves everything, ignoring limit, with no continue token."""
    _create_cms(core, ["a", "b", "c"])
    answer = raw(http, server, "GET", CMS + "?resourceVersion=0&limit=1").json
    assert len(answer["items"]) == 3
    assert "continue" not in answer["metadata"]


def test_label_selector_lists_absent_keys_for_not_equal(core: Any) -> None:
    """`!=` and `notin` select objects that lack the key entirely."""
    core.create_namespaced_config_map("default", cm_body("a", {"env": "prod"}))
    core.create_namespaced_config_map("default", cm_body("b", {"env": "dev"}))
    core.create_namespaced_config_map("default", cm_body("c"))

    def names(sel: str) -> list[str]:
        items = core.list_namespaced_config_map("default", label_selector=sel).items
        return [i.metadata.name for i in items]

    assert names("env!=prod") == ["b", "c"]
    assert names("env notin (prod,dev)") == ["c"]
    assert names("env in (prod, dev)") == ["a", "b"]
    assert names("!env") == ["c"]


def test_bad_label_selector_is_400_with_the_parser_message(core: Any) -> None:
    """A bad selector is HTTP 400 BadRequest whose message is the parser error, no details."""
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_pod("default", label_selector="app in (a b)")
    assert exc.value.status == 400
    import json  # noqa: PLC0415

    assert json.loads(exc.value.body or "") == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "unable to parse requirement: found 'b', expected: ',' or ')'",
        "reason": "BadRequest",
        "code": 400,
    }


@pytest.mark.parametrize(
    ("path", "selector", "message"),
    [
        (PODS, "spec.foo=1", "field label not supported: spec.foo"),
        ("/api/v1/nodes", "status.phase=x", "field label not supported: status.phase"),
        (
            CMS,
            "data.x=1",
            '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
        (
            "/apis/apps/v1/namespaces/default/deployments",
            "spec.replicas=1",
            (
                '"spec.replicas" is not a known field selector: only "metadata.name", '
                '"metadata.namespace"'
            ),
        ),
    ],
)
def test_unsupported_field_selector_per_kind(
    server: FakeApiServer, http: urllib3.PoolManager, path: str, selector: str, message: str
) -> None:
    """An unsupported field is 400 with the kind's own message."""
    answer = raw(http, server, "GET", f"{path}?fieldSelector={selector}")
    assert answer.status == 400
    assert answer.json["message"] == message


def test_pod_field_selectors(core: Any) -> None:
    """Pods select on status.phase, spec.nodeName and metadata.name; a missing field is ''."""
    core.create_namespaced_pod("default", pod_body("a"))
    core.create_namespaced_pod("default", pod_body("b", nodeName="n1"))

    def names(sel: str) -> list[str]:
        items = core.list_namespaced_pod("default", field_selector=sel).items
        return [i.metadata.name for i in items]

    assert names("status.phase=Pending") == ["a", "b"]
    assert names("spec.nodeName=n1") == ["b"]
    assert names("spec.nodeName=") == ["a"]
    assert names("spec.host=n1,metadata.name!=a") == ["b"]
    assert names("status.podIPs=") == ["a", "b"]


def test_list_in_missing_namespace_is_empty(core: Any) -> None:
    """Listing in a namespace that does not exist is 200 with no items, not 404."""
    assert core.list_namespaced_pod("nowhere").items == []


def test_unknown_path_is_404_status(server: FakeApiServer, http: urllib3.PoolManager) -> None:
    """An unknown resource is 404 with the generic not-found Status."""
    answer = raw(http, server, "GET", "/api/v1/namespaces/default/widgets")
    assert answer.status == 404
    assert answer.json == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server could not find the requested resource",
        "reason": "NotFound",
        "details": {},
        "code": 404,
    }
