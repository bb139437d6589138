"""Watch ingest: kwait's tracker end to end, next to what users would use instead.

One recorded stream (10,000 events of a realistic pod by default) is served by a replay
server in another process (benchmarks/replay.py), so only the client is measured. Five
contenders read the same stream, in interleaved rounds:

- ``kwait track``: ``kwait.track("pods", namespace=...)``, started (LIST), until every event
  is recorded in its timeline: what a test gets when it records;
- ``kwait track + wait``: the same with ``tracker.wait_for(...)`` evaluating a container-status
  state on every event (users wait while they record);
- ``official typed``: ``watch.Watch().stream(CoreV1Api.list_namespaced_pod, ...)``, each event
  deserialized into a ``V1Pod``;
- ``official raw``: the same with ``deserialize=False`` (dicts from ``json.loads``);
- ``json.loads floor``: urllib3 streaming the response, split into lines, ``json.loads`` each,
  nothing kept: the floor any Python client pays.

Run::

    python benchmarks/ingest.py                    # 3 KB pods
    python benchmarks/ingest.py --managed-fields   # 6 KB pods with managedFields
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import watch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay import NAMESPACE, ReplayServer, event_bytes

import kwait

Contender = Callable[[str, int], float]


def api_client(url: str) -> Any:
    """An official ApiClient for the replay server."""
    configuration = k8s.Configuration()
    configuration.host = url
    return k8s.ApiClient(configuration)


def run_kwait(url: str, events: int) -> float:
    """Seconds for a tracker to record every event."""
    api = api_client(url)
    began = time.perf_counter()
    with kwait.track("pods", namespace=NAMESPACE, api_client=api) as tracker:
        recorder = tracker.recorder
        seen = 0
        while seen < events:
            seen += len(recorder.wait_for_entries(seen, 60))
            if recorder.closed:
                raise RuntimeError("tracker stopped")
    took = time.perf_counter() - began
    api.close()
    return took


def _restarts(pod: Any) -> Any:
    return pod["status"]["containerStatuses"][0]["restartCount"]


def run_kwait_wait(url: str, events: int) -> float:
    """Seconds for a tracker to record every event while a wait evaluates each one."""
    api = api_client(url)
    began = time.perf_counter()
    last = events - 1
    with kwait.track("pods", namespace=NAMESPACE, api_client=api) as tracker:
        tracker.wait_for(lambda pod: _restarts(pod) >= last, name="web-0", timeout=120)
    took = time.perf_counter() - began
    api.close()
    return took


def run_typed(url: str, events: int) -> float:
    """Seconds for the official typed Watch.stream to deliver every event."""
    api = api_client(url)
    core = k8s.CoreV1Api(api)
    began = time.perf_counter()
    w = watch.Watch()
    for seen, _ in enumerate(w.stream(core.list_namespaced_pod, NAMESPACE, resource_version="1")):
        if seen + 1 == events:
            w.stop()
            break
    took = time.perf_counter() - began
    api.close()
    return took


def run_raw(url: str, events: int) -> float:
    """Seconds for the official Watch.stream with deserialize=False."""
    api = api_client(url)
    core = k8s.CoreV1Api(api)
    began = time.perf_counter()
    w = watch.Watch()
    stream = w.stream(core.list_namespaced_pod, NAMESPACE, resource_version="1", deserialize=False)
    for seen, _ in enumerate(stream):
        if seen + 1 == events:
            w.stop()
            break
    took = time.perf_counter() - began
    api.close()
    return took


def run_floor(url: str, events: int) -> float:
    """Seconds for urllib3 + line split + json.loads per event, nothing kept."""
    http = urllib3.PoolManager()
    began = time.perf_counter()
    response = http.request(
        "GET",
        f"{url}/api/v1/namespaces/{NAMESPACE}/pods?watch=true&resourceVersion=1",
        preload_content=False,
    )
    seen = 0
    buffer = b""
    for chunk in response.stream(65536):
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            json.loads(line)
            seen += 1
        if seen >= events:
            break
    took = time.perf_counter() - began
    response.release_conn()
    http.clear()
    return took


CONTENDERS: dict[str, Contender] = {
    "kwait track": run_kwait,
    "kwait track + wait": run_kwait_wait,
    "official typed": run_typed,
    "official raw": run_raw,
    "json.loads floor": run_floor,
}


def main() -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--managed-fields", action="store_true", help="6 KB pods")
    parser.add_argument("--only", nargs="*", choices=list(CONTENDERS), help="a subset")
    args = parser.parse_args()
    chosen = {k: v for k, v in CONTENDERS.items() if not args.only or k in args.only}
    size = event_bytes(args.managed_fields)
    seconds: dict[str, list[float]] = {name: [] for name in chosen}
    with ReplayServer(args.events, managed_fields=args.managed_fields) as url:
        for run in chosen.values():  # warm up imports and connections
            run(url, min(args.events, 200))
        for _ in range(args.rounds):
            for name, run in chosen.items():
                seconds[name].append(run(url, args.events))
    print(
        f"\n{args.events:,} watch events of {size:,} bytes from a replay server in another "
        f"process; {args.rounds} interleaved rounds, median:\n"
    )
    floor = statistics.median(seconds.get("json.loads floor", [float("nan")]))
    typed = statistics.median(seconds.get("official typed", [float("nan")]))
    header = ["contender", "events/s", "MB/s", "x typed", "% of floor"]
    rows = []
    for name, values in seconds.items():
        med = statistics.median(values)
        rows.append(
            [
                name,
                f"{args.events / med:,.0f}",
                f"{args.events * size / med / 1e6:,.1f}",
                f"{typed / med:.1f}x",
                f"{floor / med * 100:.0f} %",
            ]
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
