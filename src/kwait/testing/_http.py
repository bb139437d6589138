"""The fake API server's HTTP plumbing: a loopback server, its handler, request values.

`HTTPServer` runs each connection on a daemon thread it tracks (and joins
on close), and hands every request to one dispatch function; `Handler`
writes JSON bodies, ``Status`` errors and chunked streams, and can cut its
connection. `Route` and the decoders below are a resource request as the
serving layers see it. Nothing here knows how a request is answered.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kwait.testing._errors import StatusError, bad_request
from kwait.testing._resources import ResourceType

__all__ = [
    "JSON",
    "Dispatch",
    "HTTPServer",
    "Handler",
    "Route",
    "decode_body",
    "dumps",
    "parse_int",
    "truthy",
]

JSON = "application/json"

Dispatch = Callable[["Handler", str], None]
"""Answer one request: called with the handler and the HTTP method."""


def dumps(obj: Any) -> bytes:
    """Serialize `obj` as compact JSON, one line."""
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


class HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server whose every thread `server_close` joins."""

    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatch: Dispatch, on_send: Any = None) -> None:
        """Listen on `address`; `dispatch` answers every request.

        `on_send`, if given, is called after every write to a client (the
        server's clock uses it: a reader waiting on I/O gets a new grace).
        """
        self.dispatch = dispatch
        self.on_send = on_send
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.handler_threads: list[threading.Thread] = []
        self.helper_threads: list[threading.Thread] = []
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Handle `request` on a tracked daemon thread."""
        # Daemon handler threads, so that a server a test forgot to stop cannot keep the
        # test process alive; tracked here (socketserver does not track daemon threads) so
        # that server_close still joins every one of them.
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self.connections_lock:
            self.handler_threads = [t for t in self.handler_threads if t.is_alive()]
            self.handler_threads.append(thread)
        thread.start()

    def start_helper(self, target: Callable[[], None], name: str) -> None:
        """Run `target` on a daemon thread that `server_close` joins after the handlers."""
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self.connections_lock:
            self.helper_threads = [t for t in self.helper_threads if t.is_alive()]
            self.helper_threads.append(thread)
        thread.start()

    def server_close(self) -> None:
        """Close the socket, then join every handler thread and helper thread."""
        super().server_close()
        with self.connections_lock:
            threads = list(self.handler_threads)
        for thread in threads:
            thread.join()
        with self.connections_lock:
            helpers = list(self.helper_threads)
            self.helper_threads.clear()
        for thread in helpers:
            thread.join()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection, tracked in `connections` while it is open."""
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors are the client's business; stay quiet."""


class Handler(BaseHTTPRequestHandler):
    """One connection's requests: handed to the server's dispatch, answered on the wire."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: HTTPServer
    server_version = "kwait-fake-apiserver"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Do not log to stderr."""

    def do_GET(self) -> None:
        """Serve a GET (get, list or watch)."""
        self.server.dispatch(self, "GET")

    def do_POST(self) -> None:
        """Serve a POST (create)."""
        self.server.dispatch(self, "POST")

    def do_PUT(self) -> None:
        """Serve a PUT (update)."""
        self.server.dispatch(self, "PUT")

    def do_PATCH(self) -> None:
        """Serve a PATCH."""
        self.server.dispatch(self, "PATCH")

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self.server.dispatch(self, "DELETE")

    def send_json(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Send a complete JSON response."""
        data = dumps(body)
        self.send_response(code)
        self.send_header("Content-Type", JSON)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.sent()

    def sent(self) -> None:
        """Tell the server that bytes went out (see `HTTPServer`)."""
        on_send = getattr(self.server, "on_send", None)
        if on_send is not None:
            on_send()

    def send_error_status(self, err: StatusError) -> None:
        """Send `err` as its ``Status`` response."""
        self.send_json(err.code, err.status(), err.headers)

    def write_chunk(self, data: bytes) -> None:
        """Write one chunk of a chunked response."""
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.sent()

    def end_chunks(self) -> None:
        """End a chunked response."""
        self.wfile.write(b"0\r\n\r\n")
        self.sent()

    def cut(self) -> None:
        """Drop the connection without ending the response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


# ---------------------------------------------------------------- request values


@dataclass
class Route:
    """The resource a request's URL names."""

    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def truthy(value: str | None) -> bool:
    """Decode a boolean query value as the API server does (1.2)."""
    if value is None:
        return False
    return value != "0" and value.lower() != "false"


def parse_int(name: str, value: str | None) -> int | None:
    """Decode the integer query parameter `name` (None when absent or empty)."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(
            f'strconv.ParseInt: parsing "{value}": invalid syntax for {name}'
        ) from None


def decode_body(body: bytes) -> Any:
    """Decode a JSON request body (empty is ``None``)."""
    try:
        return json.loads(body.decode() or "null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None
