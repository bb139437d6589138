"""Time saved by fail-fast waits: ten waits on broken objects, with and without failure signs.

On the in-process fake API server (its scripted kubelet and Job controller break things on
cue) ten waits run one after the other, each as a test suite would write it:
``condition=Ready`` on a pod, ``condition=Complete`` on a Job. Every object is broken, so
every wait without fail-fast runs to its timeout; with fail-fast each stops at its sign.

The suite's waits are meant as 120 s waits. Ten of them without fail-fast would take 20
minutes of wall time, so the "without" column runs with a shorter *real* timeout
(``--timeout``, 5 s by default) and the table also gives the figure for 120 s: a wait
without fail-fast costs its whole timeout, a fail-fast wait costs only the time to its sign,
whatever the timeout. ``--timeout 120`` measures the real thing.

    python benchmarks/fail_fast.py
    python benchmarks/fail_fast.py --timeout 120
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import kwait
from kwait import signs
from kwait.testing import LIFECYCLE_LABEL, FakeApiServer

# The official client is only partly typed; manifests go in as plain dicts.
client: Any = k8s

NOMINAL = 120.0


@dataclass(frozen=True)
class Case:
    """One broken object and the wait a test suite would put on it."""

    name: str
    what: str
    resource: str
    until: str
    manifest: dict[str, Any]
    fail_on: Any = None  # signs that might clear, asked for explicitly


def pod(name: str, lifecycle: str, **annotations: str) -> dict[str, Any]:
    """A pod with a broken lifecycle and 100 ms steps."""
    return {
        "metadata": {
            "name": name,
            "labels": {LIFECYCLE_LABEL: lifecycle},
            "annotations": {"kwait.dev/step-delay-ms": "100", **annotations},
        },
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }


def job(name: str) -> dict[str, Any]:
    """A Job whose pod exits 1 after 300 ms (backoffLimit 0)."""
    return {
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {
                    "labels": {LIFECYCLE_LABEL: "complete"},
                    "annotations": {
                        "kwait.dev/exit-code": "1",
                        "kwait.dev/run-ms": "300",
                        "kwait.dev/step-delay-ms": "100",
                    },
                },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "app", "image": "busybox:1.36"}],
                },
            },
        },
    }


def cases(run: str) -> list[Case]:
    """The ten broken objects (names suffixed with `run`, so runs do not collide)."""
    crash = {"kwait.dev/backoff-ms": "200", "kwait.dev/run-ms": "100"}
    return [
        Case(f"bad-image-a-{run}", "invalid image name", "pods", "condition=Ready",
             pod(f"bad-image-a-{run}", "invalid-image")),
        Case(f"bad-image-b-{run}", "invalid image name", "pods", "condition=Ready",
             pod(f"bad-image-b-{run}", "invalid-image")),
        Case(f"migrate-{run}", "Job fails", "jobs", "condition=Complete", job(f"migrate-{run}")),
        Case(f"seed-{run}", "Job fails", "jobs", "condition=Complete", job(f"seed-{run}")),
        Case(f"one-shot-a-{run}", "completes, never Ready", "pods", "condition=Ready",
             pod(f"one-shot-a-{run}", "complete-unready")),
        Case(f"one-shot-b-{run}", "completes, never Ready", "pods", "condition=Ready",
             pod(f"one-shot-b-{run}", "complete-unready", **{"kwait.dev/exit-code": "2"})),
        Case(f"no-secret-{run}", "missing Secret", "pods", "condition=Ready",
             pod(f"no-secret-{run}", "config-error"), signs.create_container_config_error()),
        Case(f"crashy-{run}", "crash loop", "pods", "jsonpath={.status.phase}=Succeeded",
             pod(f"crashy-{run}", "crash-loop", **crash), signs.crash_loop(3)),
        Case(f"pull-{run}", "image pull fails", "pods", "condition=Ready",
             pod(f"pull-{run}", "image-pull-failure", **{"kwait.dev/backoff-ms": "200"}),
             signs.image_pull_failing(3)),
        Case(f"nowhere-{run}", "unschedulable", "pods", "condition=Ready",
             pod(f"nowhere-{run}", "unschedulable"), signs.unschedulable(grace=1.0)),
    ]  # fmt: skip


def create(api: Any, case: Case) -> Callable[[], object]:
    """The test's action: create the broken object."""
    if case.resource == "jobs":
        return lambda: client.BatchV1Api(api).create_namespaced_job("default", case.manifest)
    return lambda: client.CoreV1Api(api).create_namespaced_pod("default", case.manifest)


def run_one(api: Any, case: Case, timeout: float, *, fail_fast: bool) -> tuple[float, str]:
    """Run the case's wait; return its wall time and how it ended."""
    start = time.monotonic()
    try:
        kwait.wait_for(
            case.resource,
            case.name,
            api_client=api,
            until=case.until,
            act=create(api, case),
            timeout=timeout,
            fail_fast=fail_fast,
            fail_on=case.fail_on if fail_fast else None,
        )
    except kwait.errors.FailureSignError as err:
        return time.monotonic() - start, err.sign
    except kwait.WaitTimeoutError:
        return time.monotonic() - start, "timeout"
    return time.monotonic() - start, "passed (!)"


def main() -> int:
    """Run the suite twice and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="real seconds per wait")
    args = parser.parse_args()
    rows: list[list[str]] = []
    totals = {"with": 0.0, "without": 0.0}
    with FakeApiServer() as server:
        api = k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
        try:
            # Warm up (the client's lazy model imports, discovery) outside the measurement.
            warm_job = job("warm-up")
            warm_job["spec"]["template"]["metadata"]["annotations"]["kwait.dev/exit-code"] = "0"
            for case in (
                Case("warm-up", "", "pods", "condition=Ready", pod("warm-up", "normal-start")),
                Case("warm-up", "", "jobs", "condition=Complete", warm_job),
            ):
                kwait.wait_for(
                    case.resource, case.name, api_client=api, until=case.until,
                    act=create(api, case), timeout=30,
                )  # fmt: skip
            for with_case, without_case in zip(cases("ff"), cases("plain"), strict=True):
                fast, sign = run_one(api, with_case, args.timeout, fail_fast=True)
                slow, end = run_one(api, without_case, args.timeout, fail_fast=False)
                totals["with"] += fast
                totals["without"] += slow
                rows.append(
                    [with_case.what, with_case.until, sign, f"{fast:.2f}", f"{slow:.2f} ({end})"]
                )
        finally:
            api.close()
    n = len(rows)
    header = ["broken object", "wait", "stopped by", "fail-fast s", "without s"]
    rows.append(["total", "", "", f"{totals['with']:.2f}", f"{totals['without']:.2f}"])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{n} waits on broken objects, fake API server, timeout {args.timeout:g} s (real)\n")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    nominal_without = n * NOMINAL
    print(
        f"\nwith {NOMINAL:g} s timeouts: without fail-fast {nominal_without:.0f} s, "
        f"with fail-fast {totals['with']:.1f} s (a stop does not depend on the timeout): "
        f"{nominal_without - totals['with']:.0f} s saved, "
        f"{nominal_without / max(totals['with'], 1e-9):.0f}x faster"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
