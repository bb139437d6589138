"""A loopback TCP proxy that cuts connections on demand.

Tests put it in front of kube-apiserver to cut a watch stream in the middle, the way a load
balancer restart or a network blip does; the control plane puts one between kube-apiserver and
etcd to break the API server's etcd watches when it forces a compaction (see
:meth:`tests.controlplane.cluster.ControlPlane.compact`).

The proxy works on bytes, so TLS passes through it untouched. It runs an asyncio loop on a
daemon thread; every public method is thread-safe and returns once the proxy has acted.

Run as a program (``python -m tests.controlplane.proxy --target HOST:PORT --control SOCKET``)
it prints ``port=<n>`` once it and its control socket listen, then answers one-line commands
on that Unix socket: ``cut``, ``close``, ``hold``, ``release`` and ``stats``, each with one
line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import socket
import struct
import sys
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from typing_extensions import Self

__all__ = ["FaultProxy", "ProxyStats", "control_request", "main"]

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ProxyStats:
    """Counters of a :class:`FaultProxy`.

    Attributes:
        accepted: connections accepted since the proxy started.
        open: connections open right now (both sides connected).
        cut: connections the proxy has cut on request.
        held: connections accepted while held and not yet forwarded.
    """

    accepted: int
    open: int
    cut: int
    held: int


@dataclass(eq=False)
class _Pair:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class FaultProxy:
    """Forward TCP connections to a target and cut them all on request.

    Args:
        target_host: the host to forward to.
        target_port: the port to forward to.
        listen_host: where to listen; loopback by default.
        listen_port: the port to listen on; 0 picks a free one (see :attr:`port`).
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        """Prepare the proxy; :meth:`start` (or ``with``) makes it listen."""
        self.target = (target_host, target_port)
        self._listen = (listen_host, listen_port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._pairs: set[_Pair] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self._released: asyncio.Event | None = None
        self._held = 0
        self._accepted = 0
        self._cut = 0
        self._changed = threading.Condition()
        self._port = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """Listen and forward, on a background thread; return the proxy itself."""
        if self._thread is not None:
            return self
        started = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._open())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._shutdown())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="kwait-fault-proxy", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def close(self) -> None:
        """Stop listening, cut every connection and stop the thread."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        """Start the proxy."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the proxy."""
        self.close()

    # ------------------------------------------------------------------ public controls
    @property
    def port(self) -> int:
        """The port the proxy listens on (on ``listen_host``)."""
        return self._port

    @property
    def url_host(self) -> str:
        """``host:port`` of the proxy, for building URLs."""
        return f"{self._listen[0]}:{self._port}"

    def cut(self, *, reset: bool = True) -> int:
        """Cut every open connection now; return how many were cut.

        Args:
            reset: abort with a TCP reset (what a dead peer or a middlebox looks like); with
                ``False`` both sides get an orderly close (FIN) instead.
        """
        return self._call(self._cut_all(reset=reset))

    def hold(self) -> None:
        """Accept new connections but forward nothing until :meth:`release`."""
        self._call(self._set_held(held=True))

    def release(self) -> None:
        """Forward the connections accepted while held, and every new one."""
        self._call(self._set_held(held=False))

    def stats(self) -> ProxyStats:
        """Return the current counters."""
        with self._changed:
            return ProxyStats(self._accepted, len(self._pairs), self._cut, self._held)

    def wait_for_open(self, count: int, *, timeout: float) -> bool:
        """Wait until at least `count` connections are open; return whether they are."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._pairs) >= count, timeout)

    # ------------------------------------------------------------------ loop side
    def _call(self, coro: Coroutine[Any, Any, int]) -> int:
        if self._loop is None or self._thread is None:
            coro.close()
            msg = "the proxy is not running"
            raise RuntimeError(msg)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _open(self) -> None:
        self._released = asyncio.Event()
        self._released.set()
        self._server = await asyncio.start_server(self._handle, *self._listen)
        self._port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._cut_all(reset=True, count=False)
        for task in self._handlers:
            task.cancel()
        if self._handlers:
            await asyncio.wait(self._handlers)
        if self._server is not None:
            await self._server.wait_closed()

    async def _set_held(self, *, held: bool) -> int:
        assert self._released is not None
        if held:
            self._released.clear()
        else:
            self._released.set()
        return 0

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._released is not None
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        with self._changed:
            self._accepted += 1
        pair = _Pair(client=writer)
        try:
            if not self._released.is_set():
                with self._changed:
                    self._held += 1
                try:
                    await self._released.wait()
                finally:
                    with self._changed:
                        self._held -= 1
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                _abort(writer, reset=True)
                return
            pair.upstream = up_writer
            with self._changed:
                self._pairs.add(pair)
                self._changed.notify_all()
            pair.tasks = [
                asyncio.ensure_future(_pump(reader, up_writer)),
                asyncio.ensure_future(_pump(up_reader, writer)),
            ]
            await asyncio.wait(pair.tasks, return_when=asyncio.FIRST_COMPLETED)
            # One direction ended: let the other drain what it has, then close both.
            await asyncio.wait(pair.tasks, timeout=1)
        finally:
            for task in pair.tasks:
                task.cancel()
            _abort(writer, reset=False)
            if pair.upstream is not None:
                _abort(pair.upstream, reset=False)
            with self._changed:
                self._pairs.discard(pair)
                self._changed.notify_all()
            if handler is not None:
                self._handlers.discard(handler)

    async def _cut_all(self, *, reset: bool, count: bool = True) -> int:
        with self._changed:
            pairs = list(self._pairs)
            self._pairs.clear()
            if count:
                self._cut += len(pairs)
        for pair in pairs:
            for task in pair.tasks:
                task.cancel()
            _abort(pair.client, reset=reset)
            if pair.upstream is not None:
                _abort(pair.upstream, reset=reset)
        self._notify()
        return len(pairs)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


def _abort(writer: asyncio.StreamWriter, *, reset: bool) -> None:
    sock = writer.get_extra_info("socket")
    if reset and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if reset:
        writer.transport.abort()
    else:
        writer.close()


# ---------------------------------------------------------------------- program mode
def control_request(control: Path, command: str, *, timeout: float = 10) -> dict[str, int]:
    """Send one command to a proxy program's control socket and return its JSON answer.

    Args:
        control: the Unix socket the program was started with (``--control``).
        command: ``cut``, ``close``, ``hold``, ``release`` or ``stats``.
        timeout: seconds to wait for the answer.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(control))
        sock.sendall(command.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    answer: dict[str, int] = json.loads(data)
    if "error" in answer:
        msg = f"proxy control {command!r} failed: {answer['error']}"
        raise RuntimeError(msg)
    return answer


def _answer(proxy: FaultProxy, command: str) -> dict[str, object]:
    if command == "cut":
        return {"cut": proxy.cut(reset=True)}
    if command == "close":
        return {"cut": proxy.cut(reset=False)}
    if command == "hold":
        proxy.hold()
    elif command == "release":
        proxy.release()
    elif command != "stats":
        return {"error": f"unknown command {command!r}"}
    stats = proxy.stats()
    return {"accepted": stats.accepted, "open": stats.open, "cut": stats.cut, "held": stats.held}


def _control_socket(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    return server


def _serve_control(proxy: FaultProxy, server: socket.socket, path: Path) -> None:
    try:
        while True:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(10)
                line = b""
                while not line.endswith(b"\n"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    line += chunk
                reply = _answer(proxy, line.decode().strip())
                conn.sendall(json.dumps(reply).encode() + b"\n")
    finally:
        server.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    """Run a proxy until SIGTERM or SIGINT (the program mode described above)."""
    parser = argparse.ArgumentParser(prog="python -m tests.controlplane.proxy")
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on")
    parser.add_argument("--control", required=True, type=Path, help="Unix socket for commands")
    args = parser.parse_args(argv)
    target_host, target_port = args.target.rsplit(":", 1)
    listen_host, listen_port = args.listen.rsplit(":", 1)

    def on_signal(_signum: int, _frame: object) -> None:
        # Raised in the main thread, this ends the blocking accept() at once.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FaultProxy(
        target_host, int(target_port), listen_host=listen_host, listen_port=int(listen_port)
    ) as proxy:
        control = _control_socket(args.control)
        # Both sockets listen before the port line goes out: the caller may use them at once.
        sys.stdout.write(f"port={proxy.port}\n")
        sys.stdout.flush()
        _serve_control(proxy, control, args.control)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
