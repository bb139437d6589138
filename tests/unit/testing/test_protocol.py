"""Client compatibility, discovery, shutdown and thread safety (checklist 16, quality bar)."""

from __future__ import annotations

import threading
from typing import Any

import urllib3
from kubernetes import client as _client
from kubernetes import config as _config
from kubernetes import dynamic as _dynamic

from kwait.testing import FakeApiServer, FakeClock

from .conftest import RawWatch, cm_body, raw

# The official client is only partly typed; treat it as dynamic here.
client: Any = _client
config: Any = _config
dynamic: Any = _dynamic

CMS = "/api/v1/namespaces/default/configmaps"


def test_old_client_quirks(server: FakeApiServer, http: urllib3.PoolManager) -> None:
    """watch=True, a bare watch, '+' for spaces, and bodies without Content-Type all work."""
    created = raw(http, server, "POST", CMS, cm_body("a", {"app": "web"}))
    assert created.status == 201
    replaced = raw(http, server, "PUT", CMS + "/a", {**created.json, "data": {"k": "v"}})
    assert replaced.status == 200
    assert replaced.json["data"] == {"k": "v"}
    listed = raw(http, server, "GET", CMS + "?labelSelector=app+in+%28web%29")
    assert [i["metadata"]["name"] for i in listed.json["items"]] == ["a"]
    for flag in ("watch=True", "watch", "watch=1"):
        stream = RawWatch(server, f"{CMS}?{flag}&labelSelector=app+in+(web)")
        assert stream.event()["type"] == "ADDED"
        stream.close()
    for flag in ("watch=false", "watch=0", "watch=FALSE"):
        assert raw(http, server, "GET", f"{CMS}?{flag}").json["kind"] == "ConfigMapList"


def test_write_kubeconfig_loads_with_the_official_loader(
    server: FakeApiServer, tmp_path: Any
) -> None:
    """The kubeconfig file the server writes is accepted by kubernetes.config."""
    path = server.write_kubeconfig(tmp_path / "config")
    api = config.new_client_from_config(config_file=str(path))
    try:
        assert client.CoreV1Api(api).read_namespace("default").status.phase == "Active"
    finally:
        api.close()


def test_discovery_and_the_dynamic_client(api: Any) -> None:
    """The dynamic client discovers pods and deployments and can list them."""
    dyn = dynamic.DynamicClient(api)
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    assert pods.namespaced is True
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.get(namespace="default").items == []
    version = client.VersionApi(api).get_code()
    assert version.major == "1"


def test_shutdown_leaves_no_threads_or_sockets(clock: FakeClock, http: urllib3.PoolManager) -> None:
    """Stopping the server ends open watches cleanly and joins every thread it started."""
    before = set(threading.enumerate())
    with FakeApiServer(clock=clock) as srv:
        raw(http, srv, "POST", CMS, cm_body("a"))
        stream = RawWatch(srv, CMS + "?watch=1")
        assert stream.event()["type"] == "ADDED"
        idle = RawWatch(srv, CMS + "?watch=1&resourceVersion=1")
        listener = srv._httpd
        assert listener is not None
        socket_ = listener.socket
    assert stream.rest() == b""
    stream.close()
    idle.close()
    assert socket_.fileno() == -1
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == []


def test_concurrent_writers_get_distinct_resource_versions(server: FakeApiServer, api: Any) -> None:
    """Parallel creates and patches each take their own RV and every event is recorded once."""
    core = client.CoreV1Api(api)
    start = server.resource_version

    def work(i: int) -> None:
        core.create_namespaced_config_map("default", cm_body(f"c{i}"))
        for j in range(5):
            core.patch_namespaced_config_map(f"c{i}", "default", {"data": {"j": str(j)}})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    events = [e for e in server.store.iter_events() if e.rv > start]
    assert [e.rv for e in events] == list(range(start + 1, server.resource_version + 1))
    assert len(events) == 8 * 6
