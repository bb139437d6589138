"""kwait.asyncio against the real control plane: the sync scenarios, awaited.

The same pods and kwok Stages as test_expectations.py; the waits run on an event loop
while a ticker task measures that the loop is never blocked.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from kubernetes import client as k8s
from typing_extensions import Self

import kwait
import kwait.asyncio
from tests.controlplane.fixtures import KubeCluster

pytestmark = pytest.mark.integration

T = TypeVar("T")

PULL_CYCLE = ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"]
RUNS = 20


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a test's coroutine on a fresh event loop."""
    return asyncio.run(main())


@pytest.fixture
def core(kube_api_client: k8s.ApiClient) -> Any:
    """The core/v1 API of the session's cluster."""
    return k8s.CoreV1Api(kube_api_client)


@pytest.fixture
def staged(kube_cluster: KubeCluster) -> KubeCluster:
    """The cluster, provided kwok Stages drive its pods (skips otherwise)."""
    kube_cluster.require_stages()
    return kube_cluster


class Ticker:
    """A task that ticks every 10 ms; `max_gap` is the longest the loop kept it waiting."""

    def __init__(self) -> None:
        """Nothing runs until `__aenter__`."""
        self.ticks: list[float] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            self.ticks.append(loop.time())
            await asyncio.sleep(0.01)

    async def __aenter__(self) -> Self:
        """Start ticking."""
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop ticking."""
        self._stop.set()
        assert self._task is not None
        await self._task

    @property
    def max_gap(self) -> float:
        """The longest time between two ticks, in seconds."""
        return max((b - a for a, b in itertools.pairwise(self.ticks)), default=0.0)


def test_kubevirt_cycles_matched_concurrently_without_blocking_the_loop(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, core: Any, namespace: str
) -> None:
    """20 pods cycle ErrImagePull ⇄ ImagePullBackOff; 20 concurrent awaits match them all."""
    pods = [
        staged.pod(
            f"vm-{i}",
            lifecycle="image-pull-failure",
            labels={"test": "kubevirt-async"},
            annotations={
                "kwait.dev/err-image-pull-duration": "0s",
                "kwait.dev/image-pull-backoff-duration": "300ms",
            },
        )
        for i in range(RUNS)
    ]

    async def main() -> tuple[list[kwait.Timeline], float]:
        async with (
            Ticker() as ticker,
            kwait.asyncio.track(
                "pods",
                namespace=namespace,
                label_selector="test=kubevirt-async",
                api_client=kube_api_client,
            ) as tracker,
        ):
            for pod in pods:
                await asyncio.to_thread(core.create_namespaced_pod, namespace, pod)
            budget = kwait.Deadline.after(120, clock=tracker.clock)
            timelines = await asyncio.gather(
                *(
                    tracker.expect_transitions(
                        kwait.states.waiting_reason(), PULL_CYCLE, name=f"vm-{i}", timeout=budget
                    )
                    for i in range(RUNS)
                )
            )
        return list(timelines), ticker.max_gap

    timelines, max_gap = run(main)
    assert sorted(t.identity.name for t in timelines) == sorted(f"vm-{i}" for i in range(RUNS))
    # The unit suite holds the loop to 50 ms gaps; here a loaded machine adds its own jitter,
    # while a blocked loop would stall for seconds.
    assert max_gap < 0.25, f"the event loop stalled for {max_gap * 1000:.0f} ms"


def rolling_update(core: Any, namespace: str, names: list[str], image: str) -> None:
    """Change each pod's image in turn, as an operator's rolling update does."""
    for name in names:
        patch = {"spec": {"containers": [{"name": "app", "image": image}]}}
        core.patch_namespaced_pod(name, namespace, patch)


def test_each_instance_updated_exactly_once(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, core: Any, namespace: str
) -> None:
    """CloudNativePG's case, awaited: once per pod passes, a double update fails."""
    names = ["db-1", "db-2", "db-3"]
    for name in names:
        core.create_namespaced_pod(namespace, staged.pod(name, labels={"cluster": "db"}))

    def track() -> kwait.asyncio.AsyncTracker:
        return kwait.asyncio.track(
            "pods", namespace=namespace, label_selector="cluster=db", api_client=kube_api_client
        )

    async def main() -> tuple[dict[kwait.Identity, int], kwait.errors.CountMismatchError]:
        async with track() as tracker:
            await asyncio.to_thread(rolling_update, core, namespace, names, "postgres:17.1")
            counts = await tracker.expect_count(kwait.Changes.generation(), exactly=1)
        async with track() as tracker:
            await asyncio.to_thread(rolling_update, core, namespace, names, "postgres:17.2")
            await asyncio.to_thread(rolling_update, core, namespace, ["db-2"], "postgres:x")
            with pytest.raises(kwait.errors.CountMismatchError) as err:
                await tracker.expect_count(kwait.Changes.generation(), exactly=1)
        return counts, err.value

    counts, error = run(main)
    assert sorted(counts.values()) == [1, 1, 1]
    [db2] = [o for o in error.report.to_json()["objects"] if o["identity"]["name"] == "db-2"]
    assert len([row for row in db2["timeline"] if "change" in row["note"]]) == 2


def test_delete_wait_succeeds_when_the_name_is_recreated(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, core: Any, namespace: str
) -> None:
    """The pod present when the wait starts is deleted and recreated: the wait succeeds."""
    core.create_namespaced_pod(namespace, staged.pod("web"))

    def delete_and_recreate() -> None:
        core.delete_namespaced_pod("web", namespace, grace_period_seconds=0)
        while True:  # the API answers 409 until the old object is gone
            try:
                core.create_namespaced_pod(namespace, staged.pod("web"))
            except k8s.ApiException as exc:  # noqa: PERF203 - retried until the name is free
                if exc.status != 409:
                    raise
            else:
                return

    async def main() -> list[kwait.Timeline]:
        return await kwait.asyncio.wait_for(
            "pods",
            "web",
            namespace=namespace,
            api_client=kube_api_client,
            until="delete",
            act=lambda: asyncio.to_thread(delete_and_recreate),
            timeout=60,
        )

    [deleted] = run(main)
    assert deleted.deleted
    assert core.read_namespaced_pod("web", namespace).metadata.uid != deleted.identity.uid


def test_never_fails_on_the_first_violating_event(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, core: Any, namespace: str
) -> None:
    """A crash-looping pod breaks 'never CrashLoopBackOff' at that event, long before 60 s."""
    pod = staged.pod(
        "crasher", lifecycle="crash-loop", annotations={"kwait.dev/run-duration": "200ms"}
    )

    async def main() -> tuple[float, kwait.errors.NeverViolatedError]:
        async with kwait.asyncio.track(
            "pods", "crasher", namespace=namespace, api_client=kube_api_client
        ) as tracker:
            await asyncio.to_thread(core.create_namespaced_pod, namespace, pod)
            started = tracker.clock.monotonic()
            with pytest.raises(kwait.errors.NeverViolatedError) as err:
                await tracker.expect_never(
                    kwait.states.waiting_reason().equals("CrashLoopBackOff"), during=60
                )
            return tracker.clock.monotonic() - started, err.value

    took, error = run(main)
    assert took < 20, f"failed only after {took:.1f} s"
    assert "CrashLoopBackOff" in str(error)
