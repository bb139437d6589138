"""The pinned versions of the local control plane, in one place.

Why these releases: each one's ``go.mod`` declares ``go 1.26.0`` (or older), so the Go toolchain
installed on the project's machines (go1.26.x, run with ``GOTOOLCHAIN=local``) builds them as
they are, without fetching a newer toolchain. Newer releases ask for more (kwok's main branch
declares go 1.27), and a toolchain download is not something every machine can do. Moving to
a newer release means checking its ``go`` line first.

The wrapper modules under ``gomod/`` pin the same versions in their ``go.mod`` (and the checksums
in ``go.sum``); ``tests/controlplane/test_harness.py`` fails if the two places disagree. To move
a version: change it here, edit the matching ``require`` (and, for Kubernetes, the ``replace``
lines of the ``k8s.io/*`` staging modules, which follow ``v0.<minor>.<patch>``), run
``go mod tidy`` in the wrapper folder, then ``python -m tests.controlplane build``.
"""

from __future__ import annotations

__all__ = [
    "ETCD",
    "ETCD_MODULE",
    "GO_MINIMUM",
    "KUBERNETES",
    "KUBERNETES_MODULE",
    "KUBERNETES_STAGING",
    "KWOK",
    "KWOK_MODULE",
]

#: kube-apiserver, kube-controller-manager and kube-scheduler (module ``k8s.io/kubernetes``).
KUBERNETES = "v1.37.2"
KUBERNETES_MODULE = "k8s.io/kubernetes"
#: The version of the ``k8s.io/*`` staging modules that match :data:`KUBERNETES`.
KUBERNETES_STAGING = "v0.37.2"

#: etcd; its server module's main package is the ``etcd`` binary.
ETCD = "v3.6.16"
ETCD_MODULE = "go.etcd.io/etcd/server/v3"

#: kwok, the controller that simulates nodes and pod lifecycles (``cmd/kwok``).
KWOK = "v0.8.0"
KWOK_MODULE = "sigs.k8s.io/kwok"

#: The oldest Go that builds all three (the highest ``go`` line among their go.mod files).
GO_MINIMUM = "1.26.0"
