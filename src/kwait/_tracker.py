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

from kwait._errors import KwaitError
from kwait._match.counting import Countable
from kwait._match.pattern import PatternLike
from kwait._match.states import State
from kwait._time.backoff import Backoff
from kwait._time.clock import SystemClock
from kwait._time.deadline import Deadline, Timeout, as_deadline, format_seconds
from kwait._time.protocol import Clock
from kwait._verdict.failures import WaitTimeoutError
from kwait._verdict.judge import (
    DEFAULT_TIMEOUT,
    Condition,
    all_of,
    tracker_consistently,
    tracker_expect_count,
    tracker_expect_transitions,
    tracker_never,
    tracker_wait_for,
)
from kwait._verdict.report import Report
from kwait._watch.engine import DEFAULT_TIMEOUT_SECONDS, WatchEngine
from kwait._watch.resources import builtin_resource, resolve_resource
from kwait._watch.source import WatchSource
from kwait._watch.timeline import DEFAULT_KEEP_OBJECTS, Entry, Identity, Recorder, Timeline

__all__ = ["TrackOptions", "Tracker", "track"]


class TrackOptions(TypedDict, total=False):
    """The keyword options of `kwait.Tracker`, as the one-call forms accept them.

    Each key means what the `kwait.Tracker` argument of the same name means.
    """

    namespace: str | None
    all_namespaces: bool
    label_selector: str | None
    field_selector: str | None
    api_client: Any
    clock: Clock | None
    keep_objects: int
    server_timeout_seconds: int
    backoff: Backoff | None
    source: WatchSource | None
    start_timeout: float


_JOIN_SECONDS = 30.0


class Tracker:
    """Record every state of the objects a collection holds, from before the test acts.

    Target one object by name (it may not exist yet), or a label/field selector,
    in one namespace or all; any resource, named as kubectl users name it.

    Example, with the in-process API server from `kwait.testing`::

        with kwait.track("pods", "web-0", namespace="ci", api_client=client) as tracker:
            create_the_pod()
            tracker.wait_for(...)
        print(tracker.timeline())
    """

    def __init__(
        self,
        resource: str | Mapping[str, Any] | None = None,
        name: str | None = None,
        *,
        namespace: str | None = None,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
        api_client: Any = None,
        clock: Clock | None = None,
        keep_objects: int = DEFAULT_KEEP_OBJECTS,
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
            keep_objects: How many observations keep their full object (memory bound).
            server_timeout_seconds: The server-side ``timeoutSeconds`` of each WATCH request
                (the server ends the stream then and the tracker resumes it); not a wait budget.
            backoff: The reconnect backoff (default: 0.1 s doubling to 10 s, jittered).
            source: A ready `WatchSource` instead of the API server (scripted tests).
            start_timeout: How long `start` waits for the initial LIST.
        """
        if all_namespaces and namespace:
            raise ValueError("give either namespace= or all_namespaces=True, not both")
        if source is None and resource is None:
            raise ValueError("say what to track: a resource name or object, or source=")
        if isinstance(resource, Mapping):
            meta = resource.get("metadata") or {}
            name = name or meta.get("name") or None
            if not all_namespaces:
                namespace = namespace or meta.get("namespace") or None
        self.resource = resource
        self.name = name
        self.namespace = namespace
        self.all_namespaces = all_namespaces
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.api_client = api_client
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.start_timeout = start_timeout
        self.recorder = Recorder(self.clock, keep_objects=keep_objects)
        self._source = source
        self._server_timeout_seconds = server_timeout_seconds
        self._backoff = backoff
        self._engine: WatchEngine | None = None
        self._thread: threading.Thread | None = None
        self._http: Any = None
        self._request_deadline: Deadline | None = None

    # ------------------------------------------------------------------ source
    def _build_source(self) -> WatchSource:
        from kwait._watch import kube as _kube  # noqa: PLC0415 - loads the client only when used

        client = self.api_client if self.api_client is not None else _kube.default_api_client()
        self.api_client = client
        http = _kube.KubeHttp(client, deadline=self._request_deadline)
        self._http = http
        assert self.resource is not None  # noqa: S101 - checked in __init__
        # Built-in resources need no discovery; others are discovered once per client.
        info = builtin_resource(self.resource)
        if info is None:
            info = resolve_resource(self.resource, _kube.discovery_for(client).resources(http))
        fields = [f"metadata.name={self.name}"] if self.name else []
        if self.field_selector:
            fields.append(self.field_selector)
        namespace = None
        if info.namespaced and not self.all_namespaces:
            namespace = self.namespace or "default"
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

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        """True between a successful `start` and `stop` while the engine is alive."""
        return self._thread is not None and self._thread.is_alive()

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
        deadline = as_deadline(self.start_timeout if timeout is None else timeout, clock=self.clock)
        return self._start(deadline, keep_bound=False)

    def _start(self, deadline: Deadline, *, keep_bound: bool) -> Self:
        """Start within `deadline`; with `keep_bound`, requests stay bounded by it afterwards."""
        __tracebackhide__ = True
        if self._engine is not None:
            raise RuntimeError("a tracker can be started only once")
        previous = self._request_deadline
        self._bound_requests(deadline)
        try:
            synced = self._start_engine(deadline)
        except BaseException:
            self.stop()
            raise
        finally:
            if not keep_bound:
                self._bound_requests(previous)
        error = self.recorder.error
        if not synced and error is not None:
            self.stop()
            raise error
        if not synced:
            self.stop()
            raise self._not_connected(deadline)
        return self

    def _start_engine(self, deadline: Deadline) -> bool:
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
        return self.recorder.wait_synced(deadline.timeout())

    def _not_connected(self, deadline: Deadline) -> WaitTimeoutError:
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

    def sync(self, timeout: Timeout = 30.0) -> None:
        """Wait until the tracker has observed everything the server holds now.

        LISTs the collection and waits (on the clock) until every listed object
        has been observed at its listed resourceVersion or later, and every
        object the tracker still believes present is either listed or newer
        than the list. Call it before asserting on what already happened.
        """
        __tracebackhide__ = True
        listed = self.source.list()
        want = {Identity.of(item).uid: _rv_of(item) for item in listed.items}
        list_rv = _as_int(listed.resource_version)
        recorder = self.recorder

        def caught_up() -> bool:
            for uid, rv in want.items():
                seen = recorder.last_rv(uid)
                if seen is None or _as_int(seen) < _as_int(rv):
                    return False
            return all(uid in want or _as_int(rv) > list_rv for uid, rv in recorder.alive().items())

        deadline = as_deadline(timeout, clock=self.clock)
        cond = recorder.condition
        with cond:
            done = self.clock.wait_for(
                cond, lambda: caught_up() or recorder.closed, deadline.timeout()
            )
        if recorder.error is not None:
            raise recorder.error
        if not done or not caught_up():
            raise KwaitError(
                f"tracking {self.describe()}: not caught up with resourceVersion "
                f"{listed.resource_version} within {deadline.describe()}"
            )

    # ------------------------------------------------------------------ expectations
    def expect_transitions(
        self,
        state: State | Callable[[Any], Any],
        pattern: PatternLike,
        *,
        name: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> Timeline:
        """Assert the object's path through its states (see `kwait.expect_transitions`)."""
        __tracebackhide__ = True
        return tracker_expect_transitions(self, state, pattern, name=name, timeout=timeout)

    def wait_for(
        self,
        until: Condition | Sequence[Condition],
        *,
        name: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> list[Timeline]:
        """Wait with ``kubectl wait`` semantics (see `kwait.wait_for`)."""
        __tracebackhide__ = True
        return tracker_wait_for(self, all_of(until), name=name, timeout=timeout)

    def expect_never(
        self, condition: Condition, *, during: Timeout, name: str | None = None
    ) -> None:
        """Assert `condition` never holds in the window (see `kwait.expect_never`)."""
        __tracebackhide__ = True
        tracker_never(self, condition, during=during, name=name)

    def expect_consistently(
        self, condition: Condition, *, during: Timeout, name: str | None = None
    ) -> None:
        """Assert `condition` always holds in the window (see `kwait.expect_consistently`)."""
        __tracebackhide__ = True
        tracker_consistently(self, condition, during=during, name=name)

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
        wanted = name or self.name
        found = [
            ident
            for ident in self.recorder.identities()
            if (wanted is None or ident.name == wanted)
            and (namespace is None or ident.namespace == namespace)
        ]
        if not found:
            what = f"named {wanted!r}" if wanted else "at all"
            raise LookupError(f"no object {what} was observed by {self.describe()}")
        if wanted is None and len({i.name for i in found}) > 1:
            raise LookupError("this tracker saw several objects; pass the name you want")
        return self.recorder.timeline_of(found[-1])


def _rv_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


def _as_int(rv: str) -> int:
    """Order resourceVersions as the server does (uint64); unparsable ones sort first."""
    try:
        return int(rv)
    except ValueError:
        return -1


def track(
    resource: str | Mapping[str, Any] | None = None,
    name: str | None = None,
    **options: Unpack[TrackOptions],
) -> Tracker:
    """Create a `Tracker` (use it as a context manager so it starts before the test acts).

    Takes the same arguments as `Tracker`.
    """
    return Tracker(resource, name, **options)
