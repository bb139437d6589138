"""Chaos benchmark: kwait's watch engine under cuts, 410s, 429/5xx bursts and stalls.

Prints tables, it is not a timed test. Three parts:

1. **Chaos** - one ConfigMap goes through ``--transitions`` writes (``data.v`` = 1..N)
   while faults hit the tracker's watch: dropped connections, 410 Gone (armed, and real
   compactions), 429/503 bursts with Retry-After, stalled requests. Then, from the
   tracker's timeline: *silent losses* (values skipped with no gap to say so),
   *duplicates* (a resourceVersion recorded twice), *wrong answers* (out of order, or a
   last state that is not the last write), requests per second, leaked threads and fds.
   On the in-process fake by default; with ``--control-plane`` also against
   kube-apiserver, through a proxy that cuts every connection every ``--cut-every`` s.
2. **Hostile servers** - 10 s each of a server that ends every watch after one
   (replayed) event, answers every watch with 410, or closes at once: WATCH and LIST
   requests per second.
3. **Leaks** - ``--calls`` one-call waits whose act raises, without ``api_client=``,
   and interrupted starts: threads, fds, ApiClient instances and RSS growth.

    python benchmarks/chaos.py                       # fake server, 10,000 transitions
    python benchmarks/chaos.py --control-plane       # and kube-apiserver behind a cutting proxy
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client as _k8s
from kubernetes import config as _k8s_config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kwait
from kwait import Gap, Observation
from kwait.testing import FakeApiServer

k8s: Any = _k8s
k8s_config: Any = _k8s_config


def fds() -> int:
    """Open file descriptors of this process."""
    return len(list(Path("/proc/self/fd").iterdir()))


def rss_mb() -> float:
    """Resident set size in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def api_clients() -> int:
    """Live ApiClient instances."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, k8s.ApiClient))


def tracker_threads() -> int:
    """Live kwait tracker threads."""
    return sum(1 for t in threading.enumerate() if t.name.startswith("kwait-tracker"))


def row(*cells: object) -> None:
    """Print one table row."""
    print("  ".join(f"{c!s:>14}" if i else f"{c!s:<34}" for i, c in enumerate(cells)))


# ---------------------------------------------------------------- 1. chaos


class CountingPool:
    """Wraps an ApiClient's urllib3 pool and counts the GETs (LIST, WATCH) made through it."""

    def __init__(self, pool: Any) -> None:
        """Wrap `pool`."""
        self.pool = pool
        self.requests: list[str] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        """Count a GET, then forward."""
        if method == "GET":
            self.requests.append(url)
        return self.pool.request(method, url, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """Everything else is the pool's."""
        return getattr(self.pool, name)


def judge(tracker: kwait.Tracker, last: int) -> tuple[int, int, int]:
    """(silent losses, duplicates, wrong answers) in the tracker's timeline of 'chaos'."""
    timeline = tracker.timeline("chaos")
    losses = duplicates = wrong = 0
    seen_rvs: set[str] = set()
    previous: int | None = None
    gap_since = False
    last_rv = -1
    for entry in timeline.entries:
        if isinstance(entry, Gap):
            gap_since = True
            continue
        if not isinstance(entry, Observation) or entry.object is None:
            continue
        if entry.resource_version in seen_rvs:
            duplicates += 1
        seen_rvs.add(entry.resource_version)
        rv = int(entry.resource_version)
        if rv < last_rv:
            wrong += 1
        last_rv = rv
        value = int((entry.object.get("data") or {}).get("v", "0"))
        if previous is not None and value > previous + 1 and not gap_since:
            losses += value - previous - 1
        if previous is not None and value <= previous and entry.type != "DELETED":
            wrong += 1
        previous = value
        gap_since = False
    if previous != last:
        wrong += 1
    return losses, duplicates, wrong


def write_all(api: Any, namespace: str, transitions: int) -> None:
    """Create the ConfigMap 'chaos' and write data.v = 1..transitions."""
    core = k8s.CoreV1Api(api)
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "chaos"}, "data": {"v": "0"}}
    )
    for i in range(1, transitions + 1):
        core.patch_namespaced_config_map("chaos", namespace, {"data": {"v": str(i)}})


def chaos_run(  # noqa: PLR0917 - one row of the table, every column a parameter
    label: str,
    writer_api: Any,
    tracker_api: Any,
    namespace: str,
    transitions: int,
    inject: Callable[[random.Random], str],
    requests: Callable[[], int],
    every: float,
) -> None:
    """Write `transitions` while `inject` runs every `every` s; print the verdict row."""
    files = fds()
    stop = threading.Event()
    injected: list[str] = []
    rng = random.Random(7)

    def chaos() -> None:
        while not stop.wait(every):
            injected.append(inject(rng))

    start = time.monotonic()
    before = requests()
    with kwait.track("configmaps", "chaos", namespace=namespace, api_client=tracker_api) as tracker:
        agent = threading.Thread(target=chaos, daemon=True)
        agent.start()
        write_all(writer_api, namespace, transitions)
        stop.set()
        agent.join()
        tracker.wait_for(f"jsonpath={{.data.v}}={transitions}", timeout=600)
    elapsed = time.monotonic() - start
    losses, duplicates, wrong = judge(tracker, transitions)
    stats = tracker.recorder.stats
    made = requests() - before
    gc.collect()
    row(
        label,
        losses,
        duplicates,
        wrong,
        f"{stats.gaps}/{stats.reconnects}",
        f"{made / elapsed:.2f}",
        f"{tracker_threads()}/{fds() - files}",
    )
    print(f"    {len(injected)} faults injected in {elapsed:.1f} s: "
          f"{', '.join(sorted({f.split(':')[0] for f in injected}))}")  # fmt: skip


def fake_inject(server: FakeApiServer) -> Callable[[random.Random], str]:
    """A fault injector for the fake server."""

    def inject(rng: random.Random) -> str:
        choice = rng.randrange(6)
        if choice == 0:
            server.faults.drop_watch(rng.randrange(5))
            return "cut"
        if choice == 1:
            server.faults.expire_watch(rng.randrange(5))
            return "410"
        if choice == 2:  # noqa: PLR2004
            server.compact()
            server.expire_open_watches()
            return "410 (compaction)"
        if choice == 3:  # noqa: PLR2004
            server.faults.fail_next(
                3, status=429, retry_after=1, verb=rng.choice(["WATCH", "LIST"])
            )
            return "429 burst"
        if choice == 4:  # noqa: PLR2004
            server.faults.fail_next(3, status=503, verb=rng.choice(["WATCH", "LIST"]))
            return "503 burst"
        server.faults.delay(2.0, count=1, verb="WATCH")
        return "stall"

    return inject


def part_chaos(args: argparse.Namespace) -> None:
    """Part 1 on the fake (and on kube-apiserver behind a cutting proxy)."""
    print(f"\n1. chaos: {args.transitions} transitions")
    row("backend", "silent losses", "duplicates", "wrong answers", "gaps/reconn.",
        "LIST+WATCH/s", "threads/+fds")  # fmt: skip
    with FakeApiServer(kubelet=False, history_size=2000) as server:
        server.requests = deque(maxlen=None)
        api = k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
        chaos_run(
            "fake server", api, api, "default", args.transitions, fake_inject(server),
            lambda: sum(r.verb in {"LIST", "WATCH"} for r in server.requests), args.fault_every,
        )  # fmt: skip
        api.close()
    if not args.control_plane:
        return
    from tests.controlplane.fixtures import open_cluster  # noqa: PLC0415

    kube = open_cluster(log=lambda line: print(line, file=sys.stderr))
    try:
        with kube.cutting_proxy() as proxy:
            direct = kube.api_client()
            core = k8s.CoreV1Api(direct)
            namespace = f"kwait-chaos-{os.getpid()}"
            core.create_namespace({"metadata": {"name": namespace}})

            def cut(_: random.Random) -> str:
                proxy.cut()
                return "cut"

            tracker_api: Any = proxy.api_client()
            counted = CountingPool(tracker_api.rest_client.pool_manager)
            tracker_api.rest_client.pool_manager = counted
            try:
                chaos_run(
                    "kube-apiserver (cutting proxy)", direct, tracker_api, namespace,
                    args.transitions, cut, lambda: len(counted.requests), args.cut_every,
                )  # fmt: skip
            finally:
                core.delete_namespace(namespace)
                direct.close()
    finally:
        kube.close()


# ---------------------------------------------------------------- 2. hostile servers


def part_hostile(seconds: float) -> None:
    """Part 2: request rates against three hostile fakes, in real time."""
    print(f"\n2. hostile servers, {seconds:g} s each (real time)")
    row("server", "WATCH/s", "LIST/s", "entries")
    scenarios: dict[str, Callable[[FakeApiServer], None]] = {
        "one event, then end (replayed)": lambda s: s.faults.end_watch(1, count=10**9, replay=True),
        "410 on every watch": lambda s: s.faults.expire_watch(count=10**9),
        "closes at once": lambda s: s.faults.drop_watch(0, count=10**9),
    }
    for label, arm in scenarios.items():
        with FakeApiServer(kubelet=False) as server:
            server.requests = deque(maxlen=None)
            api = k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
            k8s.CoreV1Api(api).create_namespaced_config_map("default", {"metadata": {"name": "x"}})
            arm(server)
            server.requests.clear()
            with kwait.track("configmaps", "x", api_client=api) as tracker:
                time.sleep(seconds)
            verbs = [r.verb for r in server.requests]
            row(
                label,
                f"{verbs.count('WATCH') / seconds:.2f}",
                f"{verbs.count('LIST') / seconds:.2f}",
                len(tracker.entries()),
            )
            api.close()


# ---------------------------------------------------------------- 3. leaks


def part_leaks(calls: int) -> None:
    """Part 3: threads, fds, ApiClients and RSS after `calls` of each kind of call."""
    print(f"\n3. leaks after {calls} calls of each kind")
    row("calls", "+threads", "+fds", "+ApiClients", "+RSS MB")
    with FakeApiServer(kubelet=False) as server, tempfile.TemporaryDirectory() as tmp:
        os.environ["KUBECONFIG"] = str(server.write_kubeconfig(Path(tmp) / "config"))
        api = k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
        k8s.CoreV1Api(api).create_namespaced_config_map("default", {"metadata": {"name": "x"}})

        def raising() -> None:
            raise RuntimeError

        def act_raises() -> None:
            with contextlib.suppress(RuntimeError):
                kwait.wait_for("configmaps", "x", until="create", api_client=api, act=raising)

        def no_client() -> None:
            kwait.wait_for("configmaps", "x", until="create", timeout=10)

        def interrupted() -> None:
            tracker = kwait.Tracker("configmaps", api_client=api)

            def ctrl_c(timeout: float | None) -> bool:  # noqa: ARG001
                raise KeyboardInterrupt

            tracker.recorder.wait_synced = ctrl_c  # type: ignore[method-assign]
            with contextlib.suppress(KeyboardInterrupt):
                tracker.start()

        for label, call in (
            ("act raises", act_raises),
            ("without api_client=", no_client),
            ("interrupted start", interrupted),
        ):
            call()  # warm up: the first call builds what later ones reuse
            gc.collect()
            threads, files, clients, rss = threading.active_count(), fds(), api_clients(), rss_mb()
            for _ in range(calls):
                call()
            gc.collect()
            row(
                label,
                threading.active_count() - threads,
                fds() - files,
                api_clients() - clients,
                f"{rss_mb() - rss:.1f}",
            )
        print(f"    kwait tracker threads still alive: {tracker_threads()}")
        api.close()


def main() -> int:
    """Run the chosen parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--control-plane", action="store_true")
    parser.add_argument("--cut-every", type=float, default=0.5)
    parser.add_argument("--fault-every", type=float, default=2.0)
    parser.add_argument(
        "--skip", default="", help="comma-separated parts to skip: chaos,hostile,leaks"
    )
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    if "chaos" not in skip:
        part_chaos(args)
    if "hostile" not in skip:
        part_hostile(args.seconds)
    if "leaks" not in skip:
        part_leaks(args.calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
