"""kwait.asyncio over HTTP: the fake API server's scenarios, with both clients users hold.

Tests of internals: the adapter's client conversion (`kwait._watch.kube.blocking_api_client`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from kubernetes import client as k8s

import kwait
import kwait.asyncio
from kwait._watch import kube
from kwait.testing import FakeApiServer

T = TypeVar("T")

PULLS = ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"]
HAS_ASYNC_CLIENT = importlib.util.find_spec("kubernetes_asyncio") is not None


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a test's coroutine on a fresh event loop."""
    return asyncio.run(main())


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    """The in-process API server with its scripted kubelet."""
    with FakeApiServer() as running:
        yield running


@pytest.fixture
def api(server: FakeApiServer) -> Iterator[Any]:
    """An official ApiClient for `server`."""
    client = kube.api_client_from(server.kubeconfig_dict())
    try:
        yield client
    finally:
        client.close()


def launcher(name: str, cycles: int = 3) -> dict[str, Any]:
    """A pod whose image pull fails `cycles` times, 20 ms per status write, 100 ms back-off."""
    return {
        "metadata": {
            "name": name,
            "labels": {"kwait.dev/lifecycle": "image-pull-failure"},
            "annotations": {
                "kwait.dev/step-delay-ms": "20",
                "kwait.dev/backoff-ms": "100",
                "kwait.dev/max-cycles": str(cycles),
            },
        },
        "spec": {"containers": [{"name": "compute", "image": "registry.invalid/vm-disk:1"}]},
    }


def reasons(timeline: kwait.Timeline) -> list[Any]:
    """The waiting reason of each observed state."""
    reason = kwait.states.waiting_reason()
    return [reason(o.object) for o in timeline.observations if o.object is not None]


def test_kubevirt_image_pull_cycle_with_the_official_client(api: Any) -> None:
    """The one-call form tracks, awaits the (blocking) create in a thread, and matches."""
    core: Any = k8s.CoreV1Api(api)

    async def main() -> kwait.Timeline:
        return await kwait.asyncio.expect_transitions(
            "pods",
            "virt-launcher",
            state=kwait.states.waiting_reason(),
            pattern=PULLS,
            act=lambda: asyncio.to_thread(
                core.create_namespaced_pod, "default", launcher("virt-launcher")
            ),
            timeout=30,
            api_client=api,
        )

    timeline = run(main)
    assert reasons(timeline)[-4:] == PULLS


def test_a_timeout_report_is_the_sync_one(api: Any) -> None:
    """One pull attempt only: WaitTimeoutError with the same report the sync call gives."""
    core: Any = k8s.CoreV1Api(api)

    async def main() -> None:
        await kwait.asyncio.expect_transitions(
            "pods",
            "virt-once",
            state=kwait.states.waiting_reason(),
            pattern=PULLS,
            act=lambda: asyncio.to_thread(
                core.create_namespaced_pod, "default", launcher("virt-once", 1)
            ),
            timeout=1,
            api_client=api,
        )

    with pytest.raises(kwait.WaitTimeoutError) as err:
        run(main)
    report = err.value.report.to_json()
    [obj] = report["objects"]
    assert obj["progress"]["waiting_for"] == ["'ErrImagePull'"]
    assert "did not go through in_order(" in str(err.value)
    assert "  events (" in str(err.value)  # the kubelet's Events, read off the loop


def test_each_instance_updated_exactly_once_and_a_double_update_caught(api: Any) -> None:
    """CloudNativePG's case through HTTP: counts per pod after a sync, awaited."""
    core: Any = k8s.CoreV1Api(api)
    names = ["db-1", "db-2", "db-3"]
    for name in names:
        body = {
            "metadata": {"name": name, "labels": {"cluster": "db"}},
            "spec": {"schedulerName": "manual", "containers": [{"name": "pg", "image": "pg:1"}]},
        }
        core.create_namespaced_pod("default", body)

    def roll(image: str, which: list[str]) -> None:
        for name in which:
            patch = {"spec": {"containers": [{"name": "pg", "image": image}]}}
            core.patch_namespaced_pod(name, "default", patch)

    async def main() -> dict[kwait.Identity, int]:
        async with kwait.asyncio.track("pods", label_selector="cluster=db", api_client=api) as t:
            await asyncio.to_thread(roll, "pg:2", names)
            counts = await t.expect_count(kwait.Changes.generation(), exactly=1)
        async with kwait.asyncio.track("pods", label_selector="cluster=db", api_client=api) as t:
            await asyncio.to_thread(roll, "pg:3", names)
            await asyncio.to_thread(roll, "pg:3-again", ["db-2"])
            with pytest.raises(kwait.errors.CountMismatchError) as err:
                await t.expect_count(kwait.Changes.generation(), exactly=1)
        assert "db-2" in err.value.report.summary
        return counts

    assert sorted(run(main).values()) == [1, 1, 1]


def test_delete_wait_succeeds_when_the_name_is_recreated(api: Any) -> None:
    """The pod present when the wait starts is the target; its recreation does not matter."""
    core: Any = k8s.CoreV1Api(api)
    body = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "a", "image": "a"}]}}
    first = core.create_namespaced_pod("default", body)

    def replace() -> None:
        core.delete_namespaced_pod("web", "default", grace_period_seconds=0)
        core.create_namespaced_pod("default", body)

    async def main() -> list[kwait.Timeline]:
        return await kwait.asyncio.wait_for(
            "pods",
            "web",
            until="delete",
            act=lambda: asyncio.to_thread(replace),
            timeout=30,
            api_client=api,
        )

    [gone] = run(main)
    assert gone.deleted
    assert gone.identity.uid == first.metadata.uid


def test_stopping_leaves_no_thread_and_hangs_up_the_watch(server: FakeApiServer, api: Any) -> None:
    """Cancelled mid-wait, the tracker's thread ends and the server sees its watch close."""

    async def main() -> None:
        task = asyncio.ensure_future(
            kwait.asyncio.wait_for("pods", "nobody", until="create", timeout=60, api_client=api)
        )
        await asyncio.to_thread(server.wait_for_watches, 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main)
    assert not [t for t in threading.enumerate() if t.name.startswith("kwait-tracker")]
    store = server._store
    with store.cond:
        assert store.cond.wait_for(lambda: not store.watchers, timeout=5)


# ---------------------------------------------------------------------- kubernetes_asyncio


class _AsyncConfiguration:
    """What a kubernetes_asyncio Configuration looks like to kwait: coroutine credentials."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.api_key = {"BearerToken": "secret-token"}
        self.api_key_prefix = {"BearerToken": "Bearer"}
        self.verify_ssl = False
        self.ssl_ca_cert = None

    async def auth_settings(self) -> dict[str, Any]:
        return {}


class _AsyncApiClient:
    """Duck-typed like kubernetes_asyncio's ApiClient (kwait never imports that package)."""

    def __init__(self, host: str) -> None:
        self.configuration = _AsyncConfiguration(host)


def test_an_asyncio_clients_configuration_is_borrowed_not_called() -> None:
    """Host and token are read into an official client that kwait owns."""
    borrowed, owned = kube.blocking_api_client(_AsyncApiClient("https://10.0.0.1:6443"))
    try:
        assert owned
        assert borrowed.configuration.host == "https://10.0.0.1:6443"
        headers = kube.KubeHttp(borrowed)._headers()
        assert headers["authorization"] == "Bearer secret-token"
    finally:
        borrowed.close()


def test_an_official_client_is_used_as_is_and_anything_else_refused(api: Any) -> None:
    """The official client is not copied; a foreign object gets an error saying what to pass."""
    assert kube.blocking_api_client(api) == (api, False)
    with pytest.raises(TypeError, match=r"kubernetes\.client\.ApiClient"):
        kube.blocking_api_client(object())
    with pytest.raises(TypeError, match="kubernetes_asyncio"):
        kwait.asyncio.track("pods", api_client=object())


@pytest.mark.skipif(not HAS_ASYNC_CLIENT, reason="kubernetes_asyncio is not installed")
def test_kubevirt_cycle_with_a_kubernetes_asyncio_client(server: FakeApiServer) -> None:
    """A kubernetes_asyncio client creates the pod and is the tracker's api_client too."""
    from kubernetes_asyncio import client as aclient  # noqa: PLC0415 - optional package
    from kubernetes_asyncio import config as aconfig  # noqa: PLC0415

    async def main() -> kwait.Timeline:
        api: Any = await aconfig.new_client_from_config_dict(server.kubeconfig_dict())
        async with api:
            core: Any = aclient.CoreV1Api(api)
            return await kwait.asyncio.expect_transitions(
                "pods",
                "virt-launcher",
                state=kwait.states.waiting_reason(),
                pattern=PULLS,
                act=lambda: core.create_namespaced_pod("default", launcher("virt-launcher")),
                timeout=30,
                api_client=api,
            )

    threads = threading.active_count()
    timeline = run(main)
    assert reasons(timeline)[-4:] == PULLS
    assert threading.active_count() == threads
