"""Does a kwait wait block the event loop, and what does a cancelled async wait leave behind?

Two measurements, on the in-process fake API server (real HTTP, the official client):

1. Loop ticks during a 0.5 s wait that times out: a task ticks every 10 ms while the
   test waits, (a) with the sync ``kwait.wait_for`` called inside the coroutine, (b) with
   it in ``asyncio.to_thread``, (c) with ``kwait.asyncio.wait_for``. The table gives the
   ticks counted and the longest gap between two ticks.
2. N cancelled one-call waits (``kwait.asyncio.wait_for`` on a pod that never comes,
   cancelled once its watch is open): threads, open file descriptors and asyncio tasks
   before and after (once the fake server's own handler threads have finished), and the
   time per wait.

Run it with::

    python benchmarks/asyncio_loop.py            # 1,000 cancelled waits
    python benchmarks/asyncio_loop.py --waits 100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import kwait
import kwait.asyncio
from kwait._watch.kube import api_client_from
from kwait.testing import FakeApiServer


def open_fds() -> int:
    """Open file descriptors of this process (Linux), or -1 where that cannot be read."""
    fd_dir = Path("/proc/self/fd")
    return len(list(fd_dir.iterdir())) if fd_dir.is_dir() else -1


async def ticks_during(wait: Callable[[], Awaitable[object]]) -> tuple[int, float]:
    """Ticks of a 10 ms ticker while `wait` runs, and the longest gap between two ticks."""
    loop = asyncio.get_running_loop()
    stamps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            stamps.append(loop.time())
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    begin = len(stamps)
    began = loop.time()
    with contextlib.suppress(kwait.WaitTimeoutError):
        await wait()
    ended = loop.time()
    stop.set()
    await task
    during = [began, *(s for s in stamps[begin:] if s <= ended), ended]
    gap = max(b - a for a, b in itertools.pairwise(during))
    return len(stamps) - begin, gap


async def loop_ticks(api: Any) -> None:
    """Print the ticks table."""

    def blocking_wait() -> object:
        return kwait.wait_for("pods", "nobody", until="create", timeout=0.5, api_client=api)

    async def sync_in_coroutine() -> object:
        return blocking_wait()

    async def sync_in_thread() -> object:
        return await asyncio.to_thread(blocking_wait)

    async def awaited() -> object:
        return await kwait.asyncio.wait_for(
            "pods", "nobody", until="create", timeout=0.5, api_client=api
        )

    print("loop ticks (10 ms ticker) during a 0.5 s wait that times out")
    print(f"{'how the wait is made':<42} {'ticks':>6} {'longest gap':>12}")
    for label, wait in [
        ("kwait.wait_for inside the coroutine", sync_in_coroutine),
        ("asyncio.to_thread(kwait.wait_for)", sync_in_thread),
        ("await kwait.asyncio.wait_for", awaited),
    ]:
        ticks, gap = await ticks_during(wait)
        print(f"{label:<42} {ticks:>6} {gap * 1000:>9.0f} ms")


STABLE_SAMPLES = 10


async def settled() -> tuple[int, int]:
    """Threads and fds once the fake server's handler threads have finished (counts stable)."""
    last = (-1, -1)
    stable = 0
    for _ in range(300):  # at most 3 s
        now = (threading.active_count(), open_fds())
        stable = stable + 1 if now == last else 0
        if stable >= STABLE_SAMPLES:
            break
        last = now
        await asyncio.sleep(0.01)
    return last


async def cancelled_waits(server: FakeApiServer, api: Any, count: int) -> None:
    """Print what `count` cancelled waits leave behind."""

    async def once() -> None:
        task = asyncio.ensure_future(
            kwait.asyncio.wait_for("pods", "nobody", until="create", timeout=60, api_client=api)
        )
        await asyncio.to_thread(server.wait_for_watches, 1, 10)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    await once()  # warm up: discovery cache, executor threads, pooled connections
    store = server._store  # noqa: SLF001 - the benchmark checks the server's side too
    with store.cond:
        store.cond.wait_for(lambda: not store.watchers, timeout=10)
    threads, fds = await settled()
    tasks = len(asyncio.all_tasks())
    started = time.perf_counter()
    for _ in range(count):
        await once()
        with store.cond:
            store.cond.wait_for(lambda: not store.watchers, timeout=10)
    took = time.perf_counter() - started
    threads_after, fds_after = await settled()
    print(f"\n{count} cancelled kwait.asyncio.wait_for calls on the fake API server")
    print(f"{'':<22} {'before':>8} {'after':>8}")
    print(f"{'threads':<22} {threads:>8} {threads_after:>8}")
    print(f"{'open fds':<22} {fds:>8} {fds_after:>8}")
    print(f"{'asyncio tasks':<22} {tasks:>8} {len(asyncio.all_tasks()):>8}")
    print(f"{'watches open (server)':<22} {'0':>8} {len(store.watchers):>8}")
    print(f"time per cancelled wait: {took / count * 1000:.1f} ms")


def main() -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waits", type=int, default=1000, help="cancelled waits to run")
    args = parser.parse_args()
    with FakeApiServer(kubelet=False) as server:
        api = api_client_from(server.kubeconfig_dict())
        try:
            asyncio.run(loop_ticks(api))
            asyncio.run(cancelled_waits(server, api, args.waits))
        finally:
            api.close()


if __name__ == "__main__":
    main()
