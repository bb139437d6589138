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
import importlib
import inspect
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

from kwait._check import one_line
from kwait._errors import ApiError, ConfigError, ConnectionLostError, api_error_from_status
from kwait._time.deadline import Deadline
from kwait._version import __version__
from kwait._watch.resources import BUILTIN_CORE, ResourceInfo
from kwait._watch.source import EventType, ExpiredError, ListResult, RawEvent
from kwait._watch.wire import Head, WireError, decode_event, decode_list

__all__ = [
    "DiscoveryCache",
    "KubeHttp",
    "KubeWatchSource",
    "api_client_for",
    "api_client_from",
    "blocking_api_client",
    "default_api_client",
    "default_namespace",
    "discovery_for",
    "events_for",
    "kubeconfig_namespace",
    "missing_namespace",
    "model_to_raw",
    "namespace_events",
    "pod_log",
    "to_raw",
]

_STATUS_GONE = 410

DEADLINE_MARGIN = 0.5
"""Seconds a request may outlast the deadline it runs under (so it can still fail cleanly)."""


_CLIENTS: dict[tuple[Any, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()
_CLIENTS_KEPT = 8


def _kubeconfig_files(config_file: str | None) -> str:
    """The kubeconfig file(s) to read now (``KUBECONFIG`` is read at call time, not import)."""
    return config_file or os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())


def _kubeconfig_key(config_file: str | None) -> tuple[Any, ...] | None:
    """Identify a kubeconfig by its files and their modification times (None: no file)."""
    paths = _kubeconfig_files(config_file)
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


# PyYAML comes with the client (which parses kubeconfigs with it); typed loosely here.
yaml: Any = importlib.import_module("yaml")

_NAMESPACES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def _kubeconfig_paths() -> list[str]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [str(Path("~/.kube/config").expanduser())]


def _config_cause(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}" if not isinstance(error, OSError) else text


def _read_kubeconfig(path: str) -> dict[str, Any]:
    """Parse one kubeconfig file; `ConfigError` naming the file when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:  # noqa: PTH123 - a plain path
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError("the file does not exist", path=path) from None
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read it: {_config_cause(error)}", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError(
            "not a kubeconfig (a YAML mapping with clusters, users and contexts), "
            f"got {type(data).__name__}",
            path=path,
        )
    return data


def _from_files(paths: list[str], chosen: str | None = None) -> Any:
    """An ApiClient from kubeconfig files (merged as kubectl does, first one wins)."""
    datas = [_read_kubeconfig(path) for path in paths]
    current = next((d["current-context"] for d in datas if d.get("current-context")), None)
    context = chosen or current
    shown = os.pathsep.join(paths)
    try:
        if len(paths) == 1:
            client = kubernetes.config.new_client_from_config(config_file=paths[0], context=chosen)
        else:
            client = kubernetes.config.new_client_from_config(context=chosen)
    except Exception as error:  # noqa: BLE001 - the client raises many kinds; all mean "bad file"
        raise ConfigError(_config_cause(error), path=shown, context=context) from None
    namespace = next((ns for d in datas if (ns := _context_namespace(d, context))), None)
    if namespace:
        _NAMESPACES[client] = namespace
    return client


def _from_dict(data: Mapping[str, Any], chosen: str | None = None) -> Any:
    context = chosen or data.get("current-context") or None
    try:
        client = kubernetes.config.new_client_from_config_dict(dict(data), context=chosen)
    except Exception as error:  # noqa: BLE001 - the client raises many kinds; all mean "bad dict"
        raise ConfigError(_config_cause(error), context=context) from None
    namespace = _context_namespace(data, context)
    if namespace:
        _NAMESPACES[client] = namespace
    return client


def _context_namespace(data: Mapping[str, Any], context: str | None) -> str | None:
    for entry in data.get("contexts") or []:
        if isinstance(entry, Mapping) and entry.get("name") == context:
            body = entry.get("context")
            if isinstance(body, Mapping) and isinstance(body.get("namespace"), str):
                return str(body["namespace"]) or None
    return None


def default_api_client() -> Any:
    """Return an ApiClient from the kubeconfig (``KUBECONFIG``, ``~/.kube/config``) or in-cluster.

    A kubeconfig that exists but cannot be used is a `kwait.errors.ConfigError`
    naming the file, its context and the cause (not retried); with no
    kubeconfig, the in-cluster service account is used, and a `ConfigError`
    names both when neither is there.

    The client is built once per kubeconfig (its files and their modification
    times, ``KUBECONFIG`` read at the call) and reused by every tracker that is not
    given one, so calls without ``api_client=`` neither rebuild the configuration
    nor leave clients behind.
    """
    paths = _kubeconfig_paths()
    existing = [p for p in paths if os.path.exists(p)]  # noqa: PTH110 - a plain path
    if existing:
        key = _kubeconfig_key(os.pathsep.join(existing))
        return _cached_client(key, lambda: _from_files(existing))
    try:
        return _cached_client(("in-cluster",), _in_cluster_client)
    except kubernetes.config.ConfigException as error:
        raise ConfigError(
            f"the file does not exist, and this is not a pod with a service account "
            f"({error}); pass api_client= or set KUBECONFIG",
            path=os.pathsep.join(paths),
        ) from None


def _in_cluster_client() -> Any:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_incluster_config(client_configuration=configuration)
    client = kubernetes.client.ApiClient(configuration)
    with contextlib.suppress(OSError):
        with open(_SERVICE_ACCOUNT_NAMESPACE, encoding="utf-8") as handle:  # noqa: PTH123
            namespace = handle.read().strip()
        if namespace:
            _NAMESPACES[client] = namespace
    return client


def default_namespace(api_client: Any) -> str | None:
    """The namespace of the kubeconfig context (or service account) `api_client` was made from.

    None for a client kwait did not build (then ``default`` applies, as in kubectl
    with no namespace in its context).
    """
    try:
        return _NAMESPACES.get(api_client)
    except TypeError:  # not weak-referenceable
        return None


def api_client_from(kubeconfig: str | Mapping[str, Any] | None, context: str | None = None) -> Any:
    """An ApiClient for a kubeconfig file path or dict (None: the default lookup).

    `context` picks a kubeconfig context other than the current one. Raises
    `kwait.errors.ConfigError` naming the file, context and cause when it cannot be used.
    """
    if kubeconfig is None and context is None:
        return default_api_client()
    if isinstance(kubeconfig, Mapping):
        return _from_dict(kubeconfig, context)
    if kubeconfig is None:
        existing = [p for p in _kubeconfig_paths() if os.path.exists(p)]  # noqa: PTH110
        return _from_files(existing or _kubeconfig_paths(), context)
    path = os.fspath(kubeconfig)
    key = _kubeconfig_key(path)
    # Reused per file (and context): one-call waits given the same kubeconfig share it.
    return _cached_client(
        (*key, context) if key is not None else None, lambda: _from_files([path], context)
    )


def kubeconfig_namespace(kubeconfig: str | None, context: str | None = None) -> str | None:
    """The namespace the kubeconfig's (current or given) context sets, as kubectl reads it."""
    try:
        contexts, current = kubernetes.config.list_kube_config_contexts(config_file=kubeconfig)
    except (kubernetes.config.ConfigException, OSError, TypeError, ValueError):
        return None
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return str(namespace) if namespace else None


def api_client_for(config_file: str | None, *, context: str | None = None) -> Any:
    """A new ApiClient (the caller's to close) for a kubeconfig path or paths and a context.

    ``config_file`` may hold several paths separated by ``os.pathsep``, as
    ``KUBECONFIG`` does. With neither a file nor a context this is
    `default_api_client` (which also tries the in-cluster configuration).
    Raises `kwait.errors.ConfigError` naming the file, context and cause.
    """
    if config_file is None and context is None:
        return default_api_client()
    if config_file is None:
        existing = [p for p in _kubeconfig_paths() if os.path.exists(p)]  # noqa: PTH110
        return _from_files(existing or _kubeconfig_paths(), context)
    return _from_files([p for p in config_file.split(os.pathsep) if p], context)


# The settings kwait needs, and the official client's Configuration has under the same names.
_ASYNC_CONFIG_FIELDS = (
    "host",
    "username",
    "password",
    "verify_ssl",
    "ssl_ca_cert",
    "cert_file",
    "key_file",
    "assert_hostname",
    "tls_server_name",
    "proxy",
    "proxy_headers",
)


def _is_asyncio_client(api_client: Any) -> bool:
    """True for a kubernetes_asyncio ApiClient (duck-typed: its credentials are coroutines)."""
    configuration = getattr(api_client, "configuration", None)
    auth_settings = getattr(configuration, "auth_settings", None)
    module = type(api_client).__module__ or ""
    return inspect.iscoroutinefunction(auth_settings) or module.startswith("kubernetes_asyncio")


def blocking_api_client(api_client: Any) -> tuple[Any, bool]:
    """The official ApiClient kwait's engine uses for `api_client`; True if kwait owns it.

    An official ``kubernetes.client.ApiClient`` is used as it is. A
    kubernetes_asyncio ApiClient is read, not called: its configuration (host,
    bearer token with its prefix, basic auth, TLS files and verification,
    proxy) becomes an official client that kwait creates, owns and closes. A
    token the asyncio client would refresh later (an exec plugin, OIDC) is used
    as it stands now. Anything else is refused with an error that says what to
    pass.
    """
    if _is_asyncio_client(api_client):
        source = api_client.configuration
        borrowed = kubernetes.client.Configuration()
        for field in _ASYNC_CONFIG_FIELDS:
            if hasattr(source, field):
                setattr(borrowed, field, getattr(source, field))
        borrowed.api_key = dict(getattr(source, "api_key", None) or {})
        borrowed.api_key_prefix = dict(getattr(source, "api_key_prefix", None) or {})
        return kubernetes.client.ApiClient(borrowed), True
    pool = getattr(getattr(api_client, "rest_client", None), "pool_manager", None)
    # Duck-typed: a wrapped pool (a test's request counter, a proxy manager) is fine.
    usable = isinstance(pool, urllib3.PoolManager) or callable(getattr(pool, "request", None))
    if not usable or not hasattr(api_client, "configuration"):
        raise TypeError(
            f"api_client= takes a kubernetes.client.ApiClient (or a kubernetes_asyncio "
            f"ApiClient, whose configuration kwait reads), not {type(api_client).__name__}; "
            "for another client, build one from the same kubeconfig with "
            "kubernetes.config.new_client_from_config(config_file=...)"
        )
    return api_client, False


def to_raw(api_client: Any, obj: Any) -> dict[str, Any]:
    """Turn a client model object (or a dict) into the raw JSON dict the server would send."""
    if isinstance(obj, Mapping):
        return dict(obj)
    raw = api_client.sanitize_for_serialization(obj)
    if not isinstance(raw, dict):
        raise TypeError(f"expected a Kubernetes object, got {type(obj).__name__}")
    return raw


_SERIALIZER: list[Any] = []


def model_to_raw(obj: Any) -> dict[str, Any]:
    """Turn a client model object (``V1Pod``...) into the raw JSON dict the server would send.

    Uses the client's own serializer (camelCase keys, no unset fields, RFC 3339 times).
    """
    if not _SERIALIZER:
        _SERIALIZER.append(kubernetes.client.ApiClient())
    raw = _SERIALIZER[0].sanitize_for_serialization(obj)
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
                or {"message": one_line(data.decode("utf-8", "replace")) or response.reason or ""},
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

    def get_bytes(
        self,
        path: str,
        query: Mapping[str, str] | None,
        *,
        request: str,
        accept: str | None = None,
    ) -> bytes:
        """GET `path` and return its body."""
        response = self.open(path, query, request=request, accept=accept)
        try:
            return bytes(response.read())
        except (Urllib3Error, OSError) as error:
            raise ConnectionLostError(f"{request}: {error}") from error
        finally:
            response.release_conn()

    def get_json(
        self,
        path: str,
        query: Mapping[str, str] | None,
        *,
        request: str,
        accept: str | None = None,
    ) -> Any:
        """GET `path` and decode its JSON body."""
        data = self.get_bytes(path, query, request=request, accept=accept)
        try:
            decoded = json.loads(data)
        except ValueError as error:
            raise ConnectionLostError(
                f"{request}: the answer is not JSON ({error}): "
                f"{one_line(data.decode('utf-8', 'replace')) or 'an empty body'}"
            ) from error
        if not isinstance(decoded, dict):
            raise ConnectionLostError(
                f"{request}: the answer is JSON but not a Kubernetes object: "
                f"{one_line(data.decode('utf-8', 'replace'))}"
            )
        return decoded


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

    def _chunks(self) -> Iterator[list[bytes]]:
        """Yield the complete lines of each chunk read from the socket."""
        buffer = b""
        try:
            for chunk in self._response.stream(65536, decode_content=True):
                *lines, buffer = (buffer + chunk).split(b"\n")
                if lines:
                    yield lines
        except (Urllib3Error, OSError, ValueError) as error:
            if self._closed.is_set():
                return
            raise ConnectionLostError(f"{self._request}: {error}") from error
        if buffer.strip() and not self._closed.is_set():
            raise ConnectionLostError(
                f"{self._request}: the stream ended inside an event ({len(buffer)} bytes unread)"
            )

    def batches(self) -> Iterator[list[RawEvent]]:
        """Yield the events as they arrive, a socket read's worth at a time."""
        try:
            for lines in self._chunks():
                if self._closed.is_set():
                    return
                yield [self._event(line) for line in lines if line.strip()]
        finally:
            self.close()

    def __iter__(self) -> Iterator[RawEvent]:
        for batch in self.batches():
            yield from batch

    def _event(self, line: bytes) -> RawEvent:
        try:
            type_, raw, head = decode_event(line)
        except WireError as error:
            raise ConnectionLostError(f"{self._request}: {error}") from error
        if type_ == "ERROR":
            obj = _decode_status(raw) or {}
            code = obj.get("code")
            if code == _STATUS_GONE:
                raise ExpiredError(self._rv, str(obj.get("message", "")), obj)
            raise api_error_from_status(
                code if isinstance(code, int) else 500, obj, request=self._request
            )
        # An unknown type is handed on: the engine skips and counts it, as client-go does.
        return RawEvent(cast("EventType", str(type_)), raw=raw, head=head)


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
        items: list[tuple[bytes, Head]] = []
        token = ""
        pages = 0
        rv = ""
        request = f"LIST {self.describe()}"
        while True:
            query = self._selectors()
            query["limit"] = str(self.page_size)
            if token:
                query["continue"] = token
            body = self.http.get_bytes(self.path, query, request=request)
            pages += 1
            try:
                page_rv, token, page = decode_list(
                    body, kind=self.resource.kind, api_version=self.resource.api_version
                )
            except WireError as error:
                raise ConnectionLostError(f"{request}: {error}") from error
            items.extend(page)
            rv = rv or page_rv
            if not token:
                return ListResult(resource_version=rv, pages=pages, raw_items=items)

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


def missing_namespace(source: object) -> str | None:
    """The namespace a `KubeWatchSource` watches if the server says it does not exist, else None.

    Best effort, for failure reports: any other answer (or another kind of source) is None.
    """
    if not isinstance(source, KubeWatchSource) or not source.namespace:
        return None
    namespace = source.namespace
    try:
        source.http.get_json(
            f"/api/v1/namespaces/{namespace}", None, request=f"GET namespace {namespace!r}"
        )
    except ApiError as error:
        return namespace if error.status == 404 else None  # noqa: PLR2004
    except Exception:  # noqa: BLE001 - a hint for a report must not replace the real failure
        return None
    return None


def namespace_events(http: KubeHttp, namespace: str, limit: int = 200) -> list[dict[str, Any]]:
    """Every core/v1 Event of a namespace (best effort: [] on failure)."""
    path = f"/api/v1/namespaces/{namespace}/events"
    try:
        body = http.get_json(path, {"limit": str(limit)}, request=f"LIST events in {namespace}")
    except (ApiError, ConnectionLostError, ExpiredError):
        return []
    items = body.get("items") if isinstance(body, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


def pod_log(
    http: KubeHttp,
    namespace: str,
    name: str,
    container: str,
    *,
    previous: bool = False,
    tail_lines: int = 20,
) -> str:
    """The last lines of a container's log (or of its previous run), or why there are none."""
    path = f"/api/v1/namespaces/{namespace}/pods/{name}/log"
    query = {"container": container, "tailLines": str(tail_lines)}
    if previous:
        query["previous"] = "true"
    try:
        # Bounded: a report must not wait long for a kubelet that cannot be reached.
        response = http.open(
            path, query, request=f"GET log of {namespace}/{name}/{container}", read_timeout=5.0
        )
    except (ApiError, ConnectionLostError, ExpiredError) as error:
        return f"(no log: {getattr(error, 'message', None) or error})"
    try:
        return response.read().decode("utf-8", "replace")
    except (Urllib3Error, OSError) as error:
        return f"(no log: {error})"
    finally:
        response.release_conn()
