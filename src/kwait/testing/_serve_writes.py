"""Write requests on the fake API server: CREATE, UPDATE, PATCH, DELETE, DELETECOLLECTION.

`serve_write` decodes a write's body and options as kube-apiserver does
(JSON bodies, the four patch types including server-side apply, the pod
``binding`` subresource, DeleteOptions from the body or the query), applies
it to the `Store`, and returns the response's code and body.
"""

from __future__ import annotations

import contextlib
import importlib
import json
from collections.abc import Callable
from typing import Any

from kwait.testing._errors import StatusError, bad_request, not_found_path
from kwait.testing._http import Route, decode_body, parse_int, truthy
from kwait.testing._lifecycle import DeleteOptions, Store
from kwait.testing._patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kwait.testing._resources import ResourceType
from kwait.testing._serve_list import selector

__all__ = ["serve_write"]

# PyYAML comes with the official client; its stubs are not a dependency of kwait.
yaml: Any = importlib.import_module("yaml")

_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


def serve_write(  # noqa: PLR0917 - one request's parts
    store: Store,
    verb: str,
    route: Route,
    query: dict[str, str],
    body: bytes,
    content_type: str,
) -> tuple[int, Any]:
    """Apply a write request to `store`; return the response's code and body.

    `content_type` is the request's ``Content-Type`` (it picks the patch
    type). Raises `StatusError` for a request the API server rejects.
    """
    rtype = route.rtype
    namespace = route.namespace or ""
    if verb == "CREATE":
        if route.subresource == "binding" and route.name is not None:
            return 201, _bind(store, namespace, route.name, decode_body(body))
        if route.name is not None or (rtype.namespaced and route.namespace is None):
            raise not_found_path()
        return 201, store.create(rtype, namespace, decode_body(body))
    if verb == "UPDATE":
        assert route.name is not None  # noqa: S101 - routing guarantees it
        obj = store.update(
            rtype, namespace, route.name, decode_body(body), subresource=route.subresource
        )
        return 200, obj
    if verb == "PATCH":
        assert route.name is not None  # noqa: S101
        return 200, _patch(store, route, content_type, body, query.get("fieldManager"))
    if verb == "DELETE":
        assert route.name is not None  # noqa: S101
        options = _delete_options(query, body)
        obj, _removed = store.delete(rtype, namespace, route.name, options)
        return 200, obj if rtype.return_deleted_object else _success(rtype, obj)
    if verb == "DELETECOLLECTION":
        options = _delete_options(query, body)
        select = selector(rtype, query)
        items, _, _, _ = store.list_objects(rtype, route.namespace, select)
        for item in items:
            meta = item["metadata"]
            with contextlib.suppress(StatusError):
                store.delete(rtype, meta.get("namespace", ""), meta["name"], options)
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    raise not_found_path()  # pragma: no cover - the router's verbs are all covered


def _bind(store: Store, namespace: str, name: str, body: Any) -> dict[str, Any]:
    target = (body.get("target") or {}) if isinstance(body, dict) else {}
    node = target.get("name")
    if not node:
        raise StatusError(
            422,
            "Invalid",
            f'Binding "{name}" is invalid: target.name: Required value',
            {
                "name": name,
                "kind": "Binding",
                "causes": [
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value",
                        "field": "target.name",
                    }
                ],
            },
        )
    store.bind_pod(namespace, name, node)
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": 201,
    }


def _patch(  # noqa: C901 - mirrors the API server's decision table
    store: Store, route: Route, content_type: str, body: bytes, field_manager: str | None
) -> dict[str, Any]:
    rtype = route.rtype
    assert route.name is not None  # noqa: S101
    ctype = content_type.split(";", 1)[0].strip().lower()
    accepted = [t for t in _PATCH_TYPES if rtype.strategic_merge or "strategic" not in t]
    if ctype not in accepted:
        raise StatusError(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types "
            "include: " + ", ".join(accepted),
        )
    if ctype == "application/apply-patch+yaml":
        if not field_manager:
            raise StatusError(
                422,
                "Invalid",
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is '
                "required for apply patch",
                {
                    "group": "meta.k8s.io",
                    "kind": "PatchOptions",
                    "causes": [
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: is required for apply patch",
                            "field": "fieldManager",
                        }
                    ],
                },
            )
        try:
            intent = yaml.safe_load(body.decode() or "{}")
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise bad_request(f"error decoding YAML: {exc}") from None
        if not isinstance(intent, dict):
            raise bad_request("error decoding YAML: the body is not an object")
        namespace = route.namespace or ""
        try:
            store.get(rtype, namespace, route.name)
        except StatusError as err:
            if err.code != 404:  # noqa: PLR2004
                raise
            intent.setdefault("metadata", {}).setdefault("name", route.name)
            return store.create(rtype, namespace, intent)
        return _apply_patch(store, route, lambda old: merge_patch(old, intent))
    try:
        patch = json.loads(body.decode() or "null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"error decoding patch: {exc}") from None
    if ctype == "application/json-patch+json":
        if not isinstance(patch, list):
            raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        return _apply_patch(store, route, lambda old: json_patch(old, patch))
    if not isinstance(patch, dict):
        raise bad_request("error decoding patch: the patch is not a JSON object")
    if ctype == "application/merge-patch+json":
        return _apply_patch(store, route, lambda old: merge_patch(old, patch))
    return _apply_patch(store, route, lambda old: strategic_merge_patch(old, patch))


def _apply_patch(store: Store, route: Route, apply: Callable[[Any], Any]) -> dict[str, Any]:
    assert route.name is not None  # noqa: S101

    def make(old: dict[str, Any]) -> Any:
        try:
            return apply(old)
        except PatchError:
            raise StatusError(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
                {},
            ) from None

    return store.modify(
        route.rtype,
        route.namespace or "",
        route.name,
        make,
        subresource=route.subresource,
        patching=True,
    )


def _delete_options(query: dict[str, str], body: bytes) -> DeleteOptions:
    decoded = decode_body(body) if body.strip() else None
    if isinstance(decoded, dict):
        pre = decoded.get("preconditions") or {}
        grace = decoded.get("gracePeriodSeconds")
        return DeleteOptions(
            grace_period_seconds=None if grace is None else int(grace),
            propagation_policy=decoded.get("propagationPolicy"),
            orphan_dependents=decoded.get("orphanDependents"),
            precondition_uid=pre.get("uid"),
            precondition_rv=pre.get("resourceVersion"),
        )
    orphan = query.get("orphanDependents")
    return DeleteOptions(
        grace_period_seconds=parse_int("gracePeriodSeconds", query.get("gracePeriodSeconds")),
        propagation_policy=query.get("propagationPolicy") or None,
        orphan_dependents=None if orphan is None else truthy(orphan),
    )


def _success(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    details: dict[str, Any] = {"name": meta.get("name", "")}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    details["uid"] = meta.get("uid", "")
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
