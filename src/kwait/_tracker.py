"""Trackers: start recording before the test acts, read the timeline after.

A `Tracker` owns a background thread running the watch engine into a
`Recorder`. Entering it (or calling `start`) returns once the initial LIST is
recorded, so whatever the test does next is observed. Leaving it (or `stop`)
closes the stream and joins the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypedDict

from typing_extensions import Self, Unpack

from kwait._check import (
    ModelObject,
    check_bool,
    check_int,
    check_name,
    check_namespace,
    check_optional_str,
    check_seconds,
    shown,
)
from kwait._errors import KwaitError
from kwait._match.counting import Countable
from kwait._match.matcher import Matcher
from kwait._match.pattern import PatternLike
from kwait._match.states import State
from kwait._time.backoff import Backoff
from kwait._time.clock import SystemClock
from kwait._time.deadline import Deadline, Timeout, as_deadline, check_timeout, format_seconds
from kwait._time.protocol import Clock, check_clock
from kwait._verdict.failures import WaitTimeoutError
from kwait._verdict.judge import (
    DEFAULT_TIMEOUT,
    Condition,
    FailOn,
    Order,
    as_condition,
    check_until,
    plan_sync,
    run_blocking,
    tracker_consistently,
    tracker_expect_count,
    tracker_expect_transitions,
    tracker_never,
    tracker_wait_until,
)
from kwait._verdict.report import Report
from kwait._watch.engine import DEFAULT_TIMEOUT_SECONDS, WatchEngine
from kwait._watch.objects import maybe_raw
from kwait._watch.resources import builtin_resource, resolve_resource
from kwait._watch.source import WatchSource
from kwait._watch.timeline import (
    DEFAULT_MAX_BYTES,
    Entry,
    Identity,
    Recorder,
    Timeline,
)

__all__ = ["TrackOptions", "Tracker", "plan_sync", "track"]


class TrackOptions(TypedDict, total=False):
    """The keyword options of `kwait.Tracker`, as the one-call forms accept them.

    Each key means what the `kwait.Tracker` argument of the same name means.

    >>> import kwait
    >>> from kwait.typing import TrackOptions
    >>> options: TrackOptions = {"namespace": "ci", "label_selector": "app=web"}
    >>> kwait.track("pods", **options)
    <Tracker pods in ci [app=web]: not started, 0 entries>
    """

    namespace: str | None
    all_namespaces: bool
    label_selector: str | None
    field_selector: str | None
    api_client: Any
    clock: Clock | None
    max_bytes: int
    server_timeout_seconds: int
    backoff: Backoff | None
    source: WatchSource | None
    start_timeout: float


_JOIN_SECONDS = 30.0
_REPR_LIMIT = 100


def _clip(text: str, limit: int = _REPR_LIMIT) -> str:
    """Cut `text` to at most `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Tracker:
    """Record every state of the objects a collection holds, from before the test acts.

    Target one object by name (it may not exist yet), or a label/field selector,
    in one namespace or all; any resource, named as kubectl users name it.

    Example, with the in-process API server from `kwait.testing`::

        with kwait.track("pods", "web-0", namespace="ci", api_client=client) as tracker:
            create_the_pod()
            tracker.wait_for(...)
        print(tracker.timeline())

    The same with a scripted source, as a unit test would:

    >>> import kwait
    >>> from kwait.testing import FakeClock, Hang, ScriptedSource, event
    >>> def pod(rv, phase, ready="False"):
    ...     return {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "ci", "uid": "u1",
    ...             "resourceVersion": rv}, "status": {"phase": phase,
    ...             "conditions": [{"type": "Ready", "status": ready}]}}
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock, "pods/web-0 in ci")
    >>> source.add_list([pod("1", "Pending")], "1")
    >>> source.add_watch(event("MODIFIED", pod("2", "Running", "True")), Hang())
    >>> with kwait.Tracker(source=source, clock=clock) as tracker:
    ...     _ = tracker.wait_for("condition=Ready")
    >>> tracker
    <Tracker pods/web-0 in ci: stopped, 2 entries>
    >>> [o.resource_version for o in tracker.timeline("web-0").observations]
    ['1', '2']
    """

    def __init__(  # noqa: PLR0915 - every option is checked at the call, before any request
        self,
        resource: str | Mapping[str, Any] | ModelObject | None = None,
        name: str | None = None,
        *,
        namespace: str | None = None,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
        api_client: Any = None,
        clock: Clock | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        server_timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
        backoff: Backoff | None = None,
        source: WatchSource | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        """Describe what to track; nothing is requested until `start`.

        Args:
            resource: ``"pods"``, ``"po"``, ``"deployments.apps"``, ``"Deployment"``, or an
                object/manifest (its apiVersion and kind, and its name and namespace
                unless given here).
            name: Track only the object with this name (created later is fine).
            namespace: The namespace of a namespaced resource (default ``"default"``).
            all_namespaces: Track across every namespace.
            label_selector: A label selector, e.g. ``"app=web,tier!=cache"``.
            field_selector: A field selector, e.g. ``"status.phase=Running"``.
            api_client: A ``kubernetes.client.ApiClient``; by default the kubeconfig
                (``KUBECONFIG`` or ``~/.kube/config``) or the in-cluster config.
            clock: The clock every wait and reconnect reads; `kwait.SystemClock` by default.
            max_bytes: The memory budget for recorded objects, in bytes (256 MiB by default):
                past it the oldest states that are not an object's latest are dropped.
            server_timeout_seconds: The server-side ``timeoutSeconds`` of each WATCH request
                (the server ends the stream then and the tracker resumes it); not a wait budget.
            backoff: The reconnect backoff (default: 0.1 s doubling to 10 s, jittered).
            source: A ready `WatchSource` instead of the API server (scripted tests).
            start_timeout: How long `start` waits for the initial LIST.
        """
        resource = _check_resource(resource)
        name = check_name("name", name)
        namespace = check_namespace(namespace)
        check_bool("all_namespaces", all_namespaces)
        label_selector = check_optional_str(
            "label_selector", label_selector, accepts="a label selector string such as 'app=web'"
        )
        field_selector = check_optional_str(
            "field_selector",
            field_selector,
            accepts="a field selector string such as 'status.phase=Running'",
        )
        api_client = _check_api_client(api_client)
        if clock is not None:
            check_clock(clock)
        check_int("max_bytes", max_bytes, minimum=0)
        check_int("server_timeout_seconds", server_timeout_seconds, minimum=1)
        if backoff is not None and not isinstance(backoff, Backoff):
            raise TypeError(
                f"backoff= takes a kwait.retry backoff such as ExponentialBackoff(), got "
                f"{shown(backoff)} ({type(backoff).__name__})"
            )
        if source is not None:
            missing = [
                m for m in ("list", "watch", "describe") if not callable(getattr(source, m, None))
            ]
            if missing:
                raise TypeError(
                    f"source= takes a WatchSource (such as kwait.testing.ScriptedSource), got "
                    f"{shown(source)}, which has no {', '.join(missing)}"
                )
        check_seconds("start_timeout", start_timeout, positive=True)
        if all_namespaces and namespace:
            raise ValueError("give either namespace= or all_namespaces=True, not both")
        if source is None and resource is None:
            raise ValueError("say what to track: a resource name or object, or source=")
        uid: str | None = None
        if isinstance(resource, Mapping):
            meta = resource.get("metadata") or {}
            from_object = check_name("the object's metadata.name", meta.get("name") or None)
            if name is not None and from_object is not None and name != from_object:
                raise ValueError(
                    f"name={name!r} contradicts the object's metadata.name {from_object!r}"
                )
            name = name or from_object
            uid = meta.get("uid") or None if name == from_object else None
            if not all_namespaces:
                namespace = namespace or check_namespace(
                    meta.get("namespace") or None, "the object's metadata.namespace"
                )
        _check_name_selector(name, field_selector)
        self.resource: str | Mapping[str, Any] | None = resource
        self.uid: str | None = uid
        self.name: str | None = name
        self.namespace: str | None = namespace
        self.all_namespaces: bool = all_namespaces
        self.label_selector: str | None = label_selector
        self.field_selector: str | None = field_selector
        self.api_client: Any = api_client
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.start_timeout: float = float(start_timeout)
        self.recorder: Recorder = Recorder(self.clock, max_bytes=max_bytes)
        self._source = source
        self._server_timeout_seconds = server_timeout_seconds
        self._backoff = backoff
        self._engine: WatchEngine | None = None
        self._thread: threading.Thread | None = None
        self._owned_client: Any = None
        self._http: Any = None
        self._request_deadline: Deadline | None = None

    def __repr__(self) -> str:
        """Say what is tracked, whether it runs, and how much it recorded (bounded size)."""
        return f"<Tracker {_clip(self._target())}: {self._phase()}, {len(self.recorder)} entries>"

    def _target(self) -> str:
        """What this tracker is about, without building its source (no client is loaded)."""
        if self.resource is None and self._source is not None:
            return self._source.describe()
        if isinstance(self.resource, Mapping):
            what = str(self.resource.get("kind") or "object")
        else:
            what = str(self.resource)
        if self.name:
            what += f"/{self.name}"
        where = "all namespaces" if self.all_namespaces else (self.namespace or "")
        selectors = [s for s in (self.label_selector, self.field_selector) if s]
        return " ".join([what, *([f"in {where}"] if where else []), *[f"[{s}]" for s in selectors]])

    def _phase(self) -> str:
        if self._engine is None:
            return "not started"
        return "running" if self.running else "stopped"

    # ------------------------------------------------------------------ source
    def _build_source(self) -> WatchSource:
        from kwait._watch import kube as _kube  # noqa: PLC0415 - loads the client only when used

        given = self.api_client if self.api_client is not None else _kube.default_api_client()
        self.api_client = given
        client, owned = _kube.blocking_api_client(given)
        if owned:  # made from a kubernetes_asyncio client's configuration: closed on stop
            self._owned_client = client
        http = _kube.KubeHttp(client, deadline=self._request_deadline)
        self._http = http
        assert self.resource is not None  # noqa: S101 - checked in __init__
        try:
            # Built-in resources need no discovery; others are discovered once per client.
            info = builtin_resource(self.resource)
            if info is None:
                info = resolve_resource(self.resource, _kube.discovery_for(client).resources(http))
        except BaseException:
            self._close_owned_client()  # the tracker never starts: nobody else would close it
            raise
        fields = [f"metadata.name={self.name}"] if self.name else []
        if self.field_selector:
            fields.append(self.field_selector)
        namespace = None
        if info.namespaced and not self.all_namespaces:
            # As kubectl: the namespace given, else the kubeconfig context's, else "default".
            namespace = self.namespace or _kube.default_namespace(client) or "default"
        self.namespace = namespace
        return _kube.KubeWatchSource(
            http,
            info,
            namespace=namespace,
            label_selector=self.label_selector,
            field_selector=",".join(fields) or None,
        )

    def _bound_requests(self, deadline: Deadline | None) -> None:
        """Make every HTTP request of this tracker end by `deadline` (None: no bound)."""
        self._request_deadline = deadline
        if self._http is not None:
            self._http.deadline = deadline

    @property
    def source(self) -> WatchSource:
        """The source of LISTs and WATCHes (built from the API client on first use)."""
        if self._source is None:
            self._source = self._build_source()
        return self._source

    def describe(self) -> str:
        """Say what this tracker watches."""
        return self.source.describe()

    @property
    def reads_consistently(self) -> bool:
        """True when `sync` reads the server's current state (any source but a scripted one).

        Selector waits then take their targets from a LIST at the call, as
        ``kubectl wait -l`` does. A scripted source answers only its script, so waits on
        it take their targets from what was recorded.
        """
        return bool(getattr(self.source, "consistent_reads", True))

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        """True between a successful `start` and `stop` while the engine is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _require_started(self, what: str) -> None:
        """Refuse to wait on a tracker that records nothing: it would only wait out its timeout."""
        if self._engine is None:
            raise KwaitError(
                f"{what}() on a tracker that was never started: nothing is being recorded; "
                "use `with kwait.track(...) as tracker:` or call tracker.start() first"
            )

    def start(self, *, timeout: Timeout | None = None) -> Self:
        """Start recording and return once the initial LIST is recorded.

        `timeout` bounds the start (default: ``start_timeout``), resolving the
        resource and every request included. Raises the engine's error (a typed
        `kwait.ApiError`) when the server refuses the LIST, and
        `kwait.WaitTimeoutError` saying why when the tracker could not get
        connected in time. Whatever goes wrong (KeyboardInterrupt included),
        the tracker's thread is stopped and joined before the exception leaves.
        """
        __tracebackhide__ = True
        if timeout is not None:
            check_timeout(timeout, "timeout")
        deadline = as_deadline(self.start_timeout if timeout is None else timeout, clock=self.clock)
        return self._start(deadline, keep_bound=False)

    def _start(self, deadline: Deadline, *, keep_bound: bool) -> Self:
        """Start within `deadline`; with `keep_bound`, requests stay bounded by it afterwards."""
        __tracebackhide__ = True
        previous = self._request_deadline
        self._bound_requests(deadline)
        try:
            self._launch()
            synced = self.recorder.wait_synced(deadline.timeout())
        except BaseException:
            self.stop()
            raise
        finally:
            if not keep_bound:
                self._bound_requests(previous)
        if not synced:
            error = self._start_failure(deadline)
            self.stop()
            raise error
        return self

    def _launch(self) -> None:
        """Start the engine's thread without waiting for the initial LIST (see `start`)."""
        if self._engine is not None:
            raise RuntimeError("a tracker can be started only once")
        source = self.source  # may resolve the resource (a discovery request at most)
        engine = WatchEngine(
            source,
            self.recorder,
            self.clock,
            backoff=self._backoff,
            timeout_seconds=self._server_timeout_seconds,
        )
        self._engine = engine
        self._thread = threading.Thread(
            target=engine.run, name=f"kwait-tracker {source.describe()}", daemon=True
        )
        self._thread.start()

    def _start_failure(self, deadline: Deadline | None = None) -> BaseException:
        """The error to raise when the initial LIST was not recorded in time."""
        error = self.recorder.error
        if error is not None:
            return error
        deadline = deadline or as_deadline(self.start_timeout, clock=self.clock)
        now = self.clock.monotonic()
        why = self.recorder.continuity.describe(now) or ["no answer to the initial LIST"]
        summary = (
            f"tracking {self.source.describe()}: never got connected within "
            f"{format_seconds(deadline.budget)}: {'; '.join(why)}"
        )
        return WaitTimeoutError(
            Report("wait", summary, (), {"timeout": deadline.describe(), "connection": why})
        )

    def stop(self) -> None:
        """Stop recording: close the stream, interrupt waits, join the thread."""
        if self._engine is not None:
            self._engine.stop()
        if self._thread is not None:
            self._thread.join(_JOIN_SECONDS)
            if self._thread.is_alive():  # pragma: no cover - would be a kwait bug
                raise RuntimeError(f"the tracker thread {self._thread.name!r} did not stop")
        self._close_owned_client()

    def _close_owned_client(self) -> None:
        client, self._owned_client = self._owned_client, None
        if client is not None:
            client.close()

    def __enter__(self) -> Self:
        """Start recording (see `start`)."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop recording (see `stop`)."""
        self.stop()

    # ------------------------------------------------------------------ reading
    @property
    def resource_version(self) -> str:
        """The resourceVersion the engine would resume from now."""
        return self._engine.resource_version if self._engine is not None else ""

    def entries(self, start: int = 0) -> list[Entry]:
        """Every entry (observations, gaps, reconnects) from sequence number `start` on."""
        return self.recorder.entries(start)

    def identities(self) -> list[Identity]:
        """Every object identity seen, in order of first appearance."""
        return self.recorder.identities()

    def timelines(self) -> dict[Identity, Timeline]:
        """A snapshot of every identity's timeline."""
        return self.recorder.timelines()

    def events_for(self, identity: Identity) -> list[dict[str, Any]]:
        """The object's recent core/v1 Events (matched by involvedObject.uid), for reports.

        Best effort: a tracker without an API server (a scripted source), or a
        server that refuses to list Events, gives an empty list.
        """
        source = self._source
        http = getattr(source, "http", None)
        if http is None or not identity.uid:
            return []
        from kwait._watch import kube as _kube  # noqa: PLC0415 - loads the client only when used

        return _kube.events_for(http, identity.namespace, identity.uid)

    def missing_namespace(self) -> str | None:
        """The namespace this tracker watches, if the API server says it does not exist.

        For failure reports ("no object appeared ... (namespace 'x' does not
        exist)"); None when it exists, cannot be asked, or this is not a server.
        """
        source = self._source
        if getattr(source, "http", None) is None:
            return None
        from kwait._watch import kube as _kube  # noqa: PLC0415 - loads the client only when used

        return _kube.missing_namespace(source)

    def logs_for(self, identity: Identity, tail_lines: int = 20) -> list[dict[str, Any]]:
        """The last log lines of a pod's containers, and of their previous run after a restart.

        Best effort, for reports: one dict per log (``container``, ``previous``,
        ``text``); an empty list for other kinds, or without an API server.
        """
        source = self._source
        http = getattr(source, "http", None)
        if http is None or identity.kind.lower() != "pod" or not identity.name:
            return []
        last = self.recorder.timeline_of(identity).last
        obj = last.object if last is not None else None
        if obj is None or last is None or last.type == "DELETED":
            return []
        from kwait._watch import kube as _kube  # noqa: PLC0415 - loads the client only when used

        out: list[dict[str, Any]] = []
        for status in (obj.get("status") or {}).get("containerStatuses") or []:
            container = str(status.get("name"))
            runs = [False, True] if int(status.get("restartCount") or 0) > 0 else [False]
            for previous in runs:
                text = _kube.pod_log(
                    http,
                    identity.namespace,
                    identity.name,
                    container,
                    previous=previous,
                    tail_lines=tail_lines,
                )
                out.append({"container": container, "previous": previous, "text": text})
        return out

    def sync(self, timeout: Timeout = 30.0) -> None:
        """Wait until the tracker has observed everything the server holds now.

        LISTs the collection and waits (on the clock) until every listed object
        has been observed at its listed resourceVersion or later, and every
        object the tracker still believes present is either listed or newer
        than the list. Call it before asserting on what already happened.
        """
        __tracebackhide__ = True
        self._require_started("sync")
        run_blocking(self, plan_sync(self, timeout))

    # ------------------------------------------------------------------ expectations
    def expect_transitions(
        self,
        state: State | Callable[[Any], Any],
        pattern: PatternLike,
        *,
        name: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        fail_on: FailOn = None,
        fail_fast: bool | None = None,
    ) -> Timeline:
        """Assert the object's path through its states (see `kwait.expect_transitions`)."""
        __tracebackhide__ = True
        Matcher(state, pattern)  # refuse a bad state function or pattern at the call
        check_timeout(timeout)
        self._require_started("expect_transitions")
        return tracker_expect_transitions(
            self,
            state,
            pattern,
            name=name,
            timeout=timeout,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )

    def wait_for(
        self,
        until: Condition | Sequence[Condition],
        *,
        name: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        order: Order | None = None,
        follow_replacement: bool = False,
        fail_on: FailOn = None,
        fail_fast: bool | None = None,
    ) -> list[Timeline]:
        """Wait with ``kubectl wait`` semantics (see `kwait.wait_for`).

        `fail_on` and `fail_fast` stop it at the first failure sign (see `kwait.signs`).
        """
        __tracebackhide__ = True
        check_until(until, order)
        check_timeout(timeout)
        self._require_started("wait_for")
        return tracker_wait_until(
            self,
            until,
            order=order,
            name=name,
            timeout=timeout,
            follow_replacement=follow_replacement,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )

    def expect_never(
        self,
        condition: Condition,
        *,
        during: Timeout,
        name: str | None = None,
        fail_on: FailOn = None,
        fail_fast: bool | None = None,
    ) -> None:
        """Assert `condition` never holds in the window (see `kwait.expect_never`)."""
        __tracebackhide__ = True
        as_condition(condition)
        check_timeout(during, "during", finite=True)
        self._require_started("expect_never")
        tracker_never(
            self, condition, during=during, name=name, fail_on=fail_on, fail_fast=fail_fast
        )

    def expect_consistently(
        self,
        condition: Condition,
        *,
        during: Timeout,
        name: str | None = None,
        fail_on: FailOn = None,
        fail_fast: bool | None = None,
    ) -> None:
        """Assert `condition` always holds in the window (see `kwait.expect_consistently`)."""
        __tracebackhide__ = True
        as_condition(condition)
        check_timeout(during, "during", finite=True)
        self._require_started("expect_consistently")
        tracker_consistently(
            self, condition, during=during, name=name, fail_on=fail_on, fail_fast=fail_fast
        )

    def expect_count(
        self,
        changes: Countable,
        *,
        exactly: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
        name: str | None = None,
        sync: bool = True,
    ) -> dict[Identity, int]:
        """Assert how often each object changed so far (see `kwait.expect_count`).

        With `sync` (the default) it first waits until the tracker has
        observed everything the server holds (`sync`), so writes the test just
        made are counted.
        """
        __tracebackhide__ = True
        self._require_started("expect_count")
        if sync:
            self.sync()
        return tracker_expect_count(
            self, changes, exactly=exactly, at_least=at_least, at_most=at_most, name=name
        )

    def timeline(self, name: str | None = None, *, namespace: str | None = None) -> Timeline:
        """The timeline of the newest identity named `name` (default: the tracked name).

        Raises `LookupError` when no such object was observed; with several
        identities of that name (deleted and recreated), use `timelines`.
        """
        check_optional_str("name", name, accepts="an object name or None")
        check_optional_str("namespace", namespace, accepts="a namespace name or None")
        wanted = name or self.name
        found = [
            ident
            for ident in self.recorder.identities()
            if (wanted is None or ident.name == wanted)
            and (namespace is None or ident.namespace == namespace)
        ]
        if not found:
            what = f"named {wanted!r}" if wanted else "at all"
            by = self.describe() if self._source is not None else "this tracker (not started)"
            raise LookupError(f"no object {what} was observed by {by}")
        if wanted is None and len({i.name for i in found}) > 1:
            raise LookupError("this tracker saw several objects; pass the name you want")
        return self.recorder.timeline_of(found[-1])


def _check_resource(resource: Any) -> str | Mapping[str, Any] | None:
    """A resource name, a manifest (a dict or a client model object), or None."""
    if resource is None:
        return None
    if isinstance(resource, str):
        if not resource.strip():
            raise ValueError(
                f"resource={resource!r} is empty: name a resource such as 'pods', "
                "'deployments.apps' or 'Deployment', or pass an object"
            )
        if resource != resource.strip():
            raise ValueError(f"resource={resource!r} has spaces around it")
        return resource
    raw = maybe_raw(resource)
    if isinstance(raw, Mapping):
        missing = [
            k for k in ("apiVersion", "kind") if not isinstance(raw.get(k), str) or not raw[k]
        ]
        if missing:
            raise ValueError(
                f"an object names its resource through apiVersion and kind; this one has no "
                f"{' and no '.join(missing)} (a model object from a list call often has none: "
                "pass the resource name, e.g. kwait.track('pods', obj.metadata.name))"
            )
        return raw
    raise TypeError(
        "the first argument says what to track: a resource name such as 'pods', or an object "
        f"(a dict or a client model such as V1Pod), got {shown(resource)} "
        f"({type(resource).__name__})"
    )


def _check_api_client(api_client: Any) -> Any:
    """A kubernetes ApiClient; an API object (``CoreV1Api(client)``) gives its ``.api_client``."""
    if api_client is None:
        return None
    inner = getattr(api_client, "api_client", None)
    if not hasattr(api_client, "configuration") and inner is not None:
        api_client = inner  # CoreV1Api(client), AppsV1Api(client)...: use the client inside
    if (type(api_client).__module__ or "").startswith("kubernetes_asyncio"):
        return api_client  # its configuration is read when the tracker starts
    if not hasattr(api_client, "configuration") or not hasattr(api_client, "rest_client"):
        raise TypeError(
            "api_client= takes a kubernetes.client.ApiClient (or a kubernetes_asyncio "
            f"ApiClient, whose configuration kwait reads), got {shown(api_client)} "
            f"({type(api_client).__name__}); for an API object such as CoreV1Api(client), "
            "pass its .api_client; for another client, build one from the same kubeconfig "
            "with kubernetes.config.new_client_from_config(config_file=...)"
        )
    return api_client


def _check_name_selector(name: str | None, field_selector: str | None) -> None:
    """Refuse a name that a ``metadata.name`` field selector contradicts (nothing could match)."""
    if name is None or not field_selector:
        return
    for term in field_selector.split(","):
        key, op, value = (part.strip() for part in _split_selector_term(term))
        if key != "metadata.name":
            continue
        if (op in {"=", "=="} and value != name) or (op == "!=" and value == name):
            raise ValueError(
                f"name={name!r} and field_selector={field_selector!r} can never both match: "
                "drop one of them"
            )


def _split_selector_term(term: str) -> tuple[str, str, str]:
    for op in ("!=", "==", "="):
        key, sep, value = term.partition(op)
        if sep:
            return key, op, value
    return term, "", ""


def _rv_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


def _as_int(rv: str) -> int:
    """Order resourceVersions as the server does (uint64); unparsable ones sort first."""
    try:
        return int(rv)
    except ValueError:
        return -1


def track(
    resource: str | Mapping[str, Any] | ModelObject | None = None,
    name: str | None = None,
    **options: Unpack[TrackOptions],
) -> Tracker:
    """Create a `Tracker` (use it as a context manager so it starts before the test acts).

    Takes the same arguments as `Tracker`; nothing is requested until it starts:

    >>> import kwait
    >>> kwait.track("pods", "web-0", namespace="ci", label_selector="app=web")
    <Tracker pods/web-0 in ci [app=web]: not started, 0 entries>
    """
    return Tracker(resource, name, **options)
