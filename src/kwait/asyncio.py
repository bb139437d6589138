"""kwait for asyncio test suites: the same trackers and expectations, awaitable.

The names are the sync API's: `track` (an async context manager), and
`wait_for`, `expect_transitions`, `expect_never`, `expect_consistently` and
`expect_count`, as methods of the tracker and as one-call forms. They take the
same arguments and return, raise and report exactly what the sync ones do:
both run the same judging code over the same watch engine.

What differs is how they wait. The tracker's engine still runs in its own
thread (it speaks blocking HTTP through the official client's connection
pool); each new entry it records wakes the awaiting coroutine through the
event loop (``call_soon_threadsafe``), and deadlines are loop timers on the
tracker's clock. Nothing here blocks the event loop: the initial discovery,
the LIST of `AsyncTracker.sync` and the Events a failure report reads run in
worker threads. Cancelling an await (``asyncio.timeout``, ``task.cancel()``)
leaves nothing behind; leaving ``async with`` stops the engine and its
connection.

`kwait.testing.FakeClock` works here too: while coroutines await kwait and the
event loop has nothing else ready to run, the loop's thread counts as blocked
on the clock, so with ``autojump=True`` a five-minute timeout takes no real
time.

>>> import kwait.asyncio
>>> from kwait.testing import FakeClock, Pause, ScriptedSource, event
>>> clock = FakeClock(autojump=True)
>>> source = ScriptedSource(clock, "pods in namespace 'ci'")
>>> source.add_list([], "1")
>>> web = {"kind": "Pod", "metadata": {"name": "web", "namespace": "ci", "uid": "u1",
...        "resourceVersion": "2"}, "status": {"phase": "Running"}}
>>> source.add_watch(Pause(5), event("ADDED", web))
>>> async def main():
...     async with kwait.asyncio.track(source=source, clock=clock, name="web") as tracker:
...         [timeline] = await tracker.wait_for("jsonpath={.status.phase}=Running", timeout=60)
...     return clock.monotonic(), [o.type for o in timeline.observations]
>>> asyncio.run(main())
(5.0, ['ADDED'])
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from typing_extensions import Self, Unpack

from kwait._api import Target, check_act, tracker_for
from kwait._match.counting import Countable
from kwait._match.pattern import PatternLike
from kwait._match.states import State
from kwait._publish import publish
from kwait._time.aio import wait_for as _clock_wait_for
from kwait._time.clock import SystemClock
from kwait._time.deadline import Timeout
from kwait._time.protocol import Clock
from kwait._tracker import Tracker, TrackOptions
from kwait._verdict.aio import run_async
from kwait._verdict.judge import (
    DEFAULT_TIMEOUT,
    Baseline,
    Condition,
    all_of,
    plan_consistently,
    plan_expect_count,
    plan_expect_transitions,
    plan_never,
    plan_sync,
    plan_wait_for,
)
from kwait._watch.timeline import Entry, Identity, Recorder, Timeline

__all__ = [
    "AsyncTarget",
    "AsyncTracker",
    "expect_consistently",
    "expect_count",
    "expect_never",
    "expect_transitions",
    "track",
    "wait_for",
]

_JOIN_SECONDS = 30.0


# ---------------------------------------------------------------------- lifecycle


async def _start(tracker: Tracker) -> None:
    """Start `tracker` without blocking the loop; stop it again on failure or cancellation."""
    __tracebackhide__ = True
    if tracker._source is None:  # noqa: SLF001 - discovery is HTTP: do it off the loop
        await asyncio.to_thread(lambda: tracker.source)
    tracker._launch()  # noqa: SLF001 - starts the engine thread, does not wait
    recorder = tracker.recorder
    try:
        await _clock_wait_for(
            tracker.clock,
            recorder.condition,
            lambda: recorder.synced or recorder.closed,
            tracker.start_timeout,
        )
    except BaseException:
        await _stop(tracker)
        raise
    if not recorder.synced:
        error = tracker._start_failure()  # noqa: SLF001
        await _stop(tracker)
        raise error


async def _stop(tracker: Tracker) -> None:
    """Stop `tracker`'s engine and wait (off the loop's back) until its thread has ended."""
    engine = tracker._engine  # noqa: SLF001
    thread = tracker._thread  # noqa: SLF001
    if engine is not None:
        engine.stop()  # sets a flag and shuts the stream's socket: never blocks
    if thread is not None and thread.is_alive():
        recorder = tracker.recorder
        # Real time, as Thread.join: a fake clock must not time out a thread that is ending.
        closed = await _clock_wait_for(
            SystemClock(), recorder.condition, lambda: recorder.closed, _JOIN_SECONDS
        )
        if not closed:  # pragma: no cover - would be a kwait bug
            raise RuntimeError(f"the tracker thread {thread.name!r} did not stop")
        thread.join()  # the engine closed the recorder: the thread is returning now
    tracker._close_owned_client()  # noqa: SLF001


class AsyncTracker:
    """A `kwait.Tracker` for coroutines: ``async with`` starts and stops it, waits are awaited.

    Takes the same arguments as `kwait.Tracker`. ``api_client=`` may be an
    official ``kubernetes.client.ApiClient`` or a kubernetes_asyncio one, whose
    configuration (host, token, TLS files) kwait reads. The engine, the
    timeline and the reading methods are the sync tracker's (`tracker`).

    >>> from kubernetes.client import ApiClient
    >>> tracker = AsyncTracker("pods", "web", namespace="ci", api_client=ApiClient())
    >>> tracker.name, tracker.running
    ('web', False)
    """

    def __init__(
        self,
        resource: str | Mapping[str, Any] | None = None,
        name: str | None = None,
        **options: Unpack[TrackOptions],
    ) -> None:
        """Describe what to track; nothing is requested until `start`."""
        self.tracker: Tracker = Tracker(resource, name, **options)
        """The sync tracker underneath: its engine thread records, its timeline is read."""

    @classmethod
    def of(cls, tracker: Tracker) -> AsyncTracker:
        """Wrap an existing (sync) `kwait.Tracker`, started or not.

        >>> from kubernetes.client import ApiClient
        >>> sync = Tracker("pods", "web", api_client=ApiClient())
        >>> AsyncTracker.of(sync).tracker is sync
        True
        """
        wrapper = cls.__new__(cls)
        wrapper.tracker = tracker
        return wrapper

    # ------------------------------------------------------------------ what it tracks
    @property
    def name(self) -> str | None:
        """The tracked name, or None for a selector."""
        return self.tracker.name

    @property
    def namespace(self) -> str | None:
        """The namespace (resolved on start: None for cluster-scoped or all namespaces)."""
        return self.tracker.namespace

    @property
    def clock(self) -> Clock:
        """The clock every wait reads."""
        return self.tracker.clock

    @property
    def recorder(self) -> Recorder:
        """Where the engine records every observation, gap and reconnect."""
        return self.tracker.recorder

    def describe(self) -> str:
        """Say what this tracker watches (after `start`; before, it may ask discovery)."""
        return self.tracker.describe()

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        """True between a successful `start` and `stop` while the engine is alive."""
        return self.tracker.running

    async def start(self) -> Self:
        """Start recording; return once the initial LIST is recorded (see `kwait.Tracker.start`)."""
        __tracebackhide__ = True
        await _start(self.tracker)
        return self

    async def stop(self) -> None:
        """Stop recording: close the stream, let the engine thread end (awaited)."""
        await _stop(self.tracker)

    async def __aenter__(self) -> Self:
        """Start recording (see `start`)."""
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop recording (see `stop`), also when the body was cancelled."""
        await self.stop()

    # ------------------------------------------------------------------ reading (never blocks)
    @property
    def resource_version(self) -> str:
        """The resourceVersion the engine would resume from now."""
        return self.tracker.resource_version

    def entries(self, start: int = 0) -> list[Entry]:
        """Every entry (observations, gaps, reconnects) from sequence number `start` on."""
        return self.tracker.entries(start)

    def identities(self) -> list[Identity]:
        """Every object identity seen, in order of first appearance."""
        return self.tracker.identities()

    def timelines(self) -> dict[Identity, Timeline]:
        """A snapshot of every identity's timeline."""
        return self.tracker.timelines()

    def timeline(self, name: str | None = None, *, namespace: str | None = None) -> Timeline:
        """The timeline of the newest identity named `name` (see `kwait.Tracker.timeline`)."""
        return self.tracker.timeline(name, namespace=namespace)

    async def events_for(self, identity: Identity) -> list[dict[str, Any]]:
        """The object's recent Events (see `kwait.Tracker.events_for`), read off the loop."""
        return await asyncio.to_thread(self.tracker.events_for, identity)

    async def sync(self, timeout: Timeout = 30.0) -> None:
        """Wait until everything the server holds now is observed (see `kwait.Tracker.sync`)."""
        __tracebackhide__ = True
        await run_async(self.tracker, plan_sync(self.tracker, timeout))

    # ------------------------------------------------------------------ expectations
    async def expect_transitions(
        self,
        state: State | Callable[[Any], Any],
        pattern: PatternLike,
        *,
        name: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> Timeline:
        """Assert the object's path through its states (see `kwait.expect_transitions`)."""
        __tracebackhide__ = True
        plan = plan_expect_transitions(self.tracker, state, pattern, name=name, timeout=timeout)
        return await run_async(self.tracker, plan)

    async def wait_for(
        self,
        until: Condition | Sequence[Condition],
        *,
        name: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> list[Timeline]:
        """Wait with ``kubectl wait`` semantics (see `kwait.wait_for`)."""
        __tracebackhide__ = True
        plan = plan_wait_for(self.tracker, all_of(until), name=name, timeout=timeout)
        return await run_async(self.tracker, plan)

    async def expect_never(
        self, condition: Condition, *, during: Timeout, name: str | None = None
    ) -> None:
        """Assert `condition` never holds in the window (see `kwait.expect_never`)."""
        __tracebackhide__ = True
        plan = plan_never(self.tracker, condition, during=during, name=name)
        await run_async(self.tracker, plan)

    async def expect_consistently(
        self, condition: Condition, *, during: Timeout, name: str | None = None
    ) -> None:
        """Assert `condition` always holds in the window (see `kwait.expect_consistently`)."""
        __tracebackhide__ = True
        plan = plan_consistently(self.tracker, condition, during=during, name=name)
        await run_async(self.tracker, plan)

    async def expect_count(
        self,
        changes: Countable,
        *,
        exactly: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
        name: str | None = None,
        sync: bool = True,
    ) -> dict[Identity, int]:
        """Assert how often each object changed so far (see `kwait.Tracker.expect_count`)."""
        __tracebackhide__ = True
        if sync:
            await self.sync()
        plan = plan_expect_count(
            self.tracker, changes, exactly=exactly, at_least=at_least, at_most=at_most, name=name
        )
        return await run_async(self.tracker, plan)


AsyncTarget = AsyncTracker | Target
"""What a one-call expectation runs on: a running `AsyncTracker` or `kwait.Tracker`,
or what to track (a resource name or object; None with ``source=``)."""


def track(
    resource: str | Mapping[str, Any] | None = None,
    name: str | None = None,
    **options: Unpack[TrackOptions],
) -> AsyncTracker:
    """Create an `AsyncTracker`; ``async with`` it so it starts before the test acts.

    Takes the same arguments as `kwait.Tracker`.

    >>> from kubernetes.client import ApiClient
    >>> track("pods", label_selector="app=web", api_client=ApiClient()).tracker.label_selector
    'app=web'
    """
    return AsyncTracker(resource, name, **options)


# ---------------------------------------------------------------------- one-call forms


class _Session:
    """Use a given tracker or start one; take the baseline; run (and await) the action."""

    def __init__(
        self,
        target: AsyncTarget,
        name: str | None,
        options: TrackOptions,
        act: Callable[[], object] | None,
    ) -> None:
        check_act(act)
        if isinstance(target, AsyncTracker):
            target = target.tracker
        self.tracker, self.owned = tracker_for(target, name, options)
        self.act = act

    async def __aenter__(self) -> tuple[Tracker, Baseline]:
        """Start tracking (if ours), fix the baseline, then act: nothing it causes is missed."""
        __tracebackhide__ = True
        if self.owned:
            await _start(self.tracker)
        try:
            base = Baseline.now(self.tracker)
            if self.act is not None:
                result = self.act()
                if inspect.isawaitable(result):
                    await result
        except BaseException:
            await self.__aexit__()
            raise
        return self.tracker, base

    async def __aexit__(self, *exc: object) -> None:
        if self.owned:
            await _stop(self.tracker)


async def expect_transitions(
    target: AsyncTarget,
    name: str | None = None,
    *,
    state: State | Callable[[Any], Any],
    pattern: PatternLike,
    act: Callable[[], object] | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    **options: Unpack[TrackOptions],
) -> Timeline:
    """Assert the path an object takes through its states, in one awaited call.

    As `kwait.expect_transitions`. `act` is called once tracking has started;
    if it returns an awaitable (a coroutine function, or
    ``lambda: asyncio.to_thread(create_pod)`` for a blocking client), that is
    awaited before matching begins.

    >>> import kwait
    >>> from kwait.testing import FakeClock, ScriptedSource, event
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock)
    >>> def web(rv, phase):
    ...     meta = {"name": "web", "uid": "u1", "resourceVersion": rv}
    ...     return {"kind": "Pod", "metadata": meta, "status": {"phase": phase}}
    >>> source.add_list([web("1", "Pending")], "1")
    >>> source.add_watch(event("MODIFIED", web("2", "Running")))
    >>> phase = kwait.states.phase()
    >>> async def main():
    ...     return await expect_transitions(
    ...         None, "web", state=phase, pattern=["Pending", "Running"], source=source, clock=clock
    ...     )
    >>> [phase(o.object) for o in asyncio.run(main()).observations]
    ['Pending', 'Running']
    """
    __tracebackhide__ = True
    async with _Session(target, name, options, act) as (tracker, _):
        plan = plan_expect_transitions(tracker, state, pattern, name=name, timeout=timeout)
        return await run_async(tracker, plan)


async def wait_for(
    target: AsyncTarget,
    name: str | None = None,
    *,
    until: Condition | Sequence[Condition],
    act: Callable[[], object] | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    **options: Unpack[TrackOptions],
) -> list[Timeline]:
    """Wait until the target satisfies `until`, as ``kubectl wait --for=...`` does, awaited.

    As `kwait.wait_for`; `act` may return an awaitable, which is awaited.

    >>> from kwait.testing import FakeClock, Pause, ScriptedSource, event
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock)
    >>> source.add_list([], "1")
    >>> web = {"kind": "Pod", "metadata": {"name": "web", "uid": "u1", "resourceVersion": "2"}}
    >>> source.add_watch(Pause(8), event("ADDED", web))
    >>> main = wait_for(None, "web", until="create", source=source, clock=clock, timeout=60)
    >>> [timeline] = asyncio.run(main)
    >>> timeline.identity.name, clock.monotonic()
    ('web', 8.0)
    """
    __tracebackhide__ = True
    condition = all_of(until)
    async with _Session(target, name, options, act) as (tracker, base):
        plan = plan_wait_for(tracker, condition, name=name, timeout=timeout, baseline=base)
        return await run_async(tracker, plan)


async def expect_never(
    target: AsyncTarget,
    name: str | None = None,
    *,
    condition: Condition,
    during: Timeout,
    act: Callable[[], object] | None = None,
    **options: Unpack[TrackOptions],
) -> None:
    """Assert `condition` holds for no target until `during` runs out (as `kwait.expect_never`).

    >>> from kwait.testing import FakeClock, ScriptedSource
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock)
    >>> source.add_list([{"metadata": {"name": "web", "uid": "u1", "resourceVersion": "1"}}], "1")
    >>> asyncio.run(
    ...     expect_never(None, "web", condition="delete", during=30, source=source, clock=clock)
    ... )
    >>> clock.monotonic()
    30.0
    """
    __tracebackhide__ = True
    async with _Session(target, name, options, act) as (tracker, base):
        plan = plan_never(tracker, condition, during=during, name=name, baseline=base)
        await run_async(tracker, plan)


async def expect_consistently(
    target: AsyncTarget,
    name: str | None = None,
    *,
    condition: Condition,
    during: Timeout,
    act: Callable[[], object] | None = None,
    **options: Unpack[TrackOptions],
) -> None:
    """Assert `condition` holds for every target until `during` runs out.

    As `kwait.expect_consistently`.

    >>> import kwait
    >>> from kwait.testing import FakeClock, Pause, ScriptedSource, event
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock)
    >>> web = {"metadata": {"name": "web", "uid": "u1", "resourceVersion": "1"}}
    >>> source.add_list([web], "1")
    >>> source.add_watch(Pause(5), event("DELETED", {**web, "metadata": {**web["metadata"]}}))
    >>> main = expect_consistently(
    ...     None, "web", condition="create", during=30, source=source, clock=clock
    ... )
    >>> try:
    ...     asyncio.run(main)
    ... except kwait.errors.NeverViolatedError as err:
    ...     print(err.report.summary)
    web (uid u1) broke 'consistently exists': ...
    """
    __tracebackhide__ = True
    async with _Session(target, name, options, act) as (tracker, base):
        plan = plan_consistently(tracker, condition, during=during, name=name, baseline=base)
        await run_async(tracker, plan)


async def expect_count(
    target: AsyncTarget,
    name: str | None = None,
    *,
    changes: Any,
    exactly: int | None = None,
    at_least: int | None = None,
    at_most: int | None = None,
    act: Callable[[], object] | None = None,
    **options: Unpack[TrackOptions],
) -> dict[Identity, int]:
    """Assert how many times objects changed (as `kwait.expect_count`), awaited.

    >>> import kwait
    >>> from kwait.testing import FakeClock, ScriptedSource, event
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock)
    >>> def db(rv, generation):
    ...     meta = {"name": "db", "uid": "u1", "resourceVersion": rv, "generation": generation}
    ...     return {"kind": "Pod", "metadata": meta}
    >>> source.add_list([db("1", 1)], "1")
    >>> source.add_watch(event("MODIFIED", db("2", 2)))
    >>> source.add_list([db("2", 2)], "2")  # the LIST that syncs before counting
    >>> counts = asyncio.run(
    ...     expect_count(
    ...         None, "db", changes=kwait.Changes.generation(), exactly=1,
    ...         source=source, clock=clock,
    ...     )
    ... )
    >>> list(counts.values())
    [1]
    """
    __tracebackhide__ = True
    async with _Session(target, name, options, act) as (tracker, _):
        await run_async(tracker, plan_sync(tracker))  # count writes still in flight too
        plan = plan_expect_count(
            tracker, changes, exactly=exactly, at_least=at_least, at_most=at_most, name=name
        )
        return await run_async(tracker, plan)


publish(__name__, globals(), [n for n in __all__ if n != "AsyncTarget"])
