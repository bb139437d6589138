"""Tests of internals: the fake server's patch functions.

Patch formats: merge patch, JSON patch and the strategic-merge cases the fake supports.
"""

from __future__ import annotations

import pytest

from kwait.testing._patch import PatchError, json_patch, merge_patch, strategic_merge_patch


def test_merge_patch_deletes_with_null_and_replaces_lists() -> None:
    """RFC 7386: null removes a key and a list is replaced whole."""
    doc = {"a": {"b": 1, "c": 2}, "l": [1, 2]}
    assert merge_patch(doc, {"a": {"b": None}, "l": [3]}) == {"a": {"c": 2}, "l": [3]}
    assert doc == {"a": {"b": 1, "c": 2}, "l": [1, 2]}


def test_json_patch_operations() -> None:
    """add, remove, replace, move, copy and test follow RFC 6902, with ~1 escapes."""
    doc = {"metadata": {"labels": {"a/b": "1"}}, "l": [1, 2, 3]}
    ops = [
        {"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"},
        {"op": "remove", "path": "/l/0"},
        {"op": "add", "path": "/l/0", "value": 9},
        {"op": "copy", "from": "/l", "path": "/m"},
        {"op": "move", "from": "/m", "path": "/n"},
        {"op": "test", "path": "/n/0", "value": 9},
    ]
    assert json_patch(doc, ops) == {
        "metadata": {"labels": {"a/b": "2"}},
        "l": [9, 2, 3],
        "n": [9, 2, 3],
    }


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/a", "value": 2}],
        [{"op": "remove", "path": "/missing"}],
        [{"op": "replace", "path": "/l/5", "value": 1}],
        [{"op": "frobnicate", "path": "/a"}],
    ],
)
def test_json_patch_failures(ops: list[dict[str, object]]) -> None:
    """A failing test, a missing path, a bad index or an unknown op raise PatchError."""
    with pytest.raises(PatchError):
        json_patch({"a": 1, "l": []}, ops)


def test_strategic_merge_by_key_and_directives() -> None:
    """Containers merge by name, env by name, conditions by type; $patch delete/replace work."""
    pod = {
        "spec": {
            "containers": [
                {"name": "a", "image": "x", "env": [{"name": "E", "value": "1"}]},
                {"name": "b", "image": "y"},
            ]
        },
        "status": {"conditions": [{"type": "Ready", "status": "False"}]},
        "metadata": {"finalizers": ["f1"]},
    }
    patch = {
        "spec": {
            "containers": [
                {"name": "a", "env": [{"name": "F", "value": "2"}]},
                {"name": "b", "$patch": "delete"},
                {"name": "c", "image": "z"},
            ]
        },
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "Initialized", "status": "True"},
            ]
        },
        "metadata": {"finalizers": ["f2"]},
    }
    result = strategic_merge_patch(pod, patch)
    assert result["spec"]["containers"] == [
        {
            "name": "a",
            "image": "x",
            "env": [{"name": "E", "value": "1"}, {"name": "F", "value": "2"}],
        },
        {"name": "c", "image": "z"},
    ]
    assert result["status"]["conditions"] == [
        {"type": "Ready", "status": "True"},
        {"type": "Initialized", "status": "True"},
    ]
    assert result["metadata"]["finalizers"] == ["f1", "f2"]
    replaced = strategic_merge_patch(pod, {"spec": {"$patch": "replace", "containers": []}})
    assert replaced["spec"] == {"containers": []}
    dropped = strategic_merge_patch(
        pod, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]}}
    )
    assert dropped["metadata"]["finalizers"] == []
    retained = strategic_merge_patch(
        {"spec": {"a": 1, "b": 2}}, {"spec": {"$retainKeys": ["a"], "a": 3}}
    )
    assert retained == {"spec": {"a": 3}}
    tolerations = strategic_merge_patch(
        {"spec": {"tolerations": [{"key": "a"}]}}, {"spec": {"tolerations": [{"key": "b"}]}}
    )
    assert tolerations == {"spec": {"tolerations": [{"key": "b"}]}}
