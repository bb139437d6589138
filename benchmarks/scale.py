"""Scale: one selector over 100, 1,000 and 10,000 pods; LIST, memory, and a whole-set wait.

For each size N, a replay server in another process (benchmarks/replay.py) LISTs N realistic
pods that are not Ready, then (after a pause, so the wait is already running) streams
5 x N events: every pod restarts five times and is Ready after the fifth. A tracker on the
selector measures:

- LIST: seconds for ``tracker.start()`` (LIST, decode, record);
- memory per listed object: bytes Python holds for the recorded LIST (tracemalloc), less a
  tracker's fixed cost (measured on an empty LIST), next to the object's JSON size;
- a whole-set wait, ``tracker.wait_for("condition=Ready")`` over all N pods: whether it
  decided correctly (every pod Ready, after all 5 x N events), and the process's CPU time
  per event while it ran (engine thread and judge together);
- the byte budget: a tracker with ``max_bytes`` of a tenth of the stream's size, whose held
  bytes must stay within it (plus each pod's latest state).

Run::

    python benchmarks/scale.py                 # 100, 1,000, 10,000 pods
    python benchmarks/scale.py --sizes 100 1000
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from kubernetes import client as k8s

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay import NAMESPACE, ReplayServer, listed_body, pod

import kwait

RESTARTS = 5


def api_client(url: str) -> Any:
    """An official ApiClient for the replay server."""
    configuration = k8s.Configuration()
    configuration.host = url
    return k8s.ApiClient(configuration)


def held_after_start(url: str) -> tuple[int, int]:
    """Bytes Python holds for a started tracker (tracemalloc), and the objects it listed."""
    api = api_client(url)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracker = kwait.track("pods", namespace=NAMESPACE, api_client=api).start()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    listed = len(tracker.recorder.present()[1])
    tracker.stop()
    api.close()
    return held, listed


def list_time(url: str, size: int) -> float:
    """Seconds for ``tracker.start()`` on N listed pods: LIST, decode, record."""
    api = api_client(url)
    began = time.perf_counter()
    tracker = kwait.track("pods", namespace=NAMESPACE, api_client=api).start()
    took = time.perf_counter() - began
    assert len(tracker.recorder.present()[1]) == size  # noqa: S101 - a benchmark's sanity check
    tracker.stop()
    api.close()
    return took


def whole_set_wait(url: str, size: int) -> tuple[bool, float, int]:
    """Run the wait: (decided correctly, CPU seconds per event, events seen)."""
    api = api_client(url)
    with kwait.track("pods", namespace=NAMESPACE, api_client=api) as tracker:
        cpu = time.process_time()
        timelines = tracker.wait_for("condition=Ready", timeout=600)
        cpu = time.process_time() - cpu
        events = tracker.recorder.stats.events
    api.close()
    ready = all(
        any(c["type"] == "Ready" and c["status"] == "True" for c in obj["status"]["conditions"])
        for t in timelines
        if (last := t.last) is not None and (obj := last.object) is not None
    )
    correct = ready and len(timelines) == size and events == RESTARTS * size
    return correct, cpu / max(events, 1), events


def budget(url: str, size: int) -> tuple[int, int, int]:
    """(budget, bytes held at the end, bytes of the latest states) for a small budget."""
    stream_bytes = len(listed_body(1)) * size * (RESTARTS + 1)
    limit = stream_bytes // 10
    api = api_client(url)
    with kwait.track("pods", namespace=NAMESPACE, api_client=api, max_bytes=limit) as tracker:
        tracker.wait_for("condition=Ready", timeout=600)
        held = tracker.recorder.stored_bytes
        latest = sum(o.size for o in tracker.recorder.present()[1])
    api.close()
    return limit, held, latest


def main() -> int:
    """Measure each size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 1_000, 10_000])
    args = parser.parse_args()
    rows = []
    per_event: dict[int, float] = {}
    with ReplayServer(0) as url:  # a tracker's fixed cost: an empty LIST
        held_after_start(url)  # warm up imports and caches
        fixed, _ = held_after_start(url)
    for size in args.sizes:
        json_size = len(json.dumps(pod(0, ready_at=RESTARTS), separators=(",", ":")))
        with ReplayServer(0, objects=size, listed=True, ready_at=RESTARTS) as url:
            took = list_time(url, size)
            total, listed = held_after_start(url)
            held = (total - fixed) / listed
        with ReplayServer(
            RESTARTS * size, objects=size, listed=True, ready_at=RESTARTS, watch_delay=1.0
        ) as url:
            correct, cpu, events = whole_set_wait(url, size)
            limit, kept, latest = budget(url, size)
        per_event[size] = cpu
        rows.append(
            [
                f"{size:,}",
                f"{took:.2f} s",
                f"{held:,.0f} B",
                f"{held / json_size:.2f}x",
                f"{events:,}",
                "yes" if correct else "NO",
                f"{cpu * 1e6:,.1f} us",
                f"{kept:,} <= {limit:,} + {latest:,}"
                if kept <= limit + latest
                else f"OVER {kept:,}",
            ]
        )
    header = [
        "pods",
        "LIST",
        "memory/pod (less the fixed cost)",
        "x JSON",
        "events",
        "all Ready right",
        "CPU/event",
        "budget held (budget + latest)",
    ]
    item = len(json.dumps(pod(0, ready_at=RESTARTS), separators=(",", ":")))
    print(f"\none selector; each pod's JSON is {item:,} bytes\n")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    if len(per_event) > 1:
        small, large = min(per_event), max(per_event)
        ratio = per_event[large] / per_event[small]
        print(f"\nCPU per event at {large:,} pods / at {small:,} pods: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
