"""kwok Stages that play pod lifecycles on cue, and the manifests that use them.

The stage documents live in ``stages/*.yaml``; their status templates share the Go templates
of ``stages/helpers.tpl``, which :func:`stage_documents` puts in place of each template's
marker line. A pod on a kwok-managed node picks its lifecycle with a label:

========================  ==================================================================
``kwait.dev/lifecycle``    what the simulated kubelet does
========================  ==================================================================
``normal`` (or absent)     ContainerCreating -> Running, Ready (``normal-start``, the fake
                           kubelet's name, is the same)
``image-pull-failure``     ContainerCreating -> ErrImagePull <-> ImagePullBackOff, forever
``crash-loop``             Running -> exit 1 -> restart -> CrashLoopBackOff -> restart ...
``complete``               Running -> exit 0 -> Succeeded (Job-like pods)
``complete-unready``       ContainerCreating -> exit 0 -> Succeeded, never Ready
``invalid-image``          ContainerCreating -> InvalidImageName, for good
``config-error``           ContainerCreating -> CreateContainerConfigError, for good
========================  ==================================================================

Every pod, whatever its label, is deleted gracefully: containers stop, the pod turns
Succeeded or Failed, then it goes away (grace period 0). Timing is set per pod with
annotations holding Go durations (``"0s"``, ``"50ms"``, ``"2s"``); see :data:`ANNOTATIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "ANNOTATIONS",
    "LIFECYCLES",
    "LIFECYCLE_LABEL",
    "NODE_ANNOTATION",
    "NODE_NAME",
    "NODE_TAINT",
    "STAGES_DIR",
    "kwok_config",
    "node_manifest",
    "pod_manifest",
    "stage_documents",
    "stage_names",
]

STAGES_DIR = Path(__file__).parent / "stages"
LIFECYCLE_LABEL = "kwait.dev/lifecycle"
LIFECYCLES = (
    "normal",
    "normal-start",
    "image-pull-failure",
    "crash-loop",
    "complete",
    "complete-unready",
    "invalid-image",
    "config-error",
)

#: Timing annotations (Go durations) and what they set; defaults in parentheses.
ANNOTATIONS: Mapping[str, str] = {
    "kwait.dev/delay": "every step without an annotation of its own (0s)",
    "kwait.dev/err-image-pull-duration": "time in ErrImagePull (200ms)",
    "kwait.dev/image-pull-backoff-duration": "time in ImagePullBackOff (1s)",
    "kwait.dev/run-duration": "crash-loop/complete: time a container runs before exiting (500ms)",
    "kwait.dev/exit-code": "crash-loop/complete: the exit code, as a string (1 / 0)",
    "kwait.dev/crash-loop-backoff-duration": "time in CrashLoopBackOff (1s)",
    "kwait.dev/termination-duration": "deletion requested -> containers stopped (kwait.dev/delay)",
    "kwait.dev/waiting-message": 'config-error: the waiting message (secret "db" not found)',
}

#: The node the harness creates for kwok to manage.
NODE_NAME = "kwait-node"
#: kwok manages nodes with this annotation set to ``fake`` (kwokctl's convention too).
NODE_ANNOTATION = "kwok.x-k8s.io/node"
#: Keeps real workloads of an existing cluster off the simulated node.
NODE_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}

_MARKER = re.compile(r"^(?P<indent>[ \t]*)\{\{/\* kwait:helpers \*/\}\}[ \t]*$", re.MULTILINE)


def stage_documents(directory: Path = STAGES_DIR) -> str:
    """Return every stage as one multi-document YAML text, helper templates in place.

    The result is what kwok reads with ``--config``, and what ``kubectl apply -f`` takes on a
    cluster whose kwok runs with ``--enable-crds=Stage``.
    """
    helpers = (directory / "helpers.tpl").read_text().rstrip("\n").splitlines()
    docs = []
    for path in sorted(directory.glob("*.yaml")):

        def insert(match: re.Match[str]) -> str:
            indent = match.group("indent")
            return "\n".join(indent + line if line else line for line in helpers)

        docs.append(_MARKER.sub(insert, path.read_text()).strip("\n"))
    return "\n---\n".join(docs) + "\n"


def stage_names(directory: Path = STAGES_DIR) -> list[str]:
    """Return the names of all stages, in file order."""
    pattern = re.compile(r"^kind: Stage\nmetadata:\n  name: (\S+)", re.MULTILINE)
    return pattern.findall(stage_documents(directory))


def kwok_config() -> str:
    """Return kwok's ``--config`` file: the stages and nothing else (no default stages)."""
    return stage_documents()


def node_manifest(name: str = NODE_NAME, *, taint: bool = False) -> dict[str, Any]:
    """Return the Node that kwok manages for the tests.

    Args:
        name: the node's name.
        taint: add :data:`NODE_TAINT`, so that only pods which tolerate it (or name the node
            in ``spec.nodeName``) land on it; for clusters with real nodes and workloads.
    """
    spec: dict[str, Any] = {"taints": [dict(NODE_TAINT)]} if taint else {}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                "kwait.dev/node": "true",
            },
            "annotations": {NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": spec,
    }


def pod_manifest(
    name: str,
    *,
    lifecycle: str = "normal",
    node: str = NODE_NAME,
    image: str = "nginx:1.27",
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    restart_policy: str = "Always",
) -> dict[str, Any]:
    """Return a one-container Pod bound to the kwok node, with the given lifecycle.

    Args:
        name: the pod's name.
        lifecycle: one of :data:`LIFECYCLES` (the ``kwait.dev/lifecycle`` label).
        node: the node to bind to (``spec.nodeName``; no scheduler needed).
        image: the container image (never pulled: kwok only writes status).
        annotations: timing annotations (:data:`ANNOTATIONS`) and any others.
        labels: more labels.
        restart_policy: ``Always``, ``OnFailure`` or ``Never``.
    """
    if lifecycle not in LIFECYCLES:
        msg = f"unknown lifecycle {lifecycle!r}; use one of {', '.join(LIFECYCLES)}"
        raise ValueError(msg)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {LIFECYCLE_LABEL: lifecycle, **(labels or {})},
            "annotations": dict(annotations or {}),
        },
        "spec": {
            "nodeName": node,
            "restartPolicy": restart_policy,
            "terminationGracePeriodSeconds": 30,
            "tolerations": [{"key": NODE_TAINT["key"], "operator": "Exists"}],
            "containers": [{"name": "app", "image": image}],
        },
    }
