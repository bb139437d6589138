"""Latency: how soon a tracker sees a write, and how soon a wait returns after one.

A writer patches one pod's annotations at a fixed rate (200 and 1,000 writes/s) through the
official client while a tracker watches the pod. For every write, the time from sending the
PATCH to the tracker recording its resourceVersion is one "write -> observation" sample.
Then, one write at a time, the time from sending a PATCH to ``tracker.wait_for(...)``
returning on it is one "write -> wait_for" sample. The table gives p50 and p99 of each, and
the rate the writer actually reached.

Run::

    python benchmarks/latency.py                      # kwait.testing.FakeApiServer
    python benchmarks/latency.py --control-plane      # kube-apiserver (built from Go modules)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kwait
from kwait.testing import FakeApiServer


@contextlib.contextmanager
def cluster(control_plane: bool) -> Iterator[Any]:  # noqa: FBT001
    """Yield an ApiClient on the fake server or on the local control plane."""
    if control_plane:
        from tests.controlplane.fixtures import open_cluster  # noqa: PLC0415

        kube = open_cluster(log=lambda line: print(line, file=sys.stderr))
        try:
            yield kube.api_client()
        finally:
            kube.close()
    else:
        with FakeApiServer(kubelet=False, history_size=50_000) as server:
            yield k8s_config.new_client_from_config_dict(server.kubeconfig_dict())


def make_pod(api: Any) -> tuple[str, str]:
    """A namespace with one pod that nothing schedules; return (namespace, name)."""
    core: Any = k8s.CoreV1Api(api)  # dict bodies and raw answers: untyped use
    namespace = f"kwait-latency-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": namespace}})
    pod = {
        "metadata": {"name": "target"},
        "spec": {
            "schedulerName": "kwait-nobody",
            "containers": [{"name": "app", "image": "registry.invalid/app:1"}],
        },
    }
    for _ in range(100):  # kube-apiserver: the "default" service account must exist first
        try:
            core.create_namespaced_pod(namespace, pod)
            break
        except k8s.ApiException as error:
            if error.status != 403:  # noqa: PLR2004
                raise
            time.sleep(0.1)
    return namespace, "target"


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1e3, p99 * 1e3


def observation_latency(api: Any, rate: float, seconds: float) -> tuple[list[float], float]:
    """Write at `rate` for `seconds`; return write->observation samples and the rate reached."""
    namespace, name = make_pod(api)
    core: Any = k8s.CoreV1Api(api)  # dict bodies and raw answers: untyped use
    sent: dict[str, float] = {}
    with kwait.track("pods", name, namespace=namespace, api_client=api) as tracker:
        start = time.monotonic()
        writes = int(rate * seconds)
        for i in range(writes):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            began = time.monotonic()
            patch = {"metadata": {"annotations": {"kwait.dev/write": str(i)}}}
            written = core.patch_namespaced_pod(name, namespace, patch, _preload_content=False)
            sent[str(json.loads(written.data)["metadata"]["resourceVersion"])] = began
        reached = writes / (time.monotonic() - start)
        tracker.sync()
        seen = {
            o.resource_version: o.time
            for o in tracker.timeline().observations
            if o.resource_version in sent
        }
    with contextlib.suppress(Exception):
        core.delete_namespace(namespace)
    return [seen[rv] - sent[rv] for rv in sent if rv in seen], reached


def wait_latency(api: Any, writes: int) -> list[float]:
    """Write then wait for that write, one at a time; return write->return samples."""
    namespace, name = make_pod(api)
    core: Any = k8s.CoreV1Api(api)  # dict bodies and raw answers: untyped use
    samples = []
    with kwait.track("pods", name, namespace=namespace, api_client=api) as tracker:
        for i in range(writes):
            value = str(i)
            began = time.monotonic()
            patch = {"metadata": {"annotations": {"kwait.dev/write": value}}}
            core.patch_namespaced_pod(name, namespace, patch, _preload_content=False)
            tracker.wait_for(
                kwait.states.field_equals(("metadata", "annotations", "kwait.dev/write"), value),
                timeout=10,
            )
            samples.append(time.monotonic() - began)
    with contextlib.suppress(Exception):
        core.delete_namespace(namespace)
    return samples


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control-plane", action="store_true")
    parser.add_argument("--rates", type=float, nargs="*", default=[200.0, 1000.0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--waits", type=int, default=300)
    args = parser.parse_args()
    rows = []
    with cluster(args.control_plane) as api:
        for rate in args.rates:
            samples, reached = observation_latency(api, rate, args.seconds)
            p50, p99 = percentiles(samples)
            rows.append(
                [
                    "write -> observation",
                    f"{rate:,.0f}/s",
                    f"{reached:,.0f}/s",
                    f"{len(samples):,}",
                    f"{p50:.2f} ms",
                    f"{p99:.2f} ms",
                ]
            )
        samples = wait_latency(api, args.waits)
        p50, p99 = percentiles(samples)
        rows.append(
            [
                "write -> wait_for return",
                "one at a time",
                f"{len(samples) / sum(samples):,.0f}/s",
                f"{len(samples):,}",
                f"{p50:.2f} ms",
                f"{p99:.2f} ms",
            ]
        )
    backend = "kube-apiserver" if args.control_plane else "kwait.testing.FakeApiServer"
    print(f"\nlatency on {backend}\n")
    header = ["what", "asked rate", "reached", "samples", "p50", "p99"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
