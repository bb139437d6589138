"""The headline API against the real control plane, on pods that kwok Stages drive."""

from __future__ import annotations

import threading

import pytest
from kubernetes import client as k8s
from typing_extensions import Self

import kwait
from tests.controlplane.fixtures import KubeCluster

pytestmark = pytest.mark.integration

PULL_CYCLE = ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"]
RUNS = 50


@pytest.fixture
def core(kube_api_client: k8s.ApiClient) -> k8s.CoreV1Api:
    """The typed core/v1 API of the session's cluster."""
    return k8s.CoreV1Api(kube_api_client)


@pytest.fixture
def staged(kube_cluster: KubeCluster) -> KubeCluster:
    """The cluster, provided kwok Stages drive its pods (skips otherwise)."""
    kube_cluster.require_stages()
    return kube_cluster


def waiting_reason_of(pod: k8s.V1Pod) -> str | None:
    """What a poll loop reads: the first container's waiting reason, if it is waiting."""
    for status in (pod.status and pod.status.container_statuses) or []:
        if status.state and status.state.waiting:
            return str(status.state.waiting.reason)
    return None


def saw_cycle(reasons: list[str]) -> bool:
    """True when PULL_CYCLE occurs, in order, in `reasons` (others allowed between)."""
    it = iter(reasons)
    return all(any(seen == wanted for seen in it) for wanted in PULL_CYCLE)


class PollLoop:
    """A 1 s poll of every pod with a label, written the way test suites write it."""

    def __init__(self, core: k8s.CoreV1Api, namespace: str, selector: str) -> None:
        """Prepare the loop; `run` starts it in a thread."""
        self.core = core
        self.namespace = namespace
        self.selector = selector
        self.seen: dict[str, list[str]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.is_set():
            pods = self.core.list_namespaced_pod(self.namespace, label_selector=self.selector)
            for pod in pods.items:
                reason = waiting_reason_of(pod)
                assert pod.metadata is not None
                history = self.seen.setdefault(str(pod.metadata.name), [])
                if reason and (not history or history[-1] != reason):
                    history.append(reason)
            self.stop.wait(1.0)

    def __enter__(self) -> Self:
        """Start polling."""
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop polling."""
        self.stop.set()
        self.thread.join(10)


@pytest.fixture
def pull_failures(staged: KubeCluster) -> list[k8s.V1Pod]:
    """RUNS pods whose ErrImagePull lasts 0 ms between 300 ms ImagePullBackOffs."""
    return [
        staged.pod(
            f"vm-{i}",
            lifecycle="image-pull-failure",
            labels={"test": "kubevirt"},
            annotations={
                "kwait.dev/err-image-pull-duration": "0s",
                "kwait.dev/image-pull-backoff-duration": "300ms",
            },
        )
        for i in range(RUNS)
    ]


def test_kubevirt_cycle_is_always_matched_while_a_poll_misses_it(
    kube_api_client: k8s.ApiClient,
    core: k8s.CoreV1Api,
    namespace: str,
    pull_failures: list[k8s.V1Pod],
) -> None:
    """50 pods cycle ErrImagePull ⇄ ImagePullBackOff: kwait matches all, a 1 s poll does not."""
    tracker = kwait.track(
        "pods", namespace=namespace, label_selector="test=kubevirt", api_client=kube_api_client
    )
    with tracker, PollLoop(core, namespace, "test=kubevirt") as poll:
        for pod in pull_failures:
            core.create_namespaced_pod(namespace, pod)
        budget = kwait.Deadline.after(120, clock=tracker.clock)
        for i in range(RUNS):
            tracker.expect_transitions(
                kwait.states.waiting_reason(), PULL_CYCLE, name=f"vm-{i}", timeout=budget
            )
    # The poll ran for the whole time kwait needed to match all 50 pods.
    names = [f"vm-{i}" for i in range(RUNS)]
    missed = [name for name in names if not saw_cycle(poll.seen.get(name, []))]
    miss_rate = len(missed) / RUNS
    print(f"\nkwait matched {RUNS}/{RUNS}; a 1 s poll missed the cycle on {len(missed)}/{RUNS}")  # noqa: T201 - a figure to report
    assert missed, "a 1 s poll saw every 0 ms ErrImagePull: the scenario no longer shows the race"
    assert miss_rate > 0.5


def rolling_update(core: k8s.CoreV1Api, namespace: str, names: list[str], image: str) -> None:
    """Change each pod's image in turn, as an operator's rolling update does."""
    for name in names:
        patch = {"spec": {"containers": [{"name": "app", "image": image}]}}
        core.patch_namespaced_pod(name, namespace, patch)


def test_each_instance_updated_exactly_once(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, core: k8s.CoreV1Api, namespace: str
) -> None:
    """CloudNativePG's case: a rolling change passes once per pod, and a double update fails."""
    names = ["db-1", "db-2", "db-3"]
    for name in names:
        core.create_namespaced_pod(namespace, staged.pod(name, labels={"cluster": "db"}))
    with kwait.track(
        "pods", namespace=namespace, label_selector="cluster=db", api_client=kube_api_client
    ) as tracker:
        rolling_update(core, namespace, names, "postgres:17.1")
        counts = tracker.expect_count(kwait.Changes.generation(), exactly=1)
    assert sorted(counts.values()) == [1, 1, 1]

    with kwait.track(
        "pods", namespace=namespace, label_selector="cluster=db", api_client=kube_api_client
    ) as tracker:
        rolling_update(core, namespace, names, "postgres:17.2")
        rolling_update(core, namespace, ["db-2"], "postgres:17.2-reused")
        with pytest.raises(kwait.errors.CountMismatchError) as err:
            tracker.expect_count(kwait.Changes.generation(), exactly=1)
    report = err.value.report.to_json()
    [db2] = [o for o in report["objects"] if o["identity"]["name"] == "db-2"]
    counted = [row for row in db2["timeline"] if "change" in row["note"]]
    assert len(counted) == 2, db2["timeline"]
    assert "db-2" in str(err.value)


def test_delete_wait_succeeds_when_the_name_is_recreated(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, core: k8s.CoreV1Api, namespace: str
) -> None:
    """The object present when the wait starts is deleted and recreated: the wait succeeds."""
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

    [deleted] = kwait.wait_for(
        "pods",
        "web",
        namespace=namespace,
        api_client=kube_api_client,
        until="delete",
        act=delete_and_recreate,
        timeout=60,
    )
    assert deleted.deleted
    current = core.read_namespaced_pod("web", namespace)
    assert current.metadata is not None
    assert current.metadata.uid != deleted.identity.uid


def test_never_fails_on_the_first_violating_event(
    staged: KubeCluster, kube_api_client: k8s.ApiClient, core: k8s.CoreV1Api, namespace: str
) -> None:
    """A crash-looping pod breaks 'never CrashLoopBackOff' at that event, long before 60 s."""
    pod = staged.pod(
        "crasher",
        lifecycle="crash-loop",
        annotations={"kwait.dev/run-duration": "200ms"},
    )
    with kwait.track("pods", "crasher", namespace=namespace, api_client=kube_api_client) as tracker:
        core.create_namespaced_pod(namespace, pod)
        started = tracker.clock.monotonic()
        with pytest.raises(kwait.errors.NeverViolatedError) as err:
            tracker.expect_never(
                kwait.states.waiting_reason().equals("CrashLoopBackOff"), during=60
            )
        took = tracker.clock.monotonic() - started
    assert took < 20, f"failed only after {took:.1f} s"
    assert "CrashLoopBackOff" in str(err.value)
