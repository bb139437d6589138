"""What the integration fixtures hand to tests: a cluster, its clients, a cutting proxy.

``tests/integration/conftest.py`` builds these; tests may import the classes for their
annotations (``from tests.controlplane.fixtures import KubeCluster``).

Two ways to get a cluster:

- **local** (default): :class:`~tests.controlplane.cluster.ControlPlane` is started for the test
  session from cached (or freshly built) binaries, and stopped at its end;
- **existing**: with ``KWAIT_USE_EXISTING_CLUSTER=1`` and ``KUBECONFIG`` set, that cluster is
  used. If the kubeconfig belongs to a control plane started by ``python -m tests.controlplane
  up``, the session attaches to it (compaction works); otherwise tests that need what only the
  local control plane offers (compaction; kwok stages, unless the cluster has them) skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.watch.watch import iter_resp_lines

from tests.controlplane import stages
from tests.controlplane.build import ControlPlaneUnavailableError, PullPolicy, locate
from tests.controlplane.cluster import ControlPlane
from tests.controlplane.proxy import FaultProxy, ProxyStats

__all__ = [
    "EXISTING_ENV",
    "REQUIRE_ENV",
    "STAGES_ENV",
    "CuttingProxy",
    "KubeCluster",
    "model",
    "open_cluster",
    "raw_lines",
    "resource_version",
    "unique_name",
    "watch",
]

EXISTING_ENV = "KWAIT_USE_EXISTING_CLUSTER"
REQUIRE_ENV = "KWAIT_REQUIRE_INTEGRATION"
#: Set to 1 on an existing cluster whose kwok already runs the kwait stages from a file.
STAGES_ENV = "KWAIT_KWOK_STAGES"

Log = Callable[[str], None]
_M = TypeVar("_M")


# ---------------------------------------------------------------------- typed client helpers
def watch(
    func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Generator[dict[str, Any], None, None]:
    """Yield the events of ``kubernetes.watch.Watch().stream(func, ...)``, typed.

    The events are the client's own dicts (``type``, ``object``, ``raw_object``); the watch is
    stopped when the generator is closed.
    """
    w = k8s_watch.Watch()  # type: ignore[no-untyped-call]
    try:
        yield from w.stream(func, *args, **kwargs)  # type: ignore[no-untyped-call]
    finally:
        w.stop()  # type: ignore[no-untyped-call]


def raw_lines(response: Any) -> Iterator[str]:
    """Yield the lines of a raw watch response (``_preload_content=False``), as the client does."""
    lines: Iterator[str] = iter_resp_lines(response)  # type: ignore[no-untyped-call]
    return lines


def resource_version(obj: Any) -> str:
    """Return ``metadata.resourceVersion`` of a client model object or list."""
    rv = obj.metadata.resource_version if obj.metadata is not None else None
    if not rv:
        msg = f"{type(obj).__name__} has no resourceVersion"
        raise AssertionError(msg)
    return str(rv)


def model(cls: type[_M], data: Mapping[str, Any]) -> _M:
    """Build a client model (``V1Pod``, ``V1ConfigMap``...) from a manifest dict."""
    obj: _M | None = cls.from_dict(dict(data))  # type: ignore[attr-defined]
    if obj is None:
        msg = f"could not build {cls.__name__} from {data!r}"
        raise ValueError(msg)
    return obj


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def unique_name(prefix: str, hint: str = "") -> str:
    """Return a DNS-1123 label: `prefix`, a cleaned `hint`, and a random suffix (<= 63 chars)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", hint.lower()).strip("-")
    suffix = secrets.token_hex(3)
    head = f"{prefix}-{cleaned}" if cleaned else prefix
    return f"{head[: 62 - len(suffix)].rstrip('-')}-{suffix}"


class CuttingProxy:
    """A fault proxy in front of kube-apiserver, with clients that go through it.

    Attributes:
        proxy: the underlying :class:`~tests.controlplane.proxy.FaultProxy`.
    """

    def __init__(self, cluster: KubeCluster) -> None:
        """Start a proxy to the cluster's API server."""
        self._cluster = cluster
        server = urlsplit(cluster.configuration().host)
        self._server_name = server.hostname or "127.0.0.1"
        default_port = 443 if server.scheme == "https" else 80
        self.proxy = FaultProxy(self._server_name, server.port or default_port).start()
        self._clients: list[k8s.ApiClient] = []

    def api_client(self) -> k8s.ApiClient:
        """Return a new ApiClient whose connections go through the proxy."""
        cfg = self._cluster.configuration()
        host = f"{urlsplit(cfg.host).scheme}://127.0.0.1:{self.proxy.port}"
        server_name = self._server_name if self._server_name != "127.0.0.1" else None

        def aim(c: k8s.Configuration) -> None:
            c.host = host
            if server_name:
                c.tls_server_name = server_name  # the name in the serving certificate

        aim(cfg)
        # The kubeconfig loader refreshes credentials before each request: it resets the host
        # from the kubeconfig and installs a new hook. Aim again, and put this hook back.
        hooks: list[Callable[[k8s.Configuration], None] | None] = [
            cast("Callable[[k8s.Configuration], None] | None", cfg.refresh_api_key_hook)
        ]

        def refresh_and_aim(c: k8s.Configuration) -> None:
            refresh = hooks[0]
            if refresh is not None:
                refresh(c)
                hooks[0] = cast(
                    "Callable[[k8s.Configuration], None] | None", c.refresh_api_key_hook
                )
            c.refresh_api_key_hook = refresh_and_aim  # type: ignore[assignment]
            aim(c)

        cfg.refresh_api_key_hook = refresh_and_aim  # type: ignore[assignment]
        api = k8s.ApiClient(cfg)
        self._clients.append(api)
        return api

    def cut(self, *, reset: bool = True) -> int:
        """Cut every open connection now (TCP reset by default); return how many."""
        return self.proxy.cut(reset=reset)

    def wait_for_open(self, count: int = 1, *, timeout: float = 10) -> bool:
        """Wait until `count` connections are open through the proxy."""
        return self.proxy.wait_for_open(count, timeout=timeout)

    def stats(self) -> ProxyStats:
        """Connections accepted, open, cut and held so far."""
        return self.proxy.stats()

    def close(self) -> None:
        """Close the clients made by :meth:`api_client`, then the proxy."""
        for api in self._clients:
            api.close()  # type: ignore[no-untyped-call]
        self.proxy.close()


class KubeCluster:
    """The cluster of an integration test session.

    Attributes:
        kubeconfig: the kubeconfig file to reach it.
        control_plane: the local control plane, or ``None`` on a foreign existing cluster.
        node_name: the node kwok manages, where :meth:`pod` puts pods.
        stages_missing: why the kwait kwok stages are not available, or ``None`` if they are.
    """

    def __init__(
        self,
        kubeconfig: Path,
        *,
        control_plane: ControlPlane | None,
        node_name: str = stages.NODE_NAME,
        stages_missing: str | None = None,
        owns_control_plane: bool = False,
    ) -> None:
        """Describe a reachable cluster (see :func:`open_cluster`)."""
        self.kubeconfig = kubeconfig
        self.control_plane = control_plane
        self.node_name = node_name
        self.stages_missing = stages_missing
        self.owns_control_plane = owns_control_plane
        self.created_node = False

    # ------------------------------------------------------------------ clients
    def configuration(self) -> k8s.Configuration:
        """Return a new client Configuration for this cluster."""
        cfg = k8s.Configuration()
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig), client_configuration=cfg, persist_config=False
        )
        return cfg

    def api_client(self) -> k8s.ApiClient:
        """Return a new ApiClient for this cluster (the caller closes it)."""
        return k8s.ApiClient(self.configuration())

    @contextlib.contextmanager
    def cutting_proxy(self) -> Iterator[CuttingProxy]:
        """Yield a :class:`CuttingProxy` in front of the API server; close it afterwards."""
        proxy = CuttingProxy(self)
        try:
            yield proxy
        finally:
            proxy.close()

    # ------------------------------------------------------------------ capabilities
    def require_stages(self) -> None:
        """Skip the calling test unless the kwait kwok stages drive pods on :attr:`node_name`."""
        if self.stages_missing:
            pytest.skip(self.stages_missing)

    def require_control_plane(self) -> ControlPlane:
        """Return the local control plane, or skip the calling test if there is none."""
        if self.control_plane is None:
            pytest.skip("needs the local control plane (this session uses an existing cluster)")
        return self.control_plane

    def compact(self, watch_paths: Sequence[str] = ("/api/v1/pods",)) -> int:
        """Force a watch-history compaction; return its revision (skips without a control plane).

        See :meth:`tests.controlplane.cluster.ControlPlane.compact`.
        """
        return self.require_control_plane().compact(watch_paths)

    def pod(
        self,
        name: str,
        *,
        lifecycle: str = "normal",
        annotations: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        image: str = "nginx:1.27",
        restart_policy: str = "Always",
    ) -> k8s.V1Pod:
        """Return a Pod bound to the kwok node (see :func:`stages.pod_manifest`)."""
        manifest = stages.pod_manifest(
            name,
            lifecycle=lifecycle,
            node=self.node_name,
            annotations=annotations,
            labels=labels,
            image=image,
            restart_policy=restart_policy,
        )
        return model(k8s.V1Pod, manifest)

    def local_binaries(self) -> dict[str, Path]:
        """Return cached control-plane binaries (never builds), or skip the calling test."""
        try:
            return locate(
                ["etcd", "kube-apiserver", "kwok"], policy=PullPolicy.NEVER, log=lambda _: None
            )
        except ControlPlaneUnavailableError as exc:
            pytest.skip(str(exc))

    # ------------------------------------------------------------------ session end
    def close(self) -> None:
        """Stop the control plane if this session started it; remove a node it created."""
        if self.created_node:
            with self.api_client() as api, contextlib.suppress(k8s.ApiException):
                k8s.CoreV1Api(api).delete_node(self.node_name)
        if self.owns_control_plane and self.control_plane is not None:
            self.control_plane.stop()


def _node_ready(api: k8s.ApiClient, name: str, timeout: int) -> bool:
    v1 = k8s.CoreV1Api(api)
    nodes = v1.list_node(field_selector=f"metadata.name={name}")
    if any(_ready(node) for node in nodes.items):
        return True
    events = watch(
        v1.list_node,
        field_selector=f"metadata.name={name}",
        resource_version=resource_version(nodes),
        timeout_seconds=timeout,
    )
    with contextlib.closing(events):
        return any(_ready(event["object"]) for event in events)


def _ready(node: Any) -> bool:
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _stage_names_on(api: k8s.ApiClient) -> set[str] | None:
    try:
        found = k8s.CustomObjectsApi(api).list_cluster_custom_object(
            "kwok.x-k8s.io", "v1alpha1", "stages"
        )
    except k8s.ApiException:
        return None
    items: list[dict[str, Any]] = found.get("items", []) if isinstance(found, dict) else []
    return {item["metadata"]["name"] for item in items}


def _existing(environ: Mapping[str, str], log: Log) -> KubeCluster:
    raw = environ.get("KUBECONFIG", "").strip()
    if not raw:
        msg = f"{EXISTING_ENV}=1 but KUBECONFIG is not set: nothing to connect to"
        raise ControlPlaneUnavailableError(msg)
    kubeconfig = Path(raw.split(os.pathsep)[0]).expanduser()
    state_file = kubeconfig.parent / "state.json"
    if state_file.is_file():
        plane = ControlPlane.attach(state_file, log=log)
        log(f"kwait: attached to the local control plane of {kubeconfig}")
        return KubeCluster(kubeconfig, control_plane=plane)
    cluster = KubeCluster(kubeconfig, control_plane=None)
    with cluster.api_client() as api:
        v1 = k8s.CoreV1Api(api)
        try:
            v1.read_node(cluster.node_name)
        except k8s.ApiException as exc:
            if exc.status != 404:
                raise
            v1.create_node(model(k8s.V1Node, stages.node_manifest(cluster.node_name, taint=True)))
            cluster.created_node = True
        names = _stage_names_on(api)
        wanted = set(stages.stage_names())
        if not _node_ready(api, cluster.node_name, timeout=10):
            cluster.stages_missing = (
                f"no kwok marked node {cluster.node_name} Ready: the cluster needs a kwok "
                f"controller managing nodes annotated {stages.NODE_ANNOTATION}=fake"
            )
        elif not (names is not None and wanted <= names) and not _truthy(environ.get(STAGES_ENV)):
            cluster.stages_missing = (
                "the cluster's kwok does not run the kwait stages: apply the output of "
                "`python -m tests.controlplane stages` (kwok with --enable-crds=Stage), or load "
                f"it with kwok --config and set {STAGES_ENV}=1"
            )
    log(f"kwait: using the existing cluster of {kubeconfig}")
    return cluster


def open_cluster(environ: Mapping[str, str] | None = None, log: Log = print) -> KubeCluster:
    """Return the session's cluster, starting the local control plane if needed.

    Raises:
        ControlPlaneUnavailableError: no cluster can be had (the message says why).
    """
    env = os.environ if environ is None else environ
    if _truthy(env.get(EXISTING_ENV)):
        return _existing(env, log)
    plane = ControlPlane(log=log).start()
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in plane.state.timings.items())
    log(f"kwait: local control plane ready ({timings})")
    return KubeCluster(plane.kubeconfig, control_plane=plane, owns_control_plane=True)
