"""`kwait record` around a command, then `kwait show --svg`, on the real control plane (kwok).

Tests of internals: the subcommands run in-process through the command line's runner
(`kwait._cli.run_command`), which `kwait.__main__.main` routes to.
"""

from __future__ import annotations

import io
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from kubernetes import client as k8s

from kwait._cli import run_command
from tests.controlplane.fixtures import KubeCluster

pytestmark = pytest.mark.integration

SVG = "{http://www.w3.org/2000/svg}"
CYCLE = "ErrImagePull, ImagePullBackOff, ErrImagePull, ImagePullBackOff"


def test_record_a_command_and_draw_the_image_pull_cycle(
    kube_cluster: KubeCluster, kube_api_client: k8s.ApiClient, namespace: str, tmp_path: Path
) -> None:
    """The recording covers the command's run; the picture has the cycle's spans in order."""
    kube_cluster.require_stages()
    kubeconfig = str(kube_cluster.kubeconfig)
    body = kube_cluster.pod(
        "virt-launcher",
        lifecycle="image-pull-failure",
        labels={"test": "cli-record"},
        annotations={
            "kwait.dev/err-image-pull-duration": "300ms",
            "kwait.dev/image-pull-backoff-duration": "300ms",
        },
    )
    core = k8s.CoreV1Api(kube_api_client)
    timer = threading.Timer(1.0, core.create_namespaced_pod, (namespace, body))
    timer.start()
    record = tmp_path / "run.jsonl"
    command = [sys.executable, "-m", "kwait", "wait", "pod/virt-launcher", "-n", namespace]
    command += ["--kubeconfig", kubeconfig, "--for=create", "--timeout=90s"]
    command += ["--expect", f"waiting_reason: {CYCLE}"]
    out, err = io.StringIO(), io.StringIO()
    code = run_command(
        "record",
        [
            "pods",
            "-l",
            "test=cli-record",
            "-n",
            namespace,
            "--kubeconfig",
            kubeconfig,
            "-o",
            str(record),
            "--plain",
            "--state",
            "waiting_reason",
            "--",
            *command,
        ],
        out=out,
        err=err,
    )
    timer.join()
    assert code == 0, err.getvalue()

    picture = tmp_path / "run.svg"
    assert run_command("show", [str(record), "--svg", str(picture)], out=out, err=err) == 0
    root = ET.parse(picture).getroot()  # noqa: S314 - kwait's own output
    [lane] = [g for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert lane.get("data-object") == f"pod/{namespace}/virt-launcher"
    spans = [r.get("data-state") for r in lane.iter(f"{SVG}rect") if r.get("class") == "span"]
    cycle = [s for s in spans if s in ("ErrImagePull", "ImagePullBackOff")]
    assert cycle[:4] == CYCLE.split(", ")
