"""An in-process Kubernetes API server double that speaks the real HTTP protocol.

`FakeApiServer` serves LIST, WATCH, GET, CREATE, UPDATE, PATCH and DELETE on
loopback with the wire formats of kube-apiserver, so the official client runs
against it unchanged. All time (watch timeouts, bookmarks, grace periods,
timestamps) comes from the `kwait.Clock` it is given.

This module is the request layer: the server's lifecycle, configuration and
test hooks, recording requests, injecting faults, and routing each URL to
discovery (`kwait.testing._discovery`), LIST (`kwait.testing._serve_list`),
WATCH (`kwait.testing._serve_watch`) or a write (`kwait.testing._serve_writes`).
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kwait._check import check_bool, check_int, check_optional_str, check_seconds
from kwait._errors import KwaitError
from kwait._time.protocol import Clock, check_clock
from kwait.testing._discovery import discovery_document
from kwait.testing._errors import StatusError, bad_request, not_found_path
from kwait.testing._faults import Faults
from kwait.testing._http import JSON, Handler, HTTPServer, Route, truthy
from kwait.testing._kubelet import FakeKubelet
from kwait.testing._lifecycle import Store
from kwait.testing._serve_list import list_response
from kwait.testing._serve_watch import serve_watch
from kwait.testing._serve_writes import serve_write

__all__ = ["FakeApiServer", "RecordedRequest"]

_SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


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

    >>> import json, urllib.request
    >>> from kwait.testing import FakeApiServer
    >>> with FakeApiServer(kubelet=False) as server:
    ...     url = server.url + "/api/v1/namespaces/ci/pods?limit=5"
    ...     with urllib.request.urlopen(url) as answer:
    ...         kind = json.load(answer)["kind"]
    ...     request = server.requests[-1]
    >>> kind, request.verb, request.path, request.query
    ('PodList', 'LIST', '/api/v1/namespaces/ci/pods', {'limit': '5'})
    """

    verb: str
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    user_agent: str


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
        check_int("port", port, minimum=0, maximum=65535)
        check_optional_str("host", host, accepts="a host address such as '127.0.0.1'")
        for flag, value in (
            ("kubelet", kubelet),
            ("bookmarks", bookmarks),
            ("emulate_watchlist_default", emulate_watchlist_default),
        ):
            check_bool(flag, value)
        check_seconds("bookmark_interval", bookmark_interval, positive=True)
        check_seconds("default_watch_timeout", default_watch_timeout, positive=True)
        check_int("history_size", history_size, minimum=1)
        if epoch is not None and not isinstance(epoch, datetime):
            raise TypeError(f"epoch= takes a datetime, got {epoch!r} ({type(epoch).__name__})")
        check_int("watch_queue_limit", watch_queue_limit, minimum=1)
        if clock is not None:
            check_clock(clock)
        if clock is None:
            from kwait._time.clock import SystemClock  # noqa: PLC0415 - avoid a cycle at import

            clock = SystemClock()
        self.clock: Clock = clock
        self.bookmarks = bookmarks
        self.bookmark_interval = bookmark_interval
        self.emulate_watchlist_default = emulate_watchlist_default
        self.watch_queue_limit = watch_queue_limit
        self.default_watch_timeout = default_watch_timeout
        self.faults: Faults = Faults()
        self.faults.on_expire_now = self.expire_open_watches
        self.requests: deque[RecordedRequest] = deque(maxlen=1000)
        self._store = Store(
            clock,
            history_size=history_size,
            epoch=(epoch or datetime.now(timezone.utc)).replace(microsecond=0),
            rng=random.Random(seed),  # noqa: S311 - ids for tests, not secrets
        )
        self._address = (host, port)
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.kubelet: FakeKubelet | None = FakeKubelet(self._store) if kubelet else None
        for ns in _SYSTEM_NAMESPACES:
            self._store.create(self._store.types["namespaces"], "", {"metadata": {"name": ns}})

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FakeApiServer:
        """Start listening (and the kubelet); returns self."""
        if self._httpd is not None:
            return self
        try:
            self._httpd = HTTPServer(
                self._address, self._dispatch, getattr(self.clock, "io_delivered", None)
            )
        except OSError as error:
            host, port = self._address
            raise KwaitError(
                f"FakeApiServer cannot listen on {host}:{port}: {error.strerror or error}"
                + ("; pass port=0 to take a free port" if port else "")
            ) from error
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

    def _dispatch(self, handler: Handler, method: str) -> None:
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

    def _route(self, path: str, query: dict[str, str]) -> Route | None:  # noqa: C901 - mirrors the API server's decision table
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
            raise not_found_path()
        rtype = self._store.lookup(group, version, rest[0])
        if rtype is None:
            raise not_found_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None  # noqa: PLR2004
        if namespace is not None and not rtype.namespaced:
            raise not_found_path()
        if rtype.namespaced and namespace is None and name is not None:
            raise not_found_path()
        if sub is not None and not (
            (sub == "status" and rtype.status_subresource)
            or (sub in {"binding", "log"} and rtype.key == "pods")
        ):
            raise not_found_path()
        return Route(rtype, namespace, name, sub)

    @staticmethod
    def _verb(method: str, route: Route, query: dict[str, str]) -> str:
        if method == "GET":
            if route.name is not None:
                return "GET"
            return "WATCH" if truthy(query.get("watch")) else "LIST"
        if method == "DELETE" and route.name is None:
            return "DELETECOLLECTION"
        return {"POST": "CREATE", "PUT": "UPDATE", "PATCH": "PATCH", "DELETE": "DELETE"}[method]

    # ------------------------------------------------------------ non-resource paths

    def _serve_non_resource(self, handler: Handler, method: str, path: str) -> None:
        if method != "GET":
            raise not_found_path()
        if path in {"/healthz", "/readyz", "/livez"}:
            data = b"ok"
            handler.send_response(200)
            handler.send_header("Content-Type", "text/plain; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        host, port = self._address[0], (self._httpd.server_address[1] if self._httpd else 0)
        body = discovery_document(path, self._store.served_types(), host, port)
        if body is None:
            raise not_found_path()
        handler.send_json(200, body)

    # ------------------------------------------------------------ resource requests

    def _serve(  # noqa: PLR0917 - one request's parts
        self,
        handler: Handler,
        verb: str,
        route: Route,
        query: dict[str, str],
        body: bytes,
        path: str,
    ) -> None:
        if verb == "LIST":
            handler.send_json(200, list_response(self._store, route, query))
        elif verb == "WATCH":
            serve_watch(self, handler, route, query, path)
        elif verb == "GET" and route.subresource == "log":
            assert route.name is not None  # noqa: S101 - routing guarantees it
            obj = self._store.get(route.rtype, route.namespace or "", route.name)
            data = pod_log(obj, query).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            handler.sent()
        elif verb == "GET":
            assert route.name is not None  # noqa: S101 - routing guarantees it
            obj = self._store.get(route.rtype, route.namespace or "", route.name)
            handler.send_json(200, obj)
        else:
            content_type = handler.headers.get("Content-Type", JSON)
            code, result = serve_write(self._store, verb, route, query, body, content_type)
            handler.send_json(code, result)


def pod_log(pod: dict[str, Any], query: dict[str, str]) -> str:
    """The log of a pod's container, as the fake's containers would have written it.

    Deterministic lines per container run: it started (with its image), and,
    for a run that ended, how. ``previous=true`` gives the run before the
    current one (400, as the kubelet answers, when there was none);
    ``tailLines`` keeps the last lines.
    """
    meta = pod.get("metadata") or {}
    statuses = {
        str(c.get("name")): c for c in (pod.get("status") or {}).get("containerStatuses") or []
    }
    specs = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    container = query.get("container") or (specs[0] if len(specs) == 1 else None)
    where = f'pod "{meta.get("name")}"'
    if container is None:
        raise bad_request(f"a container name must be specified for {where}, choose one of: {specs}")
    if container not in specs:
        raise bad_request(f"container {container} is not valid for {where}")
    status = statuses.get(container) or {}
    restarts = int(status.get("restartCount") or 0)
    previous = query.get("previous") in {"true", "1"}
    if previous and restarts == 0:
        raise bad_request(f'previous terminated container "{container}" in {where} not found')
    run = restarts - 1 if previous else restarts
    state = (status.get("lastState") if previous else status.get("state")) or {}
    last = status.get("lastState") or {}
    if not previous and "waiting" in state and last.get("terminated"):
        state = last  # in a back-off, the log is the last run's, as the kubelet serves it
    if not state or ("waiting" in state and not previous):
        reason = ((state.get("waiting") or {}).get("reason")) or "ContainerCreating"
        raise bad_request(f'container "{container}" in {where} is waiting to start: {reason}')
    image = status.get("image") or next(
        (c.get("image") for c in pod["spec"]["containers"] if c.get("name") == container), ""
    )
    lines = [
        f"{container}: run {run} starting ({image})",
        f"{container}: run {run} ready",
    ]
    ended = state.get("terminated")
    if ended:
        code = ended.get("exitCode", 0)
        lines.append(f"{container}: run {run} exiting with code {code} ({ended.get('reason', '')})")
    tail = query.get("tailLines")
    if tail and tail.isdigit():
        lines = lines[-int(tail) :] if int(tail) else []
    return "".join(line + "\n" for line in lines)
