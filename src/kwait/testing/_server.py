"""An in-process Kubernetes API server double that speaks the real HTTP protocol.

`FakeApiServer` serves LIST, WATCH, GET, CREATE, UPDATE, PATCH and DELETE on
loopback with the wire formats of kube-apiserver, so the official client runs
against it unchanged. All time (watch timeouts, bookmarks, grace periods,
timestamps) comes from the `kwait.Clock` it is given.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import random
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kwait._typing import Clock
from kwait.testing._faults import Faults, WatchFault
from kwait.testing._kubelet import FakeKubelet
from kwait.testing._patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kwait.testing._resources import ResourceType, field_value
from kwait.testing._selectors import (
    FieldSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from kwait.testing._store import (
    DeleteOptions,
    StatusError,
    Store,
    Watcher,
    bad_request,
    decode_continue,
    encode_continue,
)

__all__ = ["FakeApiServer", "RecordedRequest"]

# PyYAML comes with the official client; its stubs are not a dependency of kwait.
yaml: Any = importlib.import_module("yaml")

_JSON = "application/json"
_DEFAULT_FIELDS = ("metadata.name", "metadata.namespace")
_TOO_LARGE_WAIT = 3.0
_SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, for tests that assert on traffic.

    Attributes:
        verb: The API verb: ``GET``, ``LIST``, ``WATCH``, ``CREATE``, ``UPDATE``,
            ``PATCH``, ``DELETE``, ``DELETECOLLECTION``, or the HTTP method for
            non-resource paths.
        method: The HTTP method.
        path: The URL path.
        query: The decoded query parameters (the first value of each).
        content_type: The ``Content-Type`` header, or ``""``.
        user_agent: The ``User-Agent`` header, or ``""``.
    """

    verb: str
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    user_agent: str


def _truthy(value: str | None) -> bool:
    """Decode a boolean query value as the API server does (1.2)."""
    if value is None:
        return False
    return value != "0" and value.lower() != "false"


def _list_options_invalid(errors: list[tuple[str, str, str]]) -> StatusError:
    texts = [f"{f}: {m}" for f, _, m in errors]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return StatusError(
        422,
        "Invalid",
        f'ListOptions.meta.k8s.io "" is invalid: {joined}',
        {
            "group": "meta.k8s.io",
            "kind": "ListOptions",
            "causes": [{"reason": r, "message": m, "field": f} for f, r, m in errors],
        },
    )


def _too_large(requested: int, current: int) -> StatusError:
    return StatusError(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {requested}, current: {current}",
        {
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ],
            "retryAfterSeconds": 1,
        },
        headers={"Retry-After": "1"},
    )


def _parse_rv(value: str) -> int:
    if not value.isdigit():
        raise bad_request(
            f'invalid resource version: resourceVersion: Invalid value: "{value}": '
            f'strconv.ParseUint: parsing "{value}": invalid syntax'
        )
    return int(value)


def _parse_int(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(
            f'strconv.ParseInt: parsing "{value}": invalid syntax for {name}'
        ) from None


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


class _Abort(Exception):  # noqa: N818 - control flow, not an error
    """Stop a watch by cutting the connection."""


class _HTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: FakeApiServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.handler_threads: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
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

    def server_close(self) -> None:
        super().server_close()
        with self.connections_lock:
            threads = list(self.handler_threads)
        for thread in threads:
            thread.join()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors are the client's business; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer
    server_version = "kwait-fake-apiserver"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Do not log to stderr."""

    def do_GET(self) -> None:
        """Serve a GET (get, list or watch)."""
        self.server.owner._dispatch(self, "GET")  # noqa: SLF001

    def do_POST(self) -> None:
        """Serve a POST (create)."""
        self.server.owner._dispatch(self, "POST")  # noqa: SLF001

    def do_PUT(self) -> None:
        """Serve a PUT (update)."""
        self.server.owner._dispatch(self, "PUT")  # noqa: SLF001

    def do_PATCH(self) -> None:
        """Serve a PATCH."""
        self.server.owner._dispatch(self, "PATCH")  # noqa: SLF001

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self.server.owner._dispatch(self, "DELETE")  # noqa: SLF001

    def send_json(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = _dumps(body)
        self.send_response(code)
        self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_error_status(self, err: StatusError) -> None:
        self.send_json(err.code, err.status(), err.headers)

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def cut(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


@dataclass
class _Route:
    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


class FakeApiServer:
    """A Kubernetes API server on loopback, in this process, for tests.

    Use it as a context manager; ``server.url`` is where it listens, and
    `kubeconfig_dict` / `write_kubeconfig` give the official client a
    configuration for it. The namespaces ``default``, ``kube-system``,
    ``kube-public`` and ``kube-node-lease`` exist from the start.

    Args:
        clock: Where all time comes from (watch timeouts, bookmarks, grace
            periods, timestamps, the kubelet's delays); the system clock by default.
        kubelet: Run the scripted kubelet and scheduler (`FakeKubelet`), which
            binds pods to a node it creates and drives their status.
        bookmarks: Send periodic and pre-timeout bookmarks to watches that
            allow them (settable later as ``server.bookmarks``).
        bookmark_interval: Seconds between periodic bookmarks (60 in a real server).
        emulate_watchlist_default: Default a watch without resourceVersion
            to ``sendInitialEvents=true`` as servers since 1.34 do, so that
            ``allowWatchBookmarks=true`` yields the ``initial-events-end`` bookmark.
        history_size: How many events the watch history retains; older
            resourceVersions get 410 Gone.
        watch_queue_limit: Events a slow watch may have queued before the
            server ends it (cleanly, as the real watch cache does).
        default_watch_timeout: Seconds a watch without ``timeoutSeconds`` lasts.
        epoch: The wall-clock time the clock's current reading stands for;
            timestamps are ``epoch + (clock.monotonic() - start)``. Defaults
            to the real current time (pass a fixed value for reproducible timestamps).
        seed: Seed for uids and generated names (reproducible when given).
        host: The address to listen on.
        port: The port (0 picks a free one).

    >>> from kwait.testing import FakeApiServer
    >>> with FakeApiServer(kubelet=False) as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        kubelet: bool = True,
        bookmarks: bool = True,
        bookmark_interval: float = 60.0,
        emulate_watchlist_default: bool = True,
        history_size: int = 10_000,
        watch_queue_limit: int = 100_000,
        default_watch_timeout: float = 1800.0,
        epoch: datetime | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Configure the server; it starts listening in `start` (or ``with``)."""
        if clock is None:
            from kwait._clock import SystemClock  # noqa: PLC0415 - avoid a cycle at import

            clock = SystemClock()
        self.clock: Clock = clock
        self.bookmarks = bookmarks
        self.bookmark_interval = bookmark_interval
        self.emulate_watchlist_default = emulate_watchlist_default
        self.watch_queue_limit = watch_queue_limit
        self.default_watch_timeout = default_watch_timeout
        self.faults = Faults()
        self.faults.on_expire_now = self.expire_open_watches
        self.requests: deque[RecordedRequest] = deque(maxlen=1000)
        self._store = Store(
            clock,
            history_size=history_size,
            epoch=(epoch or datetime.now(timezone.utc)).replace(microsecond=0),
            rng=random.Random(seed),  # noqa: S311 - ids for tests, not secrets
        )
        self._address = (host, port)
        self._hangup_threads: list[threading.Thread] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.kubelet: FakeKubelet | None = FakeKubelet(self._store) if kubelet else None
        for ns in _SYSTEM_NAMESPACES:
            self._store.create(self._store.types["namespaces"], "", {"metadata": {"name": ns}})

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FakeApiServer:
        """Start listening (and the kubelet); returns self."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer(self._address, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kwait-fake-apiserver",
            daemon=True,
        )
        self._thread.start()
        if self.kubelet is not None:
            self.kubelet.start()
        return self

    def stop(self) -> None:
        """End every watch cleanly, stop the kubelet, close every connection, join threads."""
        httpd = self._httpd
        if httpd is None:
            return
        store = self._store
        with store.cond:
            store.closed = True
            store.cond.notify_all()
            # Give open watches a moment to write their final chunk (real time:
            # this is shutdown, not behaviour under test).
            store.cond.wait_for(lambda: not store.watchers, timeout=2.0)
        if self.kubelet is not None:
            self.kubelet.stop()
        httpd.shutdown()
        with httpd.connections_lock:
            connections = list(httpd.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        for thread in list(self._hangup_threads):
            thread.join()
        self._hangup_threads.clear()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeApiServer:  # noqa: PYI034
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    # ------------------------------------------------------------ addresses and config

    @property
    def url(self) -> str:
        """The server's base URL, e.g. ``http://127.0.0.1:43121``."""
        if self._httpd is None:
            raise RuntimeError("the server is not running; use it as a context manager")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def kubeconfig_dict(self, namespace: str = "default") -> dict[str, Any]:
        """A kubeconfig (as a dict) whose current context points at this server.

        Pass it to ``kubernetes.config.new_client_from_config_dict`` or
        ``load_kube_config_from_dict``.
        """
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kwait-fake", "cluster": {"server": self.url}}],
            "users": [{"name": "kwait-fake", "user": {"token": "kwait-fake-token"}}],
            "contexts": [
                {
                    "name": "kwait-fake",
                    "context": {
                        "cluster": "kwait-fake",
                        "user": "kwait-fake",
                        "namespace": namespace,
                    },
                }
            ],
            "current-context": "kwait-fake",
            "preferences": {},
        }

    def write_kubeconfig(self, path: str | Path, namespace: str = "default") -> Path:
        """Write `kubeconfig_dict` to `path` (JSON, which is valid YAML); return the path."""
        target = Path(path)
        target.write_text(json.dumps(self.kubeconfig_dict(namespace), indent=2) + "\n")
        return target

    # ------------------------------------------------------------ test hooks

    @property
    def resource_version(self) -> int:
        """The current global resourceVersion."""
        with self._store.cond:
            return self._store.rv

    @property
    def store(self) -> Store:
        """The server's storage (for hooks that need direct access)."""
        return self._store

    def compact(self) -> int:
        """Compact now: drop the watch history, so any older resourceVersion gets 410.

        Open watches carry on. Returns the current resourceVersion, the
        oldest one a new watch may still start from.
        """
        return self._store.compact()

    def bookmark_now(self) -> None:
        """Send a BOOKMARK (current resourceVersion) to every open watch that allows them."""
        with self._store.cond:
            for watcher in self._store.watchers:
                watcher.bookmark_requested = True
            self._store.cond.notify_all()

    def expire_open_watches(self) -> None:
        """Send a 410 ERROR event to every open watch, then end them."""
        with self._store.cond:
            for watcher in self._store.watchers:
                watcher.expire_requested = True
            self._store.cond.notify_all()

    @property
    def watch_count(self) -> int:
        """How many watches are open right now."""
        with self._store.cond:
            return len(self._store.watchers)

    def wait_for_watches(self, count: int = 1, timeout: float | None = None) -> bool:
        """Block until at least `count` watches are open (`timeout` on the server's clock)."""
        with self._store.cond:
            return self.clock.wait_for(
                self._store.cond, lambda: len(self._store.watchers) >= count, timeout
            )

    def objects(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored objects of `resource` (``pods``, ``deployments.apps``)."""
        rtype = self._store.types.get(resource)
        if rtype is None:
            raise KeyError(resource)
        return [
            o
            for o in self._store.all_objects(rtype)
            if namespace is None or o["metadata"].get("namespace") == namespace
        ]

    # ------------------------------------------------------------ HTTP dispatch

    def _dispatch(self, handler: _Handler, method: str) -> None:
        parts = urlsplit(handler.path)
        path = parts.path.rstrip("/") or "/"
        raw_query = parse_qs(parts.query, keep_blank_values=True)
        query = {k: v[0] for k, v in raw_query.items()}
        body = b""
        length = handler.headers.get("Content-Length")
        if length:
            body = handler.rfile.read(int(length))
        verb = method
        try:
            route = self._route(path, query)
            if route is not None:
                verb = self._verb(method, route, query)
            self.requests.append(
                RecordedRequest(
                    verb,
                    method,
                    path,
                    query,
                    handler.headers.get("Content-Type", ""),
                    handler.headers.get("User-Agent", ""),
                )
            )
            delay = self.faults.take_delay(verb, path)
            if delay > 0:
                with self.clock.participant():
                    self.clock.sleep(delay)
            failure = self.faults.take_failure(verb, path)
            if failure is not None:
                details: dict[str, Any] | None = None
                headers: dict[str, str] = {}
                if failure.retry_after is not None:
                    details = {"retryAfterSeconds": failure.retry_after}
                    headers["Retry-After"] = str(failure.retry_after)
                raise StatusError(  # noqa: TRY301
                    failure.status, failure.reason, failure.message, details, headers=headers
                )
            if route is None:
                self._serve_non_resource(handler, method, path)
                return
            self._serve(handler, verb, route, query, body, path)
        except StatusError as err:
            with contextlib.suppress(OSError):
                handler.send_error_status(err)
        except OSError:
            handler.close_connection = True

    def _route(self, path: str, query: dict[str, str]) -> _Route | None:  # noqa: C901 - mirrors the API server's decision table
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2 and segments[0] == "api" and segments[1] == "v1":  # noqa: PLR2004
            group, version, rest = "", "v1", segments[2:]
        elif len(segments) >= 3 and segments[0] == "apis":  # noqa: PLR2004
            group, version, rest = segments[1], segments[2], segments[3:]
        else:
            return None
        if not rest:
            return None
        if rest[0] == "watch":
            query["watch"] = "true"
            rest = rest[1:]
        namespace: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in {"status", "finalize"}:  # noqa: PLR2004
            namespace = rest[1]
            rest = rest[2:]
        if not rest or len(rest) > 3:  # noqa: PLR2004
            raise _not_found_path()
        rtype = self._store.lookup(group, version, rest[0])
        if rtype is None:
            raise _not_found_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None  # noqa: PLR2004
        if namespace is not None and not rtype.namespaced:
            raise _not_found_path()
        if rtype.namespaced and namespace is None and name is not None:
            raise _not_found_path()
        if sub is not None and not (
            (sub == "status" and rtype.status_subresource)
            or (sub == "binding" and rtype.key == "pods")
        ):
            raise _not_found_path()
        return _Route(rtype, namespace, name, sub)

    @staticmethod
    def _verb(method: str, route: _Route, query: dict[str, str]) -> str:
        if method == "GET":
            if route.name is not None:
                return "GET"
            return "WATCH" if _truthy(query.get("watch")) else "LIST"
        if method == "DELETE" and route.name is None:
            return "DELETECOLLECTION"
        return {"POST": "CREATE", "PUT": "UPDATE", "PATCH": "PATCH", "DELETE": "DELETE"}[method]

    def _watch_for_hangup(self, conn: socket.socket, watcher: Watcher) -> None:
        """End `watcher` as soon as its client hangs up, instead of at its next event.

        A helper thread blocks peeking at the socket: end of file means the
        client is gone; data means the watch ended and the next request
        arrived (peeking consumes nothing, so the handler reads it normally).
        """

        def peek() -> None:
            try:
                data = conn.recv(1, socket.MSG_PEEK)
            except OSError:
                data = b""
            if not data:
                with self._store.cond:
                    watcher.client_gone = True
                    self._store.cond.notify_all()

        thread = threading.Thread(target=peek, name="kwait-fake-watch-hangup", daemon=True)
        with self._store.cond:
            self._hangup_threads = [t for t in self._hangup_threads if t.is_alive()]
            self._hangup_threads.append(thread)
        thread.start()

    # ------------------------------------------------------------ non-resource paths

    def _serve_non_resource(self, handler: _Handler, method: str, path: str) -> None:
        if method != "GET":
            raise _not_found_path()
        if path in {"/healthz", "/readyz", "/livez"}:
            data = b"ok"
            handler.send_response(200)
            handler.send_header("Content-Type", "text/plain; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        body = self._discovery(path)
        if body is None:
            raise _not_found_path()
        handler.send_json(200, body)

    def _discovery(self, path: str) -> dict[str, Any] | None:  # noqa: C901, PLR0911 - mirrors the API server's decision table
        types = self._store.served_types()
        if path == "/version":
            return {
                "major": "1",
                "minor": "37",
                "emulationMajor": "1",
                "emulationMinor": "37",
                "gitVersion": "v1.37.0-kwait-fake",
                "gitCommit": "0000000000000000000000000000000000000000",
                "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "go1.25.0",
                "compiler": "gc",
                "platform": "linux/amd64",
            }
        host, port = self._address[0], (self._httpd.server_address[1] if self._httpd else 0)
        if path == "/api":
            return {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{host}:{port}"}
                ],
            }
        groups: dict[str, list[str]] = {}
        for rtype in types:
            if rtype.group:
                versions = groups.setdefault(rtype.group, [])
                if rtype.version not in versions:
                    versions.append(rtype.version)
        if path == "/apis":
            return {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [_group_body(g, v) for g, v in sorted(groups.items())],
            }
        segments = [s for s in path.split("/") if s]
        if len(segments) == 2 and segments[0] == "apis" and segments[1] in groups:  # noqa: PLR2004
            body = _group_body(segments[1], groups[segments[1]])
            return {"kind": "APIGroup", "apiVersion": "v1", **body}
        if segments == ["api", "v1"]:
            return _resource_list("v1", [t for t in types if not t.group])
        if len(segments) == 3 and segments[0] == "apis":  # noqa: PLR2004
            group, version = segments[1], segments[2]
            served = [t for t in types if t.group == group and t.version == version]
            if served:
                return _resource_list(f"{group}/{version}", served)
        return None

    # ------------------------------------------------------------ resource requests

    def _serve(  # noqa: C901, PLR0917 - mirrors the API server's decision table
        self,
        handler: _Handler,
        verb: str,
        route: _Route,
        query: dict[str, str],
        body: bytes,
        path: str,
    ) -> None:
        store = self._store
        rtype = route.rtype
        namespace = route.namespace or ""
        if verb == "LIST":
            handler.send_json(200, self._list(route, query))
        elif verb == "WATCH":
            self._watch(handler, route, query, path)
        elif verb == "GET":
            assert route.name is not None  # noqa: S101 - routing guarantees it
            obj = store.get(rtype, namespace, route.name)
            handler.send_json(200, obj)
        elif verb == "CREATE":
            if route.subresource == "binding" and route.name is not None:
                self._bind(handler, namespace, route.name, _decode(body))
                return
            if route.name is not None or (rtype.namespaced and route.namespace is None):
                raise _not_found_path()
            handler.send_json(201, store.create(rtype, namespace, _decode(body)))
        elif verb == "UPDATE":
            assert route.name is not None  # noqa: S101
            obj = store.update(
                rtype, namespace, route.name, _decode(body), subresource=route.subresource
            )
            handler.send_json(200, obj)
        elif verb == "PATCH":
            assert route.name is not None  # noqa: S101
            content_type = handler.headers.get("Content-Type", _JSON)
            handler.send_json(
                200, self._patch(route, content_type, body, query.get("fieldManager"))
            )
        elif verb == "DELETE":
            assert route.name is not None  # noqa: S101
            options = _delete_options(query, body)
            obj, _removed = store.delete(rtype, namespace, route.name, options)
            handler.send_json(200, obj if rtype.return_deleted_object else _success(rtype, obj))
        elif verb == "DELETECOLLECTION":
            options = _delete_options(query, body)
            select = self._selector(rtype, query)
            items, _, _, _ = store.list_objects(rtype, route.namespace, select)
            for item in items:
                meta = item["metadata"]
                with contextlib.suppress(StatusError):
                    store.delete(rtype, meta.get("namespace", ""), meta["name"], options)
            handler.send_json(
                200,
                {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"},
            )
        else:  # pragma: no cover - _verb covers every method
            raise _not_found_path()

    def _bind(self, handler: _Handler, namespace: str, name: str, body: Any) -> None:
        target = (body.get("target") or {}) if isinstance(body, dict) else {}
        node = target.get("name")
        if not node:
            raise StatusError(
                422,
                "Invalid",
                f'Binding "{name}" is invalid: target.name: Required value',
                {
                    "name": name,
                    "kind": "Binding",
                    "causes": [
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value",
                            "field": "target.name",
                        }
                    ],
                },
            )
        self._store.bind_pod(namespace, name, node)
        handler.send_json(
            201,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
        )

    def _patch(  # noqa: C901 - mirrors the API server's decision table
        self, route: _Route, content_type: str, body: bytes, field_manager: str | None
    ) -> dict[str, Any]:
        rtype = route.rtype
        assert route.name is not None  # noqa: S101
        ctype = content_type.split(";", 1)[0].strip().lower()
        accepted = [t for t in _PATCH_TYPES if rtype.strategic_merge or "strategic" not in t]
        if ctype not in accepted:
            raise StatusError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types "
                "include: " + ", ".join(accepted),
            )
        if ctype == "application/apply-patch+yaml":
            if not field_manager:
                raise StatusError(
                    422,
                    "Invalid",
                    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is '
                    "required for apply patch",
                    {
                        "group": "meta.k8s.io",
                        "kind": "PatchOptions",
                        "causes": [
                            {
                                "reason": "FieldValueRequired",
                                "message": "Required value: is required for apply patch",
                                "field": "fieldManager",
                            }
                        ],
                    },
                )
            try:
                intent = yaml.safe_load(body.decode() or "{}")
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise bad_request(f"error decoding YAML: {exc}") from None
            if not isinstance(intent, dict):
                raise bad_request("error decoding YAML: the body is not an object")
            namespace = route.namespace or ""
            try:
                self._store.get(rtype, namespace, route.name)
            except StatusError as err:
                if err.code != 404:  # noqa: PLR2004
                    raise
                intent.setdefault("metadata", {}).setdefault("name", route.name)
                return self._store.create(rtype, namespace, intent)
            return self._apply_patch(route, lambda old: merge_patch(old, intent))
        try:
            patch = json.loads(body.decode() or "null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"error decoding patch: {exc}") from None
        if ctype == "application/json-patch+json":
            if not isinstance(patch, list):
                raise bad_request(
                    "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
                )
            return self._apply_patch(route, lambda old: json_patch(old, patch))
        if not isinstance(patch, dict):
            raise bad_request("error decoding patch: the patch is not a JSON object")
        if ctype == "application/merge-patch+json":
            return self._apply_patch(route, lambda old: merge_patch(old, patch))
        return self._apply_patch(route, lambda old: strategic_merge_patch(old, patch))

    def _apply_patch(self, route: _Route, apply: Callable[[Any], Any]) -> dict[str, Any]:
        assert route.name is not None  # noqa: S101

        def make(old: dict[str, Any]) -> Any:
            try:
                return apply(old)
            except PatchError:
                raise StatusError(
                    422,
                    "Invalid",
                    "the server rejected our request due to an error in our request",
                    {},
                ) from None

        return self._store.modify(
            route.rtype,
            route.namespace or "",
            route.name,
            make,
            subresource=route.subresource,
            patching=True,
        )

    # ------------------------------------------------------------ list

    def _selector(
        self, rtype: ResourceType, query: dict[str, str]
    ) -> Callable[[dict[str, Any]], bool]:
        labels, fields = self._parse_selectors(rtype, query)

        def select(obj: dict[str, Any]) -> bool:
            meta = obj.get("metadata") or {}
            if not labels.matches(meta.get("labels")):
                return False
            return fields.matches(lambda name: field_value(rtype, obj, name))

        return select

    @staticmethod
    def _parse_selectors(rtype: ResourceType, query: dict[str, str]) -> tuple[Any, FieldSelector]:
        try:
            labels = parse_label_selector(query.get("labelSelector", ""))
            fields = parse_field_selector(query.get("fieldSelector", ""))
        except SelectorError as err:
            raise bad_request(str(err)) from None
        allowed = rtype.field_selectors
        for name in fields.fields():
            if allowed is None:
                if name not in _DEFAULT_FIELDS:
                    raise bad_request(
                        f'"{name}" is not a known field selector: only "metadata.name", '
                        '"metadata.namespace"'
                    )
            elif name not in allowed:
                raise bad_request(f"field label not supported: {name}")
        return labels, fields

    def _list(self, route: _Route, query: dict[str, str]) -> dict[str, Any]:  # noqa: C901, PLR0912, PLR0915 - mirrors the API server's decision table
        rtype = route.rtype
        store = self._store
        select = self._selector(rtype, query)
        labels, fields = self._parse_selectors(rtype, query)
        rv = query.get("resourceVersion", "")
        rvm = query.get("resourceVersionMatch", "")
        token = query.get("continue", "")
        limit = _parse_int("limit", query.get("limit")) or 0
        errors: list[tuple[str, str, str]] = []
        if "sendInitialEvents" in query:
            errors.append(
                (
                    "sendInitialEvents",
                    "FieldValueForbidden",
                    "Forbidden: sendInitialEvents is forbidden for list",
                )
            )
        if rvm:
            if token:
                errors.append(
                    (
                        "resourceVersionMatch",
                        "FieldValueForbidden",
                        "Forbidden: resourceVersionMatch is forbidden when continue is provided",
                    )
                )
            elif not rv:
                errors.append(
                    (
                        "resourceVersionMatch",
                        "FieldValueForbidden",
                        (
                            "Forbidden: resourceVersionMatch is forbidden unless resourceVersion "
                            "is provided"
                        ),
                    )
                )
            elif rvm == "Exact" and rv == "0":
                errors.append(
                    (
                        "resourceVersionMatch",
                        "FieldValueForbidden",
                        (
                            'Forbidden: resourceVersionMatch "exact" is forbidden for '
                            'resourceVersion "0"'
                        ),
                    )
                )
            elif rvm not in {"Exact", "NotOlderThan"}:
                errors.append(
                    (
                        "resourceVersionMatch",
                        "FieldValueNotSupported",
                        (
                            f'Unsupported value: "{rvm}": supported values: "Exact", '
                            '"NotOlderThan", ""'
                        ),
                    )
                )
        if errors:
            raise _list_options_invalid(errors)
        if token and rv not in {"", "0"}:
            raise bad_request("specifying resource version is not allowed when using continue")
        at_rv: int | None = None
        after_key: str | None = None
        if token:
            token_rv, after_key = decode_continue(token)
            if token_rv >= 0:
                with store.cond:
                    too_old = token_rv < store.history_start
                if too_old:
                    raise StatusError(
                        410,
                        "Expired",
                        "The provided continue parameter is too old to display a consistent "
                        "list result. You can start a new list without the continue parameter, "
                        "or use the continue token in this response to retrieve the remainder "
                        "of the results. Continuing with the provided token results in an "
                        "inconsistent list - objects that were created, modified, or deleted "
                        "between the time the first chunk was returned and now may show up in "
                        "the list.",
                        metadata={"continue": encode_continue(-1, after_key)},
                    )
                at_rv = token_rv
        elif rv == "0":
            limit = 0
        elif rv:
            wanted = _parse_rv(rv)
            exact = rvm == "Exact" or (not rvm and limit > 0)
            with store.cond:
                current = store.rv
            if wanted > current:
                if exact:
                    raise _too_large(wanted, current)
                with self.clock.participant(), store.cond:
                    reached = self.clock.wait_for(
                        store.cond, lambda: store.rv >= wanted or store.closed, _TOO_LARGE_WAIT
                    )
                    current = store.rv
                if not reached or current < wanted:
                    raise _too_large(wanted, current)
            elif exact:
                at_rv = wanted
        items, snapshot_rv, last_key, remaining = store.list_objects(
            rtype, route.namespace, select, at_rv=at_rv, after_key=after_key, limit=limit
        )
        metadata: dict[str, Any] = {"resourceVersion": str(snapshot_rv)}
        if last_key is not None:
            metadata["continue"] = encode_continue(snapshot_rv if at_rv != -1 else -1, last_key)
            if labels.empty and fields.empty:
                metadata["remainingItemCount"] = remaining
        if not rtype.custom:
            for item in items:
                item.pop("kind", None)
                item.pop("apiVersion", None)
        return {
            "kind": rtype.list_kind_name,
            "apiVersion": rtype.api_version,
            "metadata": metadata,
            "items": items,
        }

    # ------------------------------------------------------------ watch

    def _watch(self, handler: _Handler, route: _Route, query: dict[str, str], path: str) -> None:  # noqa: C901, PLR0912, PLR0915 - mirrors the API server's decision table
        rtype = route.rtype
        store = self._store
        labels, fields = self._parse_selectors(rtype, query)
        rv = query.get("resourceVersion", "")
        rvm = query.get("resourceVersionMatch", "")
        sie_given = "sendInitialEvents" in query
        sie = _truthy(query.get("sendInitialEvents"))
        allow_bookmarks = _truthy(query.get("allowWatchBookmarks"))
        timeout = _parse_int("timeoutSeconds", query.get("timeoutSeconds"))
        errors: list[tuple[str, str, str]] = []
        if sie_given and rvm != "NotOlderThan":
            errors.append(
                (
                    "resourceVersionMatch",
                    "FieldValueForbidden",
                    (
                        "Forbidden: sendInitialEvents requires setting resourceVersionMatch to "
                        "NotOlderThan"
                    ),
                )
            )
        if rvm:
            if not sie_given:
                errors.append(
                    (
                        "resourceVersionMatch",
                        "FieldValueForbidden",
                        (
                            "Forbidden: resourceVersionMatch is forbidden for watch unless "
                            "sendInitialEvents is provided"
                        ),
                    )
                )
            if rvm != "NotOlderThan":
                errors.append(
                    (
                        "resourceVersionMatch",
                        "FieldValueNotSupported",
                        f'Unsupported value: "{rvm}": supported values: "NotOlderThan"',
                    )
                )
        if errors:
            raise _list_options_invalid(errors)
        if rv and not rv.isdigit():
            raise StatusError(
                500,
                "InternalError",
                f'Internal error occurred: resourceVersion: Invalid value: "{rv}": '
                f'strconv.ParseUint: parsing "{rv}": invalid syntax',
            )
        requested = int(rv) if rv else 0
        defaulted = not sie_given and not rvm and requested == 0 and self.emulate_watchlist_default
        initial = sie if sie_given else requested == 0
        initial_end_bookmark = allow_bookmarks and ((sie_given and sie) or defaulted)
        fault = self.faults.take_watch_fault(path)
        if fault is not None and fault.action == "expire_http":
            raise StatusError(
                410, "Expired", "The resourceVersion for the provided watch is too old."
            )
        seconds = float(timeout) if timeout else self.default_watch_timeout
        watcher = Watcher(rtype, route.namespace, labels, fields, self.watch_queue_limit)
        stream = _WatchStream(self, handler, watcher, fault, allow_bookmarks=allow_bookmarks)
        self._watch_for_hangup(handler.connection, watcher)
        with self.clock.participant():
            started = self.clock.monotonic()
            stream.deadline = started + seconds
            try:
                waited = initial and requested > 0 and sie_given
                if waited:
                    stream.begin()  # the real server answers 200 at once, then waits
                    with store.cond:
                        self.clock.wait_for(
                            store.cond,
                            lambda: store.rv >= requested or store.closed,
                            _TOO_LARGE_WAIT,
                        )
                        current = store.rv
                    if current < requested:
                        stream.error(_too_large(requested, current))
                        return
                # Register the watch before the headers go out: a client that sees the 200
                # may write at once, and that write must reach this watch.
                if initial:
                    snapshot, start_rv = store.open_watch(watcher, None, snapshot=True)
                elif requested == 0:
                    snapshot, start_rv = store.open_watch(watcher, None, snapshot=False)
                else:
                    try:
                        snapshot, _ = store.open_watch(watcher, requested, snapshot=False)
                    except StatusError as err:
                        stream.begin()
                        stream.error(err)
                        return
                    start_rv = requested
                if not waited:
                    stream.begin()
                stream.run(
                    snapshot,
                    start_rv=start_rv,
                    skip_upto=0 if initial else requested,
                    initial_end_bookmark=initial_end_bookmark,
                )
            except _Abort:
                handler.cut()
            except OSError:
                handler.close_connection = True
            finally:
                store.close_watch(watcher)


class _WatchStream:
    """Writes one watch response: headers, events, bookmarks, faults, end."""

    def __init__(
        self,
        server: FakeApiServer,
        handler: _Handler,
        watcher: Watcher,
        fault: WatchFault | None,
        *,
        allow_bookmarks: bool,
    ) -> None:
        self.server = server
        self.handler = handler
        self.watcher = watcher
        self.fault = fault
        self.allow_bookmarks = allow_bookmarks
        self.sent = 0
        self.deadline = 0.0
        self.finished = False
        self.last_rv = 0

    def begin(self) -> None:
        handler = self.handler
        handler.send_response(200)
        handler.send_header("Content-Type", _JSON)
        handler.send_header("Cache-Control", "no-cache, private")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.flush()

    def end(self) -> None:
        if not self.finished:
            self.finished = True
            self.handler.end_chunks()

    def error(self, err: StatusError) -> None:
        self.handler.write_chunk(_dumps({"type": "ERROR", "object": err.status()}))
        self.end()

    def _fault_now(self) -> bool:
        """Apply an armed fault that is due; True if the stream is over."""
        fault = self.fault
        if fault is None or self.sent < fault.after_events:
            return False
        if fault.action == "drop":
            raise _Abort
        if fault.action == "expire":
            self.fault = None
            self.expire()
            return True
        if fault.action == "raw":
            self.fault = None
            self.handler.write_chunk(fault.raw + b"\n")
        return False

    def expire(self) -> None:
        store = self.server.store
        with store.cond:
            oldest = store.history_start
        self.error(
            StatusError(
                410,
                "Expired",
                f"too old resource version: {self.last_rv} ({max(oldest, self.last_rv + 1)})",
            )
        )

    def emit(self, kind: str, obj: dict[str, Any]) -> bool:
        """Write one event; True if the stream is over (a fault ended it)."""
        line = _dumps({"type": kind, "object": obj})
        fault = self.fault
        if fault is not None and fault.action == "truncate" and self.sent >= fault.after_events:
            self.handler.write_chunk(line[: max(1, len(line) // 2)])
            self.end()
            return True
        self.handler.write_chunk(line)
        self.sent += 1
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if kind != "ERROR" and isinstance(rv, str) and rv.isdigit():
            self.last_rv = max(self.last_rv, int(rv))
        return self._fault_now()

    def bookmark(self, rv: int, *, initial_events_end: bool = False) -> bool:
        rtype = self.watcher.rtype
        return self.emit(
            "BOOKMARK", rtype.bookmark_object(str(rv), initial_events_end=initial_events_end)
        )

    def run(  # noqa: C901, PLR0911, PLR0912, PLR0915 - mirrors the API server's decision table
        self,
        snapshot: list[dict[str, Any]],
        *,
        start_rv: int,
        skip_upto: int,
        initial_end_bookmark: bool,
    ) -> None:
        server = self.server
        clock = server.clock
        store = server.store
        watcher = self.watcher
        self.last_rv = start_rv
        if self._fault_now():
            return
        for obj in snapshot:
            if watcher.matches(obj) and self.emit("ADDED", obj):
                return
        self.last_rv = start_rv
        if initial_end_bookmark and self.bookmark(start_rv, initial_events_end=True):
            return
        started = clock.monotonic()
        next_periodic = started + server.bookmark_interval
        pre_deadline: float | None = self.deadline - 2.0
        if pre_deadline is not None and pre_deadline <= started:
            pre_deadline = None
        while True:
            with store.cond:
                while True:
                    ready = (
                        watcher.queue
                        or store.closed
                        or watcher.expire_requested
                        or watcher.overflowed
                        or watcher.client_gone
                        or (watcher.bookmark_requested and self.allow_bookmarks)
                    )
                    if ready:
                        break
                    wake = self.deadline
                    if self.allow_bookmarks and server.bookmarks:
                        wake = min(wake, next_periodic)
                        if pre_deadline is not None:
                            wake = min(wake, pre_deadline)
                    now = clock.monotonic()
                    if now >= wake:
                        break
                    clock.wait(store.cond, wake - now)
                events = list(watcher.queue)
                watcher.queue.clear()
                expire = watcher.expire_requested
                overflowed = watcher.overflowed
                on_demand = watcher.bookmark_requested
                watcher.bookmark_requested = False
                closed = store.closed
                current = store.rv
                if watcher.client_gone:
                    self.handler.close_connection = True
                    return
            for event in events:
                if event.rv <= skip_upto:
                    continue
                translated = watcher.translate(event)
                if translated is not None and self.emit(*translated):
                    return
            if expire:
                self.expire()
                return
            if closed or overflowed:
                self.end()
                return
            now = clock.monotonic()
            if now >= self.deadline:
                self.end()
                return
            if not self.allow_bookmarks:
                continue
            due = on_demand
            if server.bookmarks:
                if now >= next_periodic:
                    next_periodic = now + server.bookmark_interval
                    due = due or current > start_rv
                if pre_deadline is not None and now >= pre_deadline:
                    pre_deadline = None
                    due = due or current > start_rv
            if due and self.bookmark(current):
                return


def _not_found_path() -> StatusError:
    return StatusError(404, "NotFound", "the server could not find the requested resource", {})


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body.decode() or "null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def _delete_options(query: dict[str, str], body: bytes) -> DeleteOptions:
    decoded = _decode(body) if body.strip() else None
    if isinstance(decoded, dict):
        pre = decoded.get("preconditions") or {}
        grace = decoded.get("gracePeriodSeconds")
        return DeleteOptions(
            grace_period_seconds=None if grace is None else int(grace),
            propagation_policy=decoded.get("propagationPolicy"),
            orphan_dependents=decoded.get("orphanDependents"),
            precondition_uid=pre.get("uid"),
            precondition_rv=pre.get("resourceVersion"),
        )
    orphan = query.get("orphanDependents")
    return DeleteOptions(
        grace_period_seconds=_parse_int("gracePeriodSeconds", query.get("gracePeriodSeconds")),
        propagation_policy=query.get("propagationPolicy") or None,
        orphan_dependents=None if orphan is None else _truthy(orphan),
    )


def _success(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    details: dict[str, Any] = {"name": meta.get("name", "")}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    details["uid"] = meta.get("uid", "")
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def _group_body(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def _resource_list(group_version: str, types: list[ResourceType]) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for rtype in types:
        entry: dict[str, Any] = {
            "name": rtype.plural,
            "singularName": rtype.singular,
            "namespaced": rtype.namespaced,
            "kind": rtype.kind,
            "verbs": list(_VERBS),
        }
        if rtype.short_names:
            entry["shortNames"] = list(rtype.short_names)
        if rtype.categories:
            entry["categories"] = list(rtype.categories)
        resources.append(entry)
        if rtype.status_subresource:
            resources.append(
                {
                    "name": f"{rtype.plural}/status",
                    "singularName": "",
                    "namespaced": rtype.namespaced,
                    "kind": rtype.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        if rtype.key == "pods":
            resources.append(
                {
                    "name": "pods/binding",
                    "singularName": "",
                    "namespaced": True,
                    "kind": "Binding",
                    "verbs": ["create"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
