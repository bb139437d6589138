"""Start and stop a local control plane: etcd, kube-apiserver, kwok, and the controllers.

Everything listens on loopback only, on free ports, with files in one temporary directory:

- **etcd**, data directory in the temporary directory, no fsync (the data is thrown away);
- a **fault proxy** between kube-apiserver and etcd (see :meth:`ControlPlane.compact`);
- **kube-apiserver**, with its self-signed serving certificate (``--cert-dir``), one static
  admin token (``--token-auth-file``, group ``system:masters``), RBAC, the default admission
  plugins and the watch cache on, as in a real cluster;
- **kube-controller-manager** and **kube-scheduler** (both optional, on by default): namespace
  deletion, service accounts, garbage collection, deployments and scheduling work as usual;
- **kwok**, managing the nodes annotated ``kwok.x-k8s.io/node=fake``, with the kwait stages of
  :mod:`tests.controlplane.stages` and nothing else.

Readiness is waited on, never slept on: etcd's ``/health``, kube-apiserver's ``/readyz``, then a
Node that kwok must mark Ready, and (with the controllers) the ``default`` service account.

:meth:`ControlPlane.stop` kills what it started, checks that no process, listening port or
temporary file is left, and raises :class:`TeardownError` if anything is.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from typing_extensions import Self

from tests.controlplane import keys, stages
from tests.controlplane.build import locate
from tests.controlplane.proxy import control_request

__all__ = [
    "ADMIN_USER",
    "LOG_DIR_ENV",
    "ClusterState",
    "ControlPlane",
    "ControlPlaneError",
    "TeardownError",
    "listening_ports",
    "process_alive",
]

ADMIN_USER = "kwait-admin"
#: If set, :meth:`ControlPlane.stop` copies the processes' logs into this directory first.
LOG_DIR_ENV = "KWAIT_CONTROLPLANE_LOG_DIR"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_POLL = 0.02  # seconds between readiness probes of a process that is still starting
_STOP_GRACE = 5.0  # seconds a process gets after SIGTERM before SIGKILL

Log = Callable[[str], None]


class ControlPlaneError(RuntimeError):
    """A control-plane process failed to start or to become ready."""


class TeardownError(RuntimeError):
    """Something the control plane started was still there after :meth:`ControlPlane.stop`."""


@dataclass
class ClusterState:
    """Everything needed to use, attach to and stop a running control plane.

    It is written as ``state.json`` next to the kubeconfig, so that another process (the
    ``down`` command, or a test session pointed at that kubeconfig) can take it over.
    """

    workdir: str
    server: str
    token: str
    ca_file: str
    kubeconfig: str
    etcd_url: str
    etcd_proxy_control: str
    node_name: str
    pids: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> ClusterState:
        """Read a ``state.json``."""
        return cls(**json.loads(path.read_text()))

    def dump(self, path: Path) -> None:
        """Write this state as ``state.json`` (atomically)."""
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)


# ---------------------------------------------------------------------- small helpers
def process_alive(pid: int) -> bool:
    """Return whether a process with this id exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = str(fd.readlink())
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def listening_ports(pids: Sequence[int] | None = None) -> set[int]:
    """Return the TCP ports in LISTEN state on this machine, or only those of `pids`.

    Reads ``/proc/net/tcp{,6}`` (Linux); returns an empty set where that is not available.
    """
    wanted = None if pids is None else set().union(*(_socket_inodes(p) for p in pids))
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] != "0A":  # TCP_LISTEN
                    continue
                if wanted is not None and fields[9] not in wanted:
                    continue
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _free_ports(count: int) -> list[int]:
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end


def _pause(seconds: float) -> None:
    # A bounded pause between two probes of a process that offers no way to be notified
    # (a port that starts listening, a process that exits without being our child).
    threading.Event().wait(seconds)


# ---------------------------------------------------------------------- HTTP
class _Http:
    """A minimal JSON client for kube-apiserver and etcd's gateway (stdlib only)."""

    def __init__(self, base: str, *, token: str | None = None, ca_file: str | None = None) -> None:
        self.base = base
        self.token = token
        self.ca_file = ca_file
        self._ctx: ssl.SSLContext | None = None

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        scheme, rest = self.base.split("://", 1)
        host, port = rest.rstrip("/").rsplit(":", 1)
        if scheme == "https":
            if self._ctx is None:
                self._ctx = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(host, int(port), timeout=timeout, context=self._ctx)
        return http.client.HTTPConnection(host, int(port), timeout=timeout)

    def request(
        self, method: str, path: str, body: object = None, *, timeout: float = 10
    ) -> tuple[int, Any]:
        conn = self._connection(timeout)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return resp.status, payload

    @contextlib.contextmanager
    def stream(self, path: str, *, timeout: float) -> Iterator[http.client.HTTPResponse]:
        conn = self._connection(timeout)
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request("GET", path, headers=headers)
            yield conn.getresponse()
        finally:
            conn.close()


# ---------------------------------------------------------------------- the control plane
class ControlPlane:
    """A local control plane on loopback; use as a context manager or call start/stop.

    Args:
        binaries: binary name -> path; default: :func:`tests.controlplane.build.locate`.
        controllers: also run kube-controller-manager.
        scheduler: also run kube-scheduler.
        log: where progress lines go.
        startup_timeout: seconds allowed for the whole start.
    """

    def __init__(
        self,
        binaries: Mapping[str, Path] | None = None,
        *,
        controllers: bool = True,
        scheduler: bool = True,
        log: Log = print,
        startup_timeout: float = 120,
    ) -> None:
        """Prepare; nothing runs until :meth:`start`."""
        self.controllers = controllers
        self.scheduler = scheduler
        self.log = log
        self.startup_timeout = startup_timeout
        self._binaries = dict(binaries) if binaries is not None else None
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._state: ClusterState | None = None
        self._attached = False

    # ------------------------------------------------------------------ public API
    @property
    def state(self) -> ClusterState:
        """The running control plane's state (raises if it is not running)."""
        if self._state is None:
            msg = "the control plane is not running"
            raise ControlPlaneError(msg)
        return self._state

    @property
    def kubeconfig(self) -> Path:
        """The kubeconfig file (admin token, the serving certificate's CA inlined)."""
        return Path(self.state.kubeconfig)

    @property
    def state_file(self) -> Path:
        """``state.json``, next to the kubeconfig."""
        return Path(self.state.workdir) / "state.json"

    @classmethod
    def attach(cls, state_file: Path, *, log: Log = print) -> ControlPlane:
        """Take over a control plane started by another process (``python -m ... up``)."""
        plane = cls(log=log)
        plane._state = ClusterState.load(state_file)
        plane._attached = True
        return plane

    def api(self) -> _Http:
        """A small stdlib client for kube-apiserver as the admin user."""
        return _Http(self.state.server, token=self.state.token, ca_file=self.state.ca_file)

    def __enter__(self) -> Self:
        """Start the control plane."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the control plane."""
        self.stop()

    def start(self) -> Self:
        """Start every process and wait until the control plane is ready; return self."""
        if self._state is not None:
            return self
        names = ["etcd", "kube-apiserver", "kwok"]
        if self.controllers:
            names.append("kube-controller-manager")
        if self.scheduler:
            names.append("kube-scheduler")
        binaries = self._binaries or locate(names, log=self.log)
        for attempt in range(3):
            try:
                self._start(binaries)
            except BaseException as exc:  # noqa: PERF203 - a retry loop, three turns at most
                # Whatever went wrong (a crash, a timeout, Ctrl-C), leave nothing running.
                self._stop_processes()
                self._remove_workdir()
                self._state = None
                retry = isinstance(exc, ControlPlaneError) and "address already in use" in str(exc)
                if not retry or attempt == 2:
                    raise
                self.log("a port was taken meanwhile; starting again on new ports")
            else:
                return self
        msg = "unreachable"
        raise AssertionError(msg)

    def stop(self) -> None:
        """Stop every process, remove the temporary directory, and check nothing is left.

        Raises:
            TeardownError: a process, a listening port or the directory survived.
        """
        if self._state is None:
            return
        state = self._state
        pids = [pid for pid in state.pids.values() if self._ours(pid)]
        ports = set(state.ports.values()) | listening_ports(pids)
        self._stop_processes()
        keep = os.environ.get(LOG_DIR_ENV, "").strip()
        if keep:
            target = Path(keep) / Path(state.workdir).name
            shutil.copytree(Path(state.workdir) / "logs", target, dirs_exist_ok=True)
            self.log(f"control-plane logs kept in {target}")
        self._remove_workdir()
        self._state = None
        left: list[str] = []
        alive = [f"{n} (pid {p})" for n, p in state.pids.items() if process_alive(p)]
        if alive:
            left.append("processes still running: " + ", ".join(alive))
        busy = sorted(ports & listening_ports())
        if busy:
            left.append(f"ports still listening: {busy}")
        if Path(state.workdir).exists():
            left.append(f"directory left behind: {state.workdir}")
        if left:
            raise TeardownError("; ".join(left))

    def detach(self) -> None:
        """Leave the processes running when this object goes away (``up``; ``down`` stops them).

        They run in sessions of their own; :meth:`attach` with :attr:`state_file` takes them over.
        """
        for proc in self._procs.values():
            # Popen warns about a child it never waited for; this one is handed over on purpose.
            proc.returncode = 0
        self._procs.clear()
        self._state = None

    def memory(self) -> dict[str, int]:
        """Return the resident set size (bytes) of each running process."""
        out: dict[str, int] = {}
        for name, pid in self.state.pids.items():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[name] = int(line.split()[1]) * 1024
        return out

    def compact(self, watch_paths: Sequence[str] = ("/api/v1/pods",), timeout: float = 30) -> int:
        """Compact etcd's history and make kube-apiserver's watch cache forget the past.

        A watch from a resourceVersion older than the returned revision then receives the
        ``410 Expired`` ERROR event (``too old resource version: R (C)``), served from the
        watch cache, which stays on. The steps:

        1. hold new apiserver->etcd connections and cut the open ones (the fault proxy);
        2. write a marker key twice straight to etcd and compact at the new revision ``C``;
        3. release: kube-apiserver reconnects, each watch cache resumes its etcd watch from
           its last revision (below ``C``), etcd answers "compacted", and the cache re-lists
           at a revision >= ``C``, emptying its event history. Every open watch stream is
           closed by the apiserver when that happens (clients reconnect and get 410).
        4. wait, for each of `watch_paths`, until a watch from the pre-compaction revision
           answers 410, so that the caller can rely on it at once.

        Compacting etcd alone is not enough: the watch cache serves watches from its own
        history (at least 75 s of events, up to 102400 per resource), whatever etcd keeps.

        Args:
            watch_paths: collection paths to check (their caches must have re-listed).
            timeout: seconds allowed for the whole operation.

        Returns:
            The etcd revision at which history was compacted.
        """
        state = self.state
        etcd = _Http(state.etcd_url)
        deadline = _Deadline(timeout)
        before = self._etcd_revision(etcd)
        control = Path(state.etcd_proxy_control)
        control_request(control, "hold")
        try:
            control_request(control, "cut")
            marker = base64.b64encode(b"/kwait/compaction-marker").decode()
            revision = 0
            for value in (b"1", b"2"):
                status, body = etcd.request(
                    "POST",
                    "/v3/kv/put",
                    {"key": marker, "value": base64.b64encode(value).decode()},
                )
                if status != http.HTTPStatus.OK:
                    msg = f"etcd put failed: {status} {body}"
                    raise ControlPlaneError(msg)
                revision = int(body["header"]["revision"])
            status, body = etcd.request(
                "POST", "/v3/kv/compaction", {"revision": str(revision), "physical": True}
            )
            if status != http.HTTPStatus.OK:
                msg = f"etcd compaction failed: {status} {body}"
                raise ControlPlaneError(msg)
        finally:
            control_request(control, "release")
        api = self.api()
        for path in watch_paths:
            self._wait_for_expired(api, path, before, deadline)
        return revision

    # ------------------------------------------------------------------ internals
    def _ours(self, pid: int) -> bool:
        """Whether `pid` is a process of this control plane (guards against pid reuse)."""
        if self._state is None or not process_alive(pid):
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return True
        return self._state.workdir.encode() in cmdline

    @staticmethod
    def _etcd_revision(etcd: _Http) -> int:
        status, body = etcd.request(
            "POST", "/v3/kv/range", {"key": base64.b64encode(b"/").decode()}
        )
        if status != http.HTTPStatus.OK:
            msg = f"etcd range failed: {status} {body}"
            raise ControlPlaneError(msg)
        return int(body["header"]["revision"])

    def _wait_for_expired(self, api: _Http, path: str, rv: int, deadline: _Deadline) -> None:
        query = f"{path}?watch=1&resourceVersion={rv}&timeoutSeconds=5"
        last = "no answer"
        while not deadline.expired():
            try:
                with api.stream(query, timeout=min(0.5, deadline.left() + 0.01)) as resp:
                    if resp.status != http.HTTPStatus.OK:
                        last = f"HTTP {resp.status}"
                        resp.read()
                    else:
                        line = resp.readline()
                        event = json.loads(line) if line.strip() else {}
                        obj = event.get("object", {})
                        if event.get("type") == "ERROR" and obj.get("code") == http.HTTPStatus.GONE:
                            return
                        last = f"event {event.get('type')}"
            except (TimeoutError, OSError, ValueError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            _pause(0.05)
        msg = f"watch cache for {path} did not drop revision {rv} in time (last: {last})"
        raise ControlPlaneError(msg)

    def _spawn(self, name: str, args: list[str], *, env: Mapping[str, str] | None = None) -> None:
        state = self.state
        log_path = Path(state.workdir) / "logs" / f"{name}.log"
        with log_path.open("ab") as log_file:
            proc = subprocess.Popen(  # noqa: S603 - binaries resolved by the harness
                args,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=state.workdir,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )
        self._procs[name] = proc
        state.pids[name] = proc.pid

    def _check_running(self, name: str) -> None:
        proc = self._procs.get(name)
        if proc is not None and proc.poll() is not None:
            log_path = Path(self.state.workdir) / "logs" / f"{name}.log"
            msg = (
                f"{name} exited with code {proc.returncode}; end of {log_path}:\n{_tail(log_path)}"
            )
            raise ControlPlaneError(msg)

    def _wait_until(
        self, what: str, probe: Callable[[], bool], deadline: _Deadline, *, watch: Sequence[str]
    ) -> None:
        while True:
            for name in watch:
                self._check_running(name)
            if probe():
                return
            if deadline.expired():
                logs = "\n".join(
                    f"--- {n}:\n{_tail(Path(self.state.workdir) / 'logs' / f'{n}.log', 15)}"
                    for n in watch
                )
                msg = f"timed out waiting for {what}\n{logs}"
                raise ControlPlaneError(msg)
            _pause(_POLL)

    def _start(self, binaries: Mapping[str, Path]) -> None:
        t0 = time.monotonic()
        workdir = Path(tempfile.mkdtemp(prefix="kwait-controlplane-"))
        (workdir / "logs").mkdir()
        (workdir / "pki").mkdir()
        token = secrets.token_hex(24)
        etcd_port, peer_port, api_port = _free_ports(3)
        self._state = state = ClusterState(
            workdir=str(workdir),
            server=f"https://127.0.0.1:{api_port}",
            token=token,
            ca_file=str(workdir / "pki" / "apiserver.crt"),
            kubeconfig=str(workdir / "kubeconfig"),
            etcd_url=f"http://127.0.0.1:{etcd_port}",
            etcd_proxy_control=str(workdir / "etcd-proxy.sock"),
            node_name=stages.NODE_NAME,
            ports={"etcd": etcd_port, "etcd-peer": peer_port, "kube-apiserver": api_port},
        )
        deadline = _Deadline(self.startup_timeout)
        sa_key = workdir / "pki" / "service-account.key"
        sa_key.write_bytes(keys.ec_private_key_pem())
        (workdir / "tokens.csv").write_text(f'{token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
        (workdir / "kwok.yaml").write_text(stages.kwok_config())

        # etcd
        self._spawn(
            "etcd",
            [
                str(binaries["etcd"]),
                "--name=kwait",
                f"--data-dir={workdir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=kwait=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",
                # One member on loopback: elect it at once instead of after a second.
                "--heartbeat-interval=10",
                "--election-timeout=100",
                "--log-level=warn",
            ],
        )
        etcd = _Http(state.etcd_url)

        def etcd_healthy() -> bool:
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, body = etcd.request("GET", "/health", timeout=2)
                return status == http.HTTPStatus.OK and body.get("health") == "true"
            return False

        # the fault proxy in front of etcd, started while etcd starts
        self._spawn_proxy(etcd_port)
        self._wait_until("etcd /health", etcd_healthy, deadline, watch=["etcd"])
        state.timings["etcd"] = time.monotonic() - t0

        # kube-apiserver
        api_args = [
            str(binaries["kube-apiserver"]),
            f"--etcd-servers=http://127.0.0.1:{state.ports['etcd-proxy']}",
            "--bind-address=127.0.0.1",
            f"--secure-port={api_port}",
            f"--cert-dir={workdir / 'pki'}",
            f"--token-auth-file={workdir / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={sa_key}",
            f"--service-account-signing-key-file={sa_key}",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            "--v=1",
        ]
        if not self.controllers:
            # Without the service-account controller no namespace gets its "default"
            # account, and the ServiceAccount admission plugin would refuse every pod.
            api_args.append("--disable-admission-plugins=ServiceAccount")
        self._spawn("kube-apiserver", api_args)
        api = self.api()

        def apiserver_ready() -> bool:
            if not Path(state.ca_file).exists():
                return False
            with contextlib.suppress(OSError, http.client.HTTPException, ssl.SSLError):
                status, _ = api.request("GET", "/readyz", timeout=2)
                return status == http.HTTPStatus.OK
            return False

        self._wait_until(
            "kube-apiserver /readyz", apiserver_ready, deadline, watch=["kube-apiserver"]
        )
        state.timings["kube-apiserver"] = time.monotonic() - t0
        self._write_kubeconfig()

        # kwok and the controllers
        kubeconfig = state.kubeconfig
        self._spawn(
            "kwok",
            [
                str(binaries["kwok"]),
                f"--kubeconfig={kubeconfig}",
                f"--config={workdir / 'kwok.yaml'}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={stages.NODE_ANNOTATION}=fake",
                "--node-lease-duration-seconds=40",
                "--cidr=10.244.0.1/16",
                "--node-ip=10.0.0.5",
            ],
            env=dict(os.environ, HOME=str(workdir)),  # keep ~/.kwok/kwok.yaml out
        )
        if self.controllers:
            self._spawn(
                "kube-controller-manager",
                [
                    str(binaries["kube-controller-manager"]),
                    f"--kubeconfig={kubeconfig}",
                    "--secure-port=0",
                    "--leader-elect=false",
                    f"--service-account-private-key-file={sa_key}",
                    f"--root-ca-file={state.ca_file}",
                    "--use-service-account-credentials=false",
                    "--v=1",
                ],
            )
        if self.scheduler:
            self._spawn(
                "kube-scheduler",
                [
                    str(binaries["kube-scheduler"]),
                    f"--kubeconfig={kubeconfig}",
                    "--secure-port=0",
                    "--leader-elect=false",
                    "--v=1",
                ],
            )
        watch = [
            n for n in ("kwok", "kube-controller-manager", "kube-scheduler") if n in self._procs
        ]
        status, body = api.request("POST", "/api/v1/nodes", stages.node_manifest())
        if status not in {http.HTTPStatus.CREATED, http.HTTPStatus.CONFLICT}:
            msg = f"creating node {stages.NODE_NAME} failed: {status} {body}"
            raise ControlPlaneError(msg)
        self._wait_until("kwok to mark the node Ready", self._node_ready, deadline, watch=watch)
        state.timings["kwok"] = time.monotonic() - t0
        if self.controllers:
            self._wait_until(
                "the default service account",
                lambda: (
                    api.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")[0]
                    == http.HTTPStatus.OK
                ),
                deadline,
                watch=watch,
            )
            state.timings["kube-controller-manager"] = time.monotonic() - t0
        state.timings["ready"] = time.monotonic() - t0
        state.dump(Path(state.workdir) / "state.json")

    def _spawn_proxy(self, etcd_port: int) -> None:
        state = self.state
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO_ROOT), env.get("PYTHONPATH")]))
        with (Path(state.workdir) / "logs" / "etcd-proxy.log").open("ab") as log_file:
            proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
                [
                    sys.executable,
                    "-m",
                    "tests.controlplane.proxy",
                    f"--target=127.0.0.1:{etcd_port}",
                    f"--control={state.etcd_proxy_control}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_file,
                cwd=state.workdir,
                env=env,
                start_new_session=True,
            )
        self._procs["etcd-proxy"] = proc
        state.pids["etcd-proxy"] = proc.pid
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        proc.stdout.close()
        if not line.startswith("port="):
            self._check_running("etcd-proxy")
            msg = f"etcd proxy did not report its port (got {line!r})"
            raise ControlPlaneError(msg)
        state.ports["etcd-proxy"] = int(line.removeprefix("port="))

    def _node_ready(self) -> bool:
        status, node = self.api().request("GET", f"/api/v1/nodes/{quote(stages.NODE_NAME)}")
        if status != http.HTTPStatus.OK:
            return False
        conditions = node.get("status", {}).get("conditions") or []
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    def _write_kubeconfig(self) -> None:
        state = self.state
        ca = base64.b64encode(Path(state.ca_file).read_bytes()).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "kwait",
                    "cluster": {"server": state.server, "certificate-authority-data": ca},
                }
            ],
            "users": [{"name": ADMIN_USER, "user": {"token": state.token}}],
            "contexts": [
                {"name": "kwait", "context": {"cluster": "kwait", "user": ADMIN_USER}},
            ],
            "current-context": "kwait",
        }
        path = Path(state.kubeconfig)
        path.write_text(json.dumps(config, indent=2))
        path.chmod(0o600)

    def _stop_processes(self) -> None:
        if self._state is None:
            return
        state = self._state
        # Clients first, then the API server, then its storage. kube-apiserver gets SIGKILL:
        # its graceful shutdown takes a second and buys nothing for a throw-away cluster.
        waves = [
            (["kwok", "kube-scheduler", "kube-controller-manager"], signal.SIGTERM),
            (["kube-apiserver"], signal.SIGKILL),
            (["etcd-proxy", "etcd"], signal.SIGTERM),
        ]
        for wave, signum in waves:
            pids = {n: state.pids[n] for n in wave if n in state.pids}
            live = {n: p for n, p in pids.items() if self._ours(p) or n in self._procs}
            for pid in live.values():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signum)
            deadline = _Deadline(_STOP_GRACE)
            for name, pid in live.items():
                self._reap(name, pid, deadline)
        self._procs.clear()

    def _reap(self, name: str, pid: int, deadline: _Deadline) -> None:
        proc = self._procs.get(name)
        if proc is not None:
            try:
                proc.wait(timeout=deadline.left())
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return
        while process_alive(pid) and not deadline.expired():
            _pause(_POLL)
        if process_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while process_alive(pid):
                _pause(_POLL)

    def _remove_workdir(self) -> None:
        if self._state is not None:
            shutil.rmtree(self._state.workdir, ignore_errors=True)
