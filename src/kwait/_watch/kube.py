"""The adapter to the official ``kubernetes`` client: the only module that imports it.

kwait borrows the client's configuration (host, credentials, TLS, proxy) and
its urllib3 pool, and speaks HTTP itself, on raw JSON: no model objects are
built on the hot path, a watch's events are split on newlines as they arrive,
and every request has a client-side read timeout, so a dead connection cannot
hang a test. Both the pydantic-based client (36+) and the older generated one
work, because only their configuration is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import kubernetes
import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from kwait._errors import ApiError, ConnectionLostError, api_error_from_status
from kwait._time.deadline import Deadline
from kwait._version import __version__
from kwait._watch.resources import BUILTIN_CORE, ResourceInfo
from kwait._watch.source import EventType, ExpiredError, ListResult, RawEvent

__all__ = [
    "DiscoveryCache",
    "KubeHttp",
    "KubeWatchSource",
    "api_client_from",
    "default_api_client",
    "discovery_for",
    "events_for",
    "to_raw",
]

_STATUS_GONE = 410

DEADLINE_MARGIN = 0.5
"""Seconds a request may outlast the deadline it runs under (so it can still fail cleanly)."""


_CLIENTS: dict[tuple[Any, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()
_CLIENTS_KEPT = 8


def _kubeconfig_paths(config_file: str | None) -> str:
    """The kubeconfig file(s) to read now (``KUBECONFIG`` is read at call time, not import)."""
    return config_file or os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


def _kubeconfig_key(config_file: str | None) -> tuple[Any, ...] | None:
    """Identify a kubeconfig by its files and their modification times (None: no file)."""
    paths = _kubeconfig_paths(config_file)
    stamps = []
    for path in paths.split(os.pathsep):
        with contextlib.suppress(OSError):
            stamps.append((str(Path(path).resolve()), Path(path).stat().st_mtime_ns))
    return ("kubeconfig", tuple(stamps)) if stamps else None


def _cached_client(key: tuple[Any, ...] | None, build: Callable[[], Any]) -> Any:
    """Build a client once per key and hand out the same one after (a few keys are kept)."""
    if key is None:
        return build()
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is not None:
            return client
    client = build()
    with _CLIENTS_LOCK:
        client = _CLIENTS.setdefault(key, client)
        while len(_CLIENTS) > _CLIENTS_KEPT:
            _CLIENTS.pop(next(iter(_CLIENTS)))
        return client


def default_api_client() -> Any:
    """Return an ApiClient from the kubeconfig (``KUBECONFIG``, ``~/.kube/config``) or in-cluster.

    The client is built once per kubeconfig (its files and their modification
    times) and reused by every tracker that is not given one, so calls without
    ``api_client=`` neither rebuild the configuration nor leave clients behind.
    Raises `kwait.ConnectionLostError` naming both attempts when neither works.
    """
    key = _kubeconfig_key(None)
    if key is not None:
        try:
            paths = _kubeconfig_paths(None)
            return _cached_client(
                key, lambda: kubernetes.config.new_client_from_config(config_file=paths)
            )
        except (kubernetes.config.ConfigException, OSError, TypeError) as from_file:
            failure: BaseException = from_file
    else:
        failure = kubernetes.config.ConfigException("no kubeconfig file found")

    def in_cluster() -> Any:
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_incluster_config(client_configuration=configuration)
        return kubernetes.client.ApiClient(configuration)

    try:
        return _cached_client(("in-cluster",), in_cluster)
    except kubernetes.config.ConfigException:
        raise ConnectionLostError(
            f"no Kubernetes configuration: kubeconfig failed ({failure}) and this is not "
            "a pod with a service account; pass api_client= or set KUBECONFIG"
        ) from failure


def api_client_from(kubeconfig: str | Mapping[str, Any] | None) -> Any:
    """An ApiClient for a kubeconfig file path (reused per file) or dict (None: the default)."""
    if kubeconfig is None:
        return default_api_client()
    if isinstance(kubeconfig, Mapping):  # a new client: the caller owns (and closes) it
        return kubernetes.config.new_client_from_config_dict(dict(kubeconfig))
    return _cached_client(
        _kubeconfig_key(kubeconfig),
        lambda: kubernetes.config.new_client_from_config(config_file=kubeconfig),
    )


def to_raw(api_client: Any, obj: Any) -> dict[str, Any]:
    """Turn a client model object (or a dict) into the raw JSON dict the server would send."""
    if isinstance(obj, Mapping):
        return dict(obj)
    raw = api_client.sanitize_for_serialization(obj)
    if not isinstance(raw, dict):
        raise TypeError(f"expected a Kubernetes object, got {type(obj).__name__}")
    return raw


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class KubeHttp:
    """Raw JSON requests with the credentials and TLS settings of an ApiClient."""

    def __init__(
        self,
        api_client: Any,
        *,
        read_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        deadline: Deadline | None = None,
    ) -> None:
        """Borrow `api_client`'s configuration and connection pool.

        With a `deadline`, no request (connecting or reading) outlasts it by more
        than `DEADLINE_MARGIN` seconds, so a server that accepts and never answers
        cannot hold a call past its timeout.
        """
        self.api_client = api_client
        self.configuration = api_client.configuration
        self.pool: urllib3.PoolManager = api_client.rest_client.pool_manager
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self.deadline = deadline

    def _timeout(self, read: float) -> urllib3.Timeout:
        connect = self.connect_timeout
        deadline = self.deadline
        if deadline is not None:
            left = max(deadline.remaining(), 0.0) + DEADLINE_MARGIN
            read = min(read, left)
            connect = min(connect, left)
        return urllib3.Timeout(connect=connect, read=read)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": f"kwait/{__version__}"}
        for setting in self.configuration.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[str(setting["key"])] = str(setting["value"])
        if "authorization" not in {k.lower() for k in headers} and self.configuration.username:
            headers["Authorization"] = self.configuration.get_basic_auth_token()
        return headers

    def open(
        self,
        path: str,
        query: Mapping[str, str] | None,
        *,
        request: str,
        read_timeout: float | None = None,
        accept: str | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """GET `path` without reading the body; raise typed errors for non-2xx answers."""
        headers = self._headers()  # may refresh credentials, and with them the host
        if accept:
            headers["Accept"] = accept
        url = self.configuration.host.rstrip("/") + path
        if query:
            url += "?" + urlencode(query)
        timeout = self._timeout(read_timeout or self.read_timeout)
        try:
            response = self.pool.request(
                "GET",
                url,
                headers=headers,
                preload_content=False,
                timeout=timeout,
                retries=False,
            )
        except (Urllib3Error, OSError) as error:
            raise ConnectionLostError(f"{request}: {error}") from error
        if response.status >= 300:  # noqa: PLR2004
            try:
                data = response.read()
            except (Urllib3Error, OSError):
                data = b""
            finally:
                response.release_conn()
            body = _decode_status(data)
            if response.status == _STATUS_GONE:
                raise ExpiredError(
                    query.get("resourceVersion", "") if query else "",
                    str(body.get("message", "")) if body else "",
                    body,
                )
            raise api_error_from_status(
                response.status,
                body
                or {"message": data.decode("utf-8", "replace").strip() or response.reason or ""},
                request=request,
                retry_after=_retry_after(response.headers),
            )
        return response

    def send_json(self, method: str, path: str, body: Any | None, *, request: str) -> Any:
        """Send a write (POST/PUT/PATCH/DELETE) with a JSON body; return the decoded answer."""
        headers = self._headers()  # may refresh credentials, and with them the host
        url = self.configuration.host.rstrip("/") + path
        data = None
        if body is not None:
            headers["Content-Type"] = (
                "application/merge-patch+json" if method == "PATCH" else "application/json"
            )
            data = json.dumps(body).encode()
        try:
            response = self.pool.request(
                method,
                url,
                body=data,
                headers=headers,
                timeout=self._timeout(self.read_timeout),
                retries=False,
            )
        except (Urllib3Error, OSError) as error:
            raise ConnectionLostError(f"{request}: {error}") from error
        decoded = _decode_status(response.data)
        if response.status >= 300:  # noqa: PLR2004
            raise api_error_from_status(
                response.status,
                decoded,
                request=request,
                retry_after=_retry_after(response.headers),
            )
        return decoded

    def get_json(
        self,
        path: str,
        query: Mapping[str, str] | None,
        *,
        request: str,
        accept: str | None = None,
    ) -> Any:
        """GET `path` and decode its JSON body."""
        response = self.open(path, query, request=request, accept=accept)
        try:
            data = response.read()
        except (Urllib3Error, OSError) as error:
            raise ConnectionLostError(f"{request}: {error}") from error
        finally:
            response.release_conn()
        try:
            return json.loads(data)
        except ValueError as error:
            raise ConnectionLostError(f"{request}: the answer is not JSON: {error}") from error


def _decode_status(data: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(data)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class _KubeStream:
    """One open WATCH response, split into events as bytes arrive."""

    def __init__(self, response: urllib3.BaseHTTPResponse, request: str, rv: str) -> None:
        self._response = response
        self._request = request
        self._rv = rv
        self._closed = threading.Event()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        shutdown = getattr(self._response, "shutdown", None)
        if shutdown is not None:
            # urllib3 refuses (RuntimeError, ValueError) when the body was read to its end and
            # the connection went back to the pool, or was never set up for shutdown: a clean
            # end of stream, with nothing left to shut down.
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                shutdown()
        else:  # urllib3 before 2.3: shut the socket down ourselves so a blocked read returns
            sock = getattr(getattr(self._response, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        # Close the connection rather than hand it back with a stream half read: the server
        # sees the client hang up and ends the watch, and the pool never reuses the socket.
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            self._response.close()
        self._response.release_conn()

    def _lines(self) -> Iterator[bytes]:
        buffer = b""
        try:
            for chunk in self._response.stream(65536, decode_content=True):
                buffer += chunk
                while True:
                    line, newline, rest = buffer.partition(b"\n")
                    if not newline:
                        break
                    buffer = rest
                    yield line
        except (Urllib3Error, OSError, ValueError) as error:
            if self._closed.is_set():
                return
            raise ConnectionLostError(f"{self._request}: {error}") from error
        if buffer.strip() and not self._closed.is_set():
            raise ConnectionLostError(
                f"{self._request}: the stream ended inside an event ({len(buffer)} bytes unread)"
            )

    def __iter__(self) -> Iterator[RawEvent]:
        try:
            for line in self._lines():
                if self._closed.is_set():
                    return
                yield self._event(line)
        finally:
            self.close()

    def _event(self, line: bytes) -> RawEvent:
        try:
            event = json.loads(line)
            type_ = event["type"]
            obj = event["object"]
        except (ValueError, KeyError, TypeError) as error:
            raise ConnectionLostError(
                f"{self._request}: malformed event line {line[:80]!r}: {error}"
            ) from error
        if not isinstance(obj, dict):
            raise ConnectionLostError(f"{self._request}: event object is not a JSON object")
        if type_ == "ERROR":
            code = obj.get("code")
            if code == _STATUS_GONE:
                raise ExpiredError(self._rv, str(obj.get("message", "")), obj)
            raise api_error_from_status(
                code if isinstance(code, int) else 500, obj, request=self._request
            )
        # An unknown type is handed on: the engine skips and counts it, as client-go does.
        return RawEvent(cast("EventType", str(type_)), obj)


class KubeWatchSource:
    """LIST and WATCH one collection over HTTP (implements `kwait._watch.source.WatchSource`)."""

    def __init__(
        self,
        http: KubeHttp,
        resource: ResourceInfo,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        watch_read_margin: float = 15.0,
    ) -> None:
        """Describe the collection; nothing is requested until `list` or `watch`."""
        self.http = http
        self.resource = resource
        self.namespace = namespace if resource.namespaced else None
        self.label_selector = label_selector or None
        self.field_selector = field_selector or None
        self.page_size = page_size
        self.watch_read_margin = watch_read_margin
        self.path = resource.collection_path(self.namespace)

    def describe(self) -> str:
        """Say what this source watches, in words a test log reader understands."""
        parts = [self.resource.qualified]
        if self.resource.namespaced:
            parts.append(
                f"in namespace {self.namespace!r}" if self.namespace else "in all namespaces"
            )
        if self.label_selector:
            parts.append(f"with labelSelector {self.label_selector!r}")
        if self.field_selector:
            parts.append(f"with fieldSelector {self.field_selector!r}")
        return " ".join(parts)

    def _selectors(self) -> dict[str, str]:
        query: dict[str, str] = {}
        if self.label_selector:
            query["labelSelector"] = self.label_selector
        if self.field_selector:
            query["fieldSelector"] = self.field_selector
        return query

    def list(self) -> ListResult:
        """LIST every page at one consistent resourceVersion."""
        items: list[dict[str, Any]] = []
        token = ""
        pages = 0
        rv = ""
        while True:
            query = self._selectors()
            query["limit"] = str(self.page_size)
            if token:
                query["continue"] = token
            body = self.http.get_json(self.path, query, request=f"LIST {self.describe()}")
            pages += 1
            kind = str(body.get("kind", ""))
            item_kind = kind.removesuffix("List") if kind.endswith("List") else kind
            api_version = str(body.get("apiVersion", self.resource.api_version))
            for item in body.get("items") or []:
                # List items of built-in kinds carry no kind/apiVersion; restore them.
                item.setdefault("kind", item_kind or self.resource.kind)
                item.setdefault("apiVersion", api_version)
                items.append(item)
            meta = body.get("metadata") or {}
            rv = rv or str(meta.get("resourceVersion", ""))
            token = str(meta.get("continue") or "")
            if not token:
                return ListResult(items, rv, pages)

    def watch(self, resource_version: str, timeout_seconds: int) -> _KubeStream:
        """Open a WATCH from `resource_version` with bookmarks and a server-side timeout."""
        query = self._selectors()
        query.update(
            {
                "watch": "true",
                "allowWatchBookmarks": "true",
                "resourceVersion": resource_version,
                "timeoutSeconds": str(timeout_seconds),
            }
        )
        request = f"WATCH {self.describe()} from resourceVersion {resource_version}"
        response = self.http.open(
            self.path,
            query,
            request=request,
            read_timeout=timeout_seconds + self.watch_read_margin,
        )
        return _KubeStream(response, request, resource_version)


class DiscoveryCache:
    """The resources a server serves, read once through discovery and kept (per ApiClient).

    It holds no reference to the client: the cache lives in a weak-keyed map
    whose key is the client, and a value that referred to its key would keep
    every client alive forever.
    """

    def __init__(self) -> None:
        """Start empty; discovery happens on first use."""
        self._resources: list[ResourceInfo] | None = None
        self._lock = threading.Lock()

    def resources(self, http: KubeHttp, *, refresh: bool = False) -> list[ResourceInfo]:
        """Return every (non-sub)resource of every group version, preferred versions first."""
        with self._lock:
            if self._resources is None or refresh:
                self._resources = _discover(http)
            return self._resources


def _group_version(
    http: KubeHttp, path: str, group: str, version: str, *, preferred: bool
) -> list[ResourceInfo]:
    body = http.get_json(path, None, request=f"discovery {path}")
    return _resources_of(body.get("resources") or [], group, version, preferred=preferred)


def _resources_of(
    listed: list[Any], group: str, version: str, *, preferred: bool
) -> list[ResourceInfo]:
    out = []
    for res in listed:
        name = str(res.get("name") or res.get("resource") or "")
        if not name or "/" in name:
            continue
        kind = res.get("kind") or (res.get("responseKind") or {}).get("kind") or ""
        namespaced = res.get("namespaced")
        if namespaced is None:
            namespaced = res.get("scope") == "Namespaced"
        out.append(
            ResourceInfo(
                group=group,
                version=version,
                plural=name,
                kind=str(kind),
                namespaced=bool(namespaced),
                singular=str(res.get("singularName") or res.get("singularResource") or ""),
                short_names=tuple(res.get("shortNames") or ()),
                verbs=tuple(res.get("verbs") or ()),
                preferred=preferred,
            )
        )
    return out


_AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json"
)


def _discover(http: KubeHttp) -> list[ResourceInfo]:
    """Discover every resource: the core group from the built-in table, the others from ``/apis``.

    A server that speaks aggregated discovery (1.26+) answers in one request;
    older ones are asked group version by group version.
    """
    found = list(BUILTIN_CORE)
    groups = http.get_json("/apis", None, request="discovery /apis", accept=_AGGREGATED)
    if str(groups.get("kind", "")) == "APIGroupDiscoveryList":
        for group in groups.get("items") or []:
            name = str((group.get("metadata") or {}).get("name", ""))
            for index, gv in enumerate(group.get("versions") or []):
                version = str(gv.get("version", ""))
                found += _resources_of(
                    gv.get("resources") or [], name, version, preferred=index == 0
                )
        return found
    for group in groups.get("groups") or []:
        name = str(group.get("name", ""))
        preferred = (group.get("preferredVersion") or {}).get("groupVersion")
        for gv in group.get("versions") or []:
            group_version = str(gv.get("groupVersion", ""))
            version = str(gv.get("version", ""))
            found += _group_version(
                http,
                f"/apis/{group_version}",
                name,
                version,
                preferred=group_version == preferred,
            )
    return found


_DISCOVERY: weakref.WeakKeyDictionary[Any, DiscoveryCache] = weakref.WeakKeyDictionary()
_DISCOVERY_LOCK = threading.Lock()


def discovery_for(api_client: Any) -> DiscoveryCache:
    """Return the discovery cache kept for `api_client` (one per client, reused by trackers)."""
    with _DISCOVERY_LOCK:
        cache = _DISCOVERY.get(api_client)
        if cache is None:
            cache = DiscoveryCache()
            _DISCOVERY[api_client] = cache
        return cache


def events_for(http: KubeHttp, namespace: str, uid: str, limit: int = 50) -> list[dict[str, Any]]:
    """The core/v1 Events whose involvedObject.uid is `uid` (best effort: [] on failure)."""
    path = f"/api/v1/namespaces/{namespace}/events" if namespace else "/api/v1/events"
    query = {"fieldSelector": f"involvedObject.uid={uid}", "limit": str(limit)}
    try:
        body = http.get_json(path, query, request=f"LIST events of {uid}")
    except (ApiError, ConnectionLostError, ExpiredError):
        return []
    items = body.get("items") if isinstance(body, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]
