"""Unit tests of the control-plane harness: no cluster, no Go build, no network beyond loopback."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.controlplane import build, keys, stages, versions
from tests.controlplane.cluster import ClusterState, listening_ports, process_alive
from tests.controlplane.fixtures import unique_name
from tests.controlplane.proxy import FaultProxy, control_request

REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------- versions
@pytest.mark.parametrize(
    ("component", "module", "version"),
    [
        ("kubernetes", versions.KUBERNETES_MODULE, versions.KUBERNETES),
        ("etcd", versions.ETCD_MODULE, versions.ETCD),
        ("kwok", versions.KWOK_MODULE, versions.KWOK),
    ],
)
def test_wrapper_modules_require_the_pinned_versions(
    component: str, module: str, version: str
) -> None:
    """Each wrapper go.mod requires exactly the version written in versions.py."""
    gomod = (build.GOMOD_DIR / component / "go.mod").read_text()
    assert re.search(rf"^require {re.escape(module)} {re.escape(version)}$", gomod, re.MULTILINE)
    go_line = re.search(r"^go (\S+)$", gomod, re.MULTILINE)
    assert go_line is not None
    assert go_line.group(1) == versions.GO_MINIMUM


def test_kubernetes_staging_modules_are_pinned_to_the_matching_version() -> None:
    """Every k8s.io staging replace in the Kubernetes wrapper points at KUBERNETES_STAGING."""
    gomod = (build.GOMOD_DIR / "kubernetes" / "go.mod").read_text()
    replaced = re.findall(r"^\s+(k8s\.io/\S+) => k8s\.io/\S+ (\S+)$", gomod, re.MULTILINE)
    assert len(replaced) > 20
    assert {version for _, version in replaced} == {versions.KUBERNETES_STAGING}


def test_versions_key_names_the_versions_and_changes_with_build_inputs() -> None:
    """The cache key carries the three versions and a digest of the wrapper modules."""
    key = build.versions_key()
    assert versions.KUBERNETES in key
    assert versions.ETCD in key
    assert versions.KWOK in key
    assert re.fullmatch(r".*_[0-9a-f]{12}", key)


# ---------------------------------------------------------------------- pull policy
def test_pull_policy_defaults_to_missing_and_rejects_unknown_values() -> None:
    """An unset policy means `missing`; a typo fails with the allowed choices."""
    assert build.PullPolicy.from_env({}) is build.PullPolicy.MISSING
    assert build.PullPolicy.from_env({build.PULL_ENV: " Never "}) is build.PullPolicy.NEVER
    with pytest.raises(ValueError, match="missing, never, always"):
        build.PullPolicy.from_env({build.PULL_ENV: "sometimes"})


def _fake_binaries(directory: Path, names: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = directory / name
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)


def test_never_with_an_empty_cache_says_what_is_missing_and_how_to_get_it(tmp_path: Path) -> None:
    """Policy `never` with nothing cached fails naming the binaries and the build command."""
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": "", build.PULL_ENV: "never"}
    with pytest.raises(build.ControlPlaneUnavailableError) as info:
        build.locate(["etcd", "kwok"], environ=env, log=lambda _: None)
    message = str(info.value)
    assert "etcd, kwok" in message
    assert "python -m tests.controlplane build" in message
    assert build.BIN_DIR_ENV in message


def test_missing_without_go_cannot_build_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Policy `missing` with an empty cache and no `go` anywhere is unavailable, not a crash."""
    monkeypatch.setattr(build, "STANDARD_GO", tmp_path / "no-go")
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": str(tmp_path / "empty")}
    with pytest.raises(build.ControlPlaneUnavailableError, match="no `go` command"):
        build.locate(["kube-apiserver"], environ=env, log=lambda _: None)


def test_cached_binaries_are_used_without_go(tmp_path: Path) -> None:
    """Binaries already in the cache are returned as they are, with no Go around."""
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": ""}
    _fake_binaries(build.cache_dir(env), ["etcd"])
    found = build.locate(["etcd"], environ=env, log=lambda _: None)
    assert found == {"etcd": build.cache_dir(env) / "etcd"}


def test_go_is_found_through_goroot_when_not_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `go` on PATH, $GOROOT/bin/go is used, then Go's standard install place."""
    monkeypatch.setattr(build, "STANDARD_GO", tmp_path / "no-go")
    _fake_binaries(tmp_path / "goroot" / "bin", ["go"])
    env = {"PATH": str(tmp_path / "empty"), "GOROOT": str(tmp_path / "goroot")}
    assert build.find_go(env) == str(tmp_path / "goroot" / "bin" / "go")
    assert build.find_go({"PATH": str(tmp_path / "empty")}) is None


def test_binary_directory_takes_precedence_over_the_cache(tmp_path: Path) -> None:
    """KWAIT_CONTROLPLANE_BIN_DIR binaries win; the rest still come from the cache."""
    given = tmp_path / "given"
    env = {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PATH": "",
        build.BIN_DIR_ENV: str(given),
        build.PULL_ENV: "never",
    }
    _fake_binaries(given, ["etcd"])
    _fake_binaries(build.cache_dir(env), ["etcd", "kwok"])
    found = build.locate(["etcd", "kwok"], environ=env, log=lambda _: None)
    assert found == {"etcd": given / "etcd", "kwok": build.cache_dir(env) / "kwok"}


# ---------------------------------------------------------------------- keys
def _der_items(der: bytes) -> list[tuple[int, bytes]]:
    items = []
    i = 0
    while i < len(der):
        tag, length = der[i], der[i + 1]
        i += 2
        if length & 0x80:
            size = length & 0x7F
            length = int.from_bytes(der[i : i + size], "big")
            i += size
        items.append((tag, der[i : i + length]))
        i += length
    return items


def test_ec_key_pem_holds_the_scalar_and_its_public_point() -> None:
    """The SEC 1 key carries version 1, the scalar, the P-256 OID and d*G on the curve."""
    pem = keys.ec_private_key_pem(12345).decode()
    assert pem.startswith("-----BEGIN EC PRIVATE KEY-----\n")
    body = base64.b64decode("".join(pem.strip().splitlines()[1:-1]))
    [(tag, sequence)] = _der_items(body)
    assert tag == 0x30
    version, scalar, params, public = _der_items(sequence)
    assert version == (0x02, b"\x01")
    assert scalar == (0x04, (12345).to_bytes(32, "big"))
    assert params == (0xA0, bytes.fromhex("06082a8648ce3d030107"))
    [(bit_string_tag, bits)] = _der_items(public[1])
    assert bit_string_tag == 0x03
    point = (int.from_bytes(bits[2:34], "big"), int.from_bytes(bits[34:66], "big"))
    assert bits[:2] == b"\x00\x04"
    assert point == keys.public_point(12345)
    assert keys.on_curve(point)


def test_curve_arithmetic_has_the_published_order() -> None:
    """n*G is the point at infinity and (n-1)*G is -G: the curve constants are right."""
    generator = keys.public_point(1)
    assert keys.scalar_mult(keys.CURVE_ORDER) is None
    minus_one = keys.scalar_mult(keys.CURVE_ORDER - 1)
    assert minus_one is not None
    assert minus_one[0] == generator[0]
    assert minus_one[1] != generator[1]


# ---------------------------------------------------------------------- proxy
@pytest.fixture
def backend() -> Iterator[socket.socket]:
    """A listening loopback socket standing in for the proxied server."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def test_proxy_forwards_counts_and_cuts_with_a_reset(backend: socket.socket) -> None:
    """Bytes pass both ways; cut() resets every open connection and reports how many."""
    with FaultProxy("127.0.0.1", backend.getsockname()[1]) as proxy:
        client = socket.create_connection(("127.0.0.1", proxy.port))
        upstream, _ = backend.accept()
        with client, upstream:
            client.sendall(b"ping")
            assert upstream.recv(4) == b"ping"
            upstream.sendall(b"pong")
            assert client.recv(4) == b"pong"
            assert proxy.wait_for_open(1, timeout=5)
            assert proxy.cut() == 1
            with pytest.raises(ConnectionResetError):
                client.recv(4)
        stats = proxy.stats()
        assert (stats.accepted, stats.open, stats.cut) == (1, 0, 1)


def test_proxy_close_mode_ends_streams_cleanly(backend: socket.socket) -> None:
    """cut(reset=False) closes both sides in order: the client reads end-of-stream."""
    with FaultProxy("127.0.0.1", backend.getsockname()[1]) as proxy:
        client = socket.create_connection(("127.0.0.1", proxy.port))
        upstream, _ = backend.accept()
        with client, upstream:
            assert proxy.wait_for_open(1, timeout=5)
            assert proxy.cut(reset=False) == 1
            assert client.recv(4) == b""


def test_proxy_holds_new_connections_until_released(backend: socket.socket) -> None:
    """While held, connections are accepted but reach the target only after release()."""
    backend.settimeout(0.2)
    with FaultProxy("127.0.0.1", backend.getsockname()[1]) as proxy:
        proxy.hold()
        client = socket.create_connection(("127.0.0.1", proxy.port))
        with client:
            client.sendall(b"early")
            with pytest.raises(TimeoutError):
                backend.accept()
            proxy.release()
            backend.settimeout(5)
            upstream, _ = backend.accept()
            with upstream:
                assert upstream.recv(5) == b"early"


def test_proxy_program_answers_control_commands(tmp_path: Path, backend: socket.socket) -> None:
    """Run as a program, the proxy prints its port and obeys cut/stats on its Unix socket."""
    control = tmp_path / "proxy.sock"
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "tests.controlplane.proxy",
            f"--target=127.0.0.1:{backend.getsockname()[1]}",
            f"--control={control}",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip().removeprefix("port="))
        client = socket.create_connection(("127.0.0.1", port))
        upstream, _ = backend.accept()
        with client, upstream:
            client.sendall(b"x")
            assert upstream.recv(1) == b"x"
            assert control_request(control, "stats")["open"] == 1
            assert control_request(control, "cut") == {"cut": 1}
            with pytest.raises(RuntimeError, match="unknown command"):
                control_request(control, "explode")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 0
    assert not control.exists()


# ---------------------------------------------------------------------- stages
def test_stage_documents_inline_the_helpers_everywhere_they_are_used() -> None:
    """Every template that calls a kwait helper has the helper definitions in place."""
    text = stages.stage_documents()
    docs = text.split("\n---\n")
    assert len(docs) == len(stages.stage_names())
    for doc in docs:
        assert "kwait:helpers */}}" not in doc
        if 'template "kwait.' in doc:
            assert 'define "kwait.conditions"' in doc
            assert 'define "kwait.container"' in doc


def test_stage_names_are_unique_and_cover_every_lifecycle() -> None:
    """Stage names do not repeat, and each lifecycle label value is selected by some stage."""
    names = stages.stage_names()
    assert len(names) == len(set(names))
    text = stages.stage_documents()
    for lifecycle in stages.LIFECYCLES:
        assert lifecycle in text


def test_pod_manifest_binds_to_the_node_and_refuses_unknown_lifecycles() -> None:
    """Pods name the kwok node and carry the lifecycle label; a typo is refused."""
    pod = stages.pod_manifest("web", lifecycle="crash-loop", annotations={"kwait.dev/delay": "0s"})
    assert pod["spec"]["nodeName"] == stages.NODE_NAME
    assert pod["metadata"]["labels"] == {stages.LIFECYCLE_LABEL: "crash-loop"}
    assert pod["metadata"]["annotations"] == {"kwait.dev/delay": "0s"}
    with pytest.raises(ValueError, match="unknown lifecycle"):
        stages.pod_manifest("web", lifecycle="crashloop")


def test_node_manifest_is_annotated_for_kwok_and_tainted_on_request() -> None:
    """The node carries kwok's management annotation; the taint is there only when asked."""
    plain = stages.node_manifest()
    assert plain["metadata"]["annotations"][stages.NODE_ANNOTATION] == "fake"
    assert "taints" not in plain["spec"]
    assert stages.node_manifest(taint=True)["spec"]["taints"] == [stages.NODE_TAINT]


# ---------------------------------------------------------------------- small helpers
def test_unique_names_are_dns_labels() -> None:
    """Generated names are lowercase DNS-1123 labels of at most 63 characters, all distinct."""
    names = {unique_name("kwait", "Test_Something[param-1]" * 5) for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)
        assert len(name) <= 63


def test_listening_ports_sees_a_socket_of_this_process_until_it_closes() -> None:
    """A listening socket of this process is reported for its pid, and gone once closed."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    try:
        assert port in listening_ports([os.getpid()])
    finally:
        server.close()
    assert port not in listening_ports([os.getpid()])
    assert process_alive(os.getpid())


def test_state_json_round_trips(tmp_path: Path) -> None:
    """A ClusterState written as state.json reads back equal."""
    state = ClusterState(
        workdir="/w",
        server="https://127.0.0.1:1",
        token="t",  # noqa: S106 - not a secret
        ca_file="/w/ca",
        kubeconfig="/w/kubeconfig",
        etcd_url="http://127.0.0.1:2",
        etcd_proxy_control="/w/sock",
        node_name="n",
        pids={"etcd": 1},
        ports={"etcd": 2},
    )
    path = tmp_path / "state.json"
    state.dump(path)
    assert ClusterState.load(path) == state
    assert json.loads(path.read_text())["pids"] == {"etcd": 1}
