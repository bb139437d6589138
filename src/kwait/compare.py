"""Compare Kubernetes objects: ignore what the server fills in, match partial manifests.

* `diff` / `expect_same`: is this the same object? An object exported and
  imported again must equal the original except for what the API server
  manages (`SERVER_FIELDS`: uid, resourceVersion, timestamps, managedFields,
  status ...; extend it with ``ignore=(*SERVER_FIELDS, "spec.clusterIP")``).
* `subset_diff` / `matches` / `expect_matches`: does the object hold at least
  this manifest? Extra fields (server defaults) are fine; lists of objects are
  matched by an element key such as ``name``.
* `load` / `load_all`: objects from YAML text, a YAML file, or the official
  client's model objects (`to_plain`).

>>> from kwait import compare
>>> exported = compare.load('''
... apiVersion: v1
... kind: ConfigMap
... metadata: {name: settings, namespace: a, uid: 9f1c, resourceVersion: "812"}
... data: {mode: fast}
... ''')
>>> reimported = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"mode": "fast"},
...     "metadata": {"name": "settings", "namespace": "a", "uid": "07b2", "resourceVersion": "977",
...                  "creationTimestamp": "2026-01-02T03:04:05Z"}}
>>> bool(compare.diff(exported, reimported))
False
>>> compare.matches("data: {mode: slow}")(reimported)
False
"""

from __future__ import annotations

from kwait._match.compare import (
    LIST_KEYS,
    SERVER_FIELDS,
    Change,
    Diff,
    ObjectMismatchError,
    diff,
    expect_matches,
    expect_same,
    load,
    load_all,
    matches,
    subset_diff,
    to_plain,
)
from kwait._publish import publish

__all__ = [
    "LIST_KEYS",
    "SERVER_FIELDS",
    "Change",
    "Diff",
    "ObjectMismatchError",
    "diff",
    "expect_matches",
    "expect_same",
    "load",
    "load_all",
    "matches",
    "subset_diff",
    "to_plain",
]

publish(__name__, globals(), __all__)
