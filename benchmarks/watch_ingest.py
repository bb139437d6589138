"""How fast kwait ingests watch events, next to the official client, over the same stream.

Both consumers watch the same namespace from the same resourceVersion, so the
API server replays the same events (from its watch cache) to each:

- kwait: the adapter's raw-JSON watch stream into a timeline `Recorder`
  (what a tracker does for every event);
- kubernetes: ``watch.Watch().stream(CoreV1Api.list_namespaced_pod, ...)``,
  which deserializes every event into a ``V1Pod``.

Rounds alternate (kwait, kubernetes, kwait, ...) so machine noise hits both;
the table gives each round and the median, and the ratio of the medians.

Run it against the local control plane (built from Go modules, see
docs/explanation/test-ground.md), any cluster, or the in-process fake::

    python benchmarks/watch_ingest.py --control-plane
    python benchmarks/watch_ingest.py --kubeconfig ~/.kube/config
    python benchmarks/watch_ingest.py --fake
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kwait._watch.kube import KubeHttp, KubeWatchSource
from kwait._watch.resources import ResourceInfo
from kwait.watch import Recorder

PODS = ResourceInfo("", "v1", "pods", "Pod", namespaced=True, singular="pod")


@contextlib.contextmanager
def cluster(args: argparse.Namespace) -> Iterator[Any]:
    """Yield an ApiClient for the chosen backend."""
    if args.fake:
        from kwait.testing import FakeApiServer  # noqa: PLC0415

        with FakeApiServer(kubelet=False, history_size=args.events + 100) as server:
            yield k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
    elif args.control_plane:
        from tests.controlplane.fixtures import open_cluster  # noqa: PLC0415

        kube = open_cluster(log=lambda line: print(line, file=sys.stderr))
        try:
            yield kube.api_client()
        finally:
            kube.close()
    else:
        yield k8s_config.new_client_from_config(config_file=args.kubeconfig)


def prepare(api: Any, events: int) -> tuple[str, str]:
    """Make a namespace with one pod and `events` status writes; return (namespace, start RV)."""
    core = k8s.CoreV1Api(api)
    namespace = f"kwait-bench-{uuid.uuid4().hex[:6]}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    pod = k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="bench"),
        spec=k8s.V1PodSpec(
            scheduler_name="kwait-nobody",
            containers=[k8s.V1Container(name="app", image="registry.invalid/app:1")],
        ),
    )
    for _ in range(100):  # the service-account controller must create "default" first
        try:
            core.create_namespaced_pod(namespace, pod)
            break
        except k8s.ApiException as exc:
            if exc.status != 403 or "serviceaccount" not in str(exc.body):  # noqa: PLR2004
                raise
            time.sleep(0.1)
    listed = core.list_namespaced_pod(namespace).metadata
    start = str(listed.resource_version) if listed else ""
    for i in range(events):
        core.patch_namespaced_pod_status("bench", namespace, {"status": {"message": f"w{i}"}})
    return namespace, start


def run_kwait(api: Any, namespace: str, start: str, events: int) -> float:
    """Events per second through kwait's stream into a Recorder."""
    source = KubeWatchSource(KubeHttp(api), PODS, namespace=namespace)
    recorder = Recorder(clock=None)
    began = time.perf_counter()
    stream = source.watch(start, 120)
    seen = 0
    for event in stream:
        if event.type == "BOOKMARK":
            continue
        recorder.add_observation(event.type, event.object)
        seen += 1
        if seen == events:
            break
    stream.close()
    return seen / (time.perf_counter() - began)


def run_official(api: Any, namespace: str, start: str, events: int) -> float:
    """Events per second through the official client's Watch.stream (typed V1Pod)."""
    core = k8s.CoreV1Api(api)
    stream = watch.Watch()
    began = time.perf_counter()
    seen = 0
    for event in stream.stream(
        core.list_namespaced_pod, namespace, resource_version=start, timeout_seconds=120
    ):
        if event["type"] == "BOOKMARK":
            continue
        seen += 1
        if seen == events:
            stream.stop()
            break
    return seen / (time.perf_counter() - began)


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    backend = parser.add_mutually_exclusive_group(required=True)
    backend.add_argument("--kubeconfig", help="a cluster's kubeconfig")
    backend.add_argument("--control-plane", action="store_true", help="start the local one")
    backend.add_argument("--fake", action="store_true", help="use kwait.testing.FakeApiServer")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    consumers: dict[str, Callable[[Any, str, str, int], float]] = {
        "kwait (raw JSON -> timeline)": run_kwait,
        "kubernetes Watch.stream (V1Pod)": run_official,
    }
    with cluster(args) as api:
        namespace, start = prepare(api, args.events)
        rates: dict[str, list[float]] = {name: [] for name in consumers}
        for _ in range(args.rounds):
            for name, run in consumers.items():
                rates[name].append(run(api, namespace, start, args.events))
        with contextlib.suppress(Exception):
            k8s.CoreV1Api(api).delete_namespace(namespace)
    backend_name = "fake" if args.fake else "control plane" if args.control_plane else "cluster"
    print(f"\n{args.events} events replayed from one resourceVersion ({backend_name}), events/s:\n")
    header = ["consumer", *(f"round {i + 1}" for i in range(args.rounds)), "median"]
    rows = [
        [name, *(f"{r:,.0f}" for r in values), f"{statistics.median(values):,.0f}"]
        for name, values in rates.items()
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    ours, theirs = (statistics.median(v) for v in rates.values())
    print(f"\nratio kwait / official client: {ours / theirs:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
