"""`kwait wait` against `kubectl wait` on the real control plane: same exit status, same lines.

kubectl is built from the same ``k8s.io/kubernetes`` release as the API server (the
``kubectl`` binary of the control-plane build). Each scenario runs twice, once per tool,
each in a fresh namespace prepared the same way; a background action (a status write, a
deletion, a creation) happens the same time after each command starts. Both must exit
with the same status and print the same success lines; where kubectl's error line is
deterministic, kwait's first error line must be the same.

Tests of internals: `kwait wait` runs in-process through the command line's runner
(`kwait._cli.run_command`), which `kwait.__main__.main` routes to.
"""

from __future__ import annotations

import io
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from kwait._cli import run_command
from tests.controlplane.build import ControlPlaneUnavailableError, locate
from tests.controlplane.fixtures import REQUIRE_ENV, KubeCluster, model, unique_name
from tests.controlplane.pytest_plugin import _wait_for_default_service_account

pytestmark = pytest.mark.integration

Api = k8s.ApiClient
Step = Callable[[Api, str], None]


@pytest.fixture(scope="module")
def kubectl() -> Path:
    """The kubectl built from the control plane's Kubernetes release."""
    try:
        return locate(["kubectl"])["kubectl"]
    except ControlPlaneUnavailableError as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"no kubectl to compare with: {exc}", pytrace=False)
        pytest.skip(f"no kubectl to compare with: {exc}")


# ---------------------------------------------------------------- objects and actions


def pod(name: str, labels: dict[str, str] | None = None) -> Step:
    """Create a pod no scheduler binds and no kwok touches: only the test writes its status."""

    def create(api: Api, ns: str) -> None:
        body = {
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {
                "schedulerName": "kwait-nobody",
                "containers": [{"name": "app", "image": "registry.invalid/app:1"}],
            },
        }
        k8s.CoreV1Api(api).create_namespaced_pod(ns, model(k8s.V1Pod, body))

    return create


def ready(name: str, status: str = "True") -> Step:
    """Write the pod's Ready condition."""

    def write(api: Api, ns: str) -> None:
        cond = {"type": "Ready", "status": status, "lastTransitionTime": None}
        k8s.CoreV1Api(api).patch_namespaced_pod_status(name, ns, {"status": {"conditions": [cond]}})

    return write


def configmap(name: str, data: dict[str, str] | None = None, **labels: str) -> Step:
    """Create a ConfigMap; a label value ``{ns}`` becomes the namespace's name."""

    def create(api: Api, ns: str) -> None:
        named = {k: v.replace("{ns}", ns) for k, v in labels.items()}
        body = {"metadata": {"name": name, "labels": named}, "data": data or {}}
        k8s.CoreV1Api(api).create_namespaced_config_map(ns, model(k8s.V1ConfigMap, body))

    return create


def set_data(name: str, **data: str) -> Step:
    """Patch a ConfigMap's data."""

    def patch(api: Api, ns: str) -> None:
        k8s.CoreV1Api(api).patch_namespaced_config_map(name, ns, {"data": data})

    return patch


def delete_configmap(name: str) -> Step:
    """Delete a ConfigMap."""

    def delete(api: Api, ns: str) -> None:
        k8s.CoreV1Api(api).delete_namespaced_config_map(name, ns)

    return delete


def deployment(name: str) -> Step:
    """Create a one-replica Deployment (its pods stay unscheduled)."""

    def create(api: Api, ns: str) -> None:
        labels = {"app": name}
        body = {
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "schedulerName": "kwait-nobody",
                        "containers": [{"name": "app", "image": "registry.invalid/app:1"}],
                    },
                },
            },
        }
        k8s.AppsV1Api(api).create_namespaced_deployment(ns, model(k8s.V1Deployment, body))

    return create


@dataclass(frozen=True)
class Scenario:
    """Arguments for both tools, the namespace's setup, and an action during the wait."""

    id: str
    args: tuple[str, ...]
    setup: tuple[Step, ...] = ()
    action: tuple[Step, ...] = ()
    delay: float = 1.0
    same_error: bool = False
    expect_exit: int = 0
    expect_lines: tuple[str, ...] | None = field(default=None)


SCENARIOS = [
    Scenario(
        "condition-already-true",
        ("--for=condition=Ready", "pod/web-0"),
        (pod("web-0"), ready("web-0")),
        expect_lines=("pod/web-0 condition met",),
    ),
    Scenario(
        "condition-becomes-true",
        ("--for=condition=Ready", "pod/web-0", "--timeout=30s"),
        (pod("web-0"),),
        (ready("web-0"),),
        expect_lines=("pod/web-0 condition met",),
    ),
    Scenario(
        "condition-false",
        ("--for=condition=Ready=false", "pod/web-0"),
        (pod("web-0"), ready("web-0", "False")),
        expect_lines=("pod/web-0 condition met",),
    ),
    Scenario(
        "condition-case-insensitive",
        ("--for=condition=ready=FALSE", "pod/web-0"),
        (pod("web-0"), ready("web-0", "False")),
    ),
    Scenario(
        "jsonpath-phase",
        ("--for=jsonpath={.status.phase}=Pending", "pod/web-0"),
        (pod("web-0"),),
        expect_lines=("pod/web-0 condition met",),
    ),
    Scenario(
        "jsonpath-value-later",
        ("--for=jsonpath={.data.mode}=on", "configmap/settings", "--timeout=30s"),
        (configmap("settings", {"mode": "off"}),),
        (set_data("settings", mode="on"),),
        expect_lines=("configmap/settings condition met",),
    ),
    Scenario(
        "jsonpath-exists-relaxed",
        ("--for=jsonpath=.data.mode", "configmap/settings", "--timeout=30s"),
        (configmap("settings"),),
        (set_data("settings", mode="on"),),
    ),
    Scenario(
        "delete",
        ("--for=delete", "configmap/settings", "--timeout=30s"),
        (configmap("settings"),),
        (delete_configmap("settings"),),
        expect_lines=("configmap/settings condition met",),
    ),
    Scenario(
        "delete-missing",
        ("--for=delete", "configmap/missing"),
        expect_lines=(),
    ),
    Scenario(
        "create",
        ("--for=create", "configmap/settings", "--timeout=30s"),
        action=(configmap("settings"),),
        expect_lines=("configmap/settings condition met",),
    ),
    Scenario(
        "create-then-jsonpath",
        ("--for=create", "--for=jsonpath={.data.mode}=on", "configmap/settings", "--timeout=30s"),
        action=(configmap("settings", {"mode": "on"}),),
        expect_lines=("configmap/settings condition met", "configmap/settings condition met"),
    ),
    Scenario(
        "selector",
        ("configmaps", "-l", "app=web", "--for=jsonpath={.data.mode}=on", "--timeout=30s"),
        (configmap("a", {"mode": "on"}, app="web"), configmap("b", {"mode": "off"}, app="web")),
        (set_data("b", mode="on"),),
        expect_lines=("configmap/a condition met", "configmap/b condition met"),
    ),
    Scenario(
        "all",
        ("pods", "--all", "--for=jsonpath={.status.phase}=Pending"),
        (pod("a"), pod("b")),
        expect_lines=("pod/a condition met", "pod/b condition met"),
    ),
    Scenario(
        "names-type-then-names",
        ("configmaps", "a", "b", "--for=jsonpath={.data.mode}=on"),
        (configmap("a", {"mode": "on"}), configmap("b", {"mode": "on"})),
        expect_lines=("configmap/a condition met", "configmap/b condition met"),
    ),
    Scenario(
        "timeout-zero-met",
        ("--for=condition=Ready", "pod/web-0", "--timeout=0"),
        (pod("web-0"), ready("web-0")),
        expect_lines=("pod/web-0 condition met",),
    ),
    Scenario(
        "timeout-zero-not-met",
        ("--for=condition=Ready", "pod/web-0", "--timeout=0"),
        (pod("web-0"),),
        same_error=True,
        expect_exit=1,
    ),
    Scenario(
        "timeout",
        ("--for=condition=Ready", "pod/web-0", "--timeout=2s"),
        (pod("web-0"),),
        same_error=True,
        expect_exit=1,
    ),
    Scenario(
        "not-found",
        ("--for=condition=Ready", "pod/missing", "--timeout=2s"),
        same_error=True,
        expect_exit=1,
    ),
    Scenario(
        "no-matching-resources",
        ("pods", "-l", "app=none", "--for=condition=Ready", "--timeout=2s"),
        same_error=True,
        expect_exit=1,
    ),
    Scenario(
        "group-resource-name",
        ("--for=jsonpath={.spec.replicas}=1", "deployment/web", "--timeout=10s"),
        (deployment("web"),),
        expect_lines=("deployment.apps/web condition met",),
    ),
    Scenario(
        "bad-timeout",
        ("--for=condition=Ready", "pod/web-0", "--timeout=30"),
        same_error=True,
        expect_exit=1,
    ),
    Scenario(
        "all-namespaces",
        ("configmaps", "-A", "-l", "run={ns}", "--for=jsonpath={.data.mode}=on"),
        (configmap("a", {"mode": "on"}, run="{ns}"), configmap("b", {"mode": "on"}, run="{ns}")),
        expect_lines=("configmap/a condition met", "configmap/b condition met"),
    ),
    Scenario(
        "jsonpath-nested-object",
        ("--for=jsonpath={.metadata}=x", "configmap/settings", "--timeout=2s"),
        (configmap("settings"),),
        same_error=True,
        expect_exit=1,
    ),
    Scenario(
        "delete-timeout-zero-still-there",
        ("--for=delete", "configmap/settings", "--timeout=0"),
        (configmap("settings"),),
        same_error=True,
        expect_exit=1,
    ),
    Scenario(
        "create-then-delete-times-out",
        ("--for=create", "--for=delete", "configmap/settings", "--timeout=2s"),
        (configmap("settings"),),
        same_error=True,
        expect_exit=1,
        expect_lines=("configmap/settings condition met",),
    ),
    Scenario("unknown-condition", ("--for=ready", "pod/web-0"), same_error=True, expect_exit=1),
    Scenario(
        "negative-timeout-means-a-week",
        ("--for=condition=Ready", "pod/web-0", "--timeout=-1s"),
        (pod("web-0"),),
        (ready("web-0"),),
        expect_lines=("pod/web-0 condition met",),
    ),
    Scenario(
        "delete-selector-none",
        ("configmaps", "-l", "app=none", "--for=delete"),
        expect_lines=(),
    ),
    Scenario(
        "field-selector",
        ("pods", "--field-selector=metadata.name=b", "--for=jsonpath={.status.phase}=Pending"),
        (pod("a"), pod("b")),
        expect_lines=("pod/b condition met",),
    ),
]


@dataclass
class Result:
    """What one tool did: its exit status, its stdout lines, its stderr lines."""

    code: int
    lines: list[str]
    errors: list[str]


@pytest.fixture
def fresh_namespace(kube_api_client: Api) -> Iterator[Callable[[str], str]]:
    """Make namespaces (deleted afterwards), with their default service account."""
    core = k8s.CoreV1Api(kube_api_client)
    made: list[str] = []

    def make(hint: str) -> str:
        name = unique_name("kw-cli", hint)
        meta = {"name": name, "labels": {"kwait.dev/test": "true"}}
        core.create_namespace(model(k8s.V1Namespace, {"metadata": meta}))
        made.append(name)
        _wait_for_default_service_account(core, name)
        return name

    yield make
    for name in made:
        core.delete_namespace(name, propagation_policy="Background")


def _run(tool: Callable[[list[str]], Result], scenario: Scenario, api: Api, ns: str) -> Result:
    for step in scenario.setup:
        step(api, ns)
    timers = [threading.Timer(scenario.delay, step, (api, ns)) for step in scenario.action]
    for timer in timers:
        timer.start()
    try:
        args = [a.replace("{ns}", ns) for a in scenario.args]
        where = [] if "-A" in args else ["-n", ns]
        return tool(["wait", *args, *where])
    finally:
        for timer in timers:
            timer.join()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_kwait_wait_answers_as_kubectl_wait(
    scenario: Scenario,
    kubectl: Path,
    kube_cluster: KubeCluster,
    kube_api_client: Api,
    fresh_namespace: Callable[[str], str],
) -> None:
    """Same exit status and success lines as kubectl wait (and its error line where fixed)."""
    kubeconfig = str(kube_cluster.kubeconfig)

    def with_kubectl(argv: list[str]) -> Result:
        done = subprocess.run(  # noqa: S603 - the built kubectl, fixed arguments
            [str(kubectl), "--kubeconfig", kubeconfig, *argv],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout.splitlines(), done.stderr.splitlines())

    def with_kwait(argv: list[str]) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = run_command(argv[0], [*argv[1:], "--kubeconfig", kubeconfig], out=out, err=err)
        return Result(code, out.getvalue().splitlines(), err.getvalue().splitlines())

    theirs = _run(with_kubectl, scenario, kube_api_client, fresh_namespace(scenario.id + "-k"))
    ours = _run(with_kwait, scenario, kube_api_client, fresh_namespace(scenario.id + "-w"))
    context: dict[str, Any] = {"kubectl": theirs, "kwait": ours}
    assert theirs.code == scenario.expect_exit, context
    assert ours.code == theirs.code, context
    assert ours.lines == theirs.lines, context
    if scenario.expect_lines is not None:
        assert ours.lines == list(scenario.expect_lines), context
    if scenario.same_error:
        assert ours.errors[:1] == theirs.errors[:1], context
    if scenario.id == "timeout":  # and then kwait's story: the recorded timeline
        assert any(line.strip().startswith("timeline (") for line in ours.errors), context
