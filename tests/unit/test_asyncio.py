"""kwait.asyncio passes the sync API's scenarios, and never blocks the event loop.

The scenarios are those of test_expect.py, on the same scripted timelines and the same
autojumping FakeClock, awaited instead of called. Each test runs its coroutine with
`asyncio.run`, so no pytest plugin is needed.

Tests of internals: one case drives the clock's async wait (`kwait._time.aio`) directly.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    suppress,
)
from pathlib import Path
from typing import Any, TypeVar

import pytest

import kwait
import kwait.asyncio
from kwait.testing import Expire, FakeClock, Hang, Pause, ScriptedSource, ScriptStep, event
from tests.unit.test_expect import modified, pod

T = TypeVar("T")

PULLS = ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"]


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a test's coroutine on a fresh event loop."""
    return asyncio.run(main())


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock that jumps when every participant (the loop too) waits on it."""
    return FakeClock(autojump=True)


Started = Callable[..., AbstractAsyncContextManager[kwait.asyncio.AsyncTracker]]


@pytest.fixture
def tracking(clock: FakeClock) -> Started:
    """Start an async tracker over a scripted LIST and WATCH (``async with``)."""

    @asynccontextmanager
    async def start(
        listed: list[dict[str, Any]], *steps: ScriptStep, name: str | None = "vm"
    ) -> AsyncIterator[kwait.asyncio.AsyncTracker]:
        source = ScriptedSource(clock, "pods in namespace 'ci'")
        source.add_list(listed, "10")
        source.add_watch(*steps, Hang())
        async with kwait.asyncio.track(source=source, clock=clock, name=name) as tracker:
            yield tracker
        assert not tracker.running

    return start


# ---------------------------------------------------------------------- the sync scenarios


def test_kubevirt_cycle_is_matched_even_at_zero_delay(tracking: Started, clock: FakeClock) -> None:
    """ErrImagePull ⇄ ImagePullBackOff with no time between states matches, at once."""
    reasons = ["ContainerCreating", "ErrImagePull", "ImagePullBackOff"] * 2 + ["ErrImagePull"]
    steps = [event("ADDED", pod(11, reason=reasons[0]))]
    steps += [modified(pod(12 + i, reason=r)) for i, r in enumerate(reasons[1:])]

    async def main() -> kwait.Timeline:
        async with tracking([], *steps) as tracker:
            return await tracker.expect_transitions(
                kwait.states.waiting_reason(), PULLS, timeout=300
            )

    timeline = run(main)
    assert clock.monotonic() == 0.0
    assert len(timeline.observations) >= 5


def test_deletion_fails_the_pattern_at_once_not_at_the_timeout(
    tracking: Started, clock: FakeClock
) -> None:
    """A deleted object cannot go on: TransitionMismatchError on the DELETED event (t=3)."""

    async def main() -> None:
        async with tracking(
            [pod(5, reason="ErrImagePull")],
            Pause(3),
            event("DELETED", pod(11, reason="ErrImagePull")),
        ) as tracker:
            await tracker.expect_transitions(
                kwait.states.waiting_reason(), ["ErrImagePull", "ImagePullBackOff"], timeout=300
            )

    with pytest.raises(kwait.errors.TransitionMismatchError) as err:
        run(main)
    assert clock.monotonic() == pytest.approx(3.0)
    assert "pod/ci/vm" in str(err.value)
    assert "DELETED" in str(err.value)


def test_timeout_reports_the_timeline_and_what_was_awaited(
    tracking: Started, clock: FakeClock
) -> None:
    """At the deadline (300 fake seconds, no real time) the error carries the story."""

    async def main() -> None:
        async with tracking([], event("ADDED", pod(11, reason="ContainerCreating"))) as tracker:
            await tracker.expect_transitions(
                kwait.states.waiting_reason(), ["ErrImagePull"], timeout=300
            )

    with pytest.raises(kwait.WaitTimeoutError) as err:
        run(main)
    assert clock.monotonic() == pytest.approx(300.0)
    report = err.value.report.to_json()
    assert report["kind"] == "transitions"
    [obj] = report["objects"]
    assert [row["state"] for row in obj["timeline"]] == ["ContainerCreating"]
    assert obj["progress"]["waiting_for"] == ["'ErrImagePull'"]
    assert "within 300 s" in str(err.value)


def test_wait_for_counts_the_current_state_and_waits_for_a_name_to_appear(
    tracking: Started, clock: FakeClock
) -> None:
    """Ready now satisfies at once; a name that appears later is waited for, then its state."""

    async def main() -> tuple[float, float]:
        async with tracking([pod(5, ready=True, phase="Running")]) as ready:
            [timeline] = await ready.wait_for("condition=Ready", timeout=30)
            assert timeline.identity.name == "vm"
        at_once = clock.monotonic()
        async with tracking(
            [],
            Pause(2),
            event("ADDED", pod(11, reason="ContainerCreating")),
            Pause(5),
            modified(pod(12, ready=True, phase="Running")),
        ) as later:
            await later.wait_for(["create", "jsonpath={.status.phase}=Running"], timeout=30)
        return at_once, clock.monotonic()

    at_once, later = run(main)
    assert at_once == 0.0
    assert later == pytest.approx(7.0)


def test_wait_for_delete_is_uid_aware(tracking: Started) -> None:
    """Deleted then recreated under the same name: the delete wait succeeds on the delete."""

    async def main() -> list[kwait.Timeline]:
        async with tracking(
            [pod(5, uid="old")],
            Pause(1),
            event("DELETED", pod(11, uid="old")),
            event("ADDED", pod(12, uid="new")),
        ) as tracker:
            return await tracker.wait_for("delete", timeout=30)

    [timeline] = run(main)
    assert timeline.identity.uid == "old"
    assert timeline.deleted


def test_timeout_zero_checks_once(tracking: Started, clock: FakeClock) -> None:
    """timeout=0 looks at the current state only and fails at once if it does not hold."""

    async def main() -> None:
        async with tracking([pod(5)], Pause(1), modified(pod(11, ready=True))) as tracker:
            await tracker.wait_for("condition=Ready", timeout=0)

    with pytest.raises(kwait.WaitTimeoutError):
        run(main)
    assert clock.monotonic() == 0.0


def test_a_shared_deadline_spans_several_waits(tracking: Started, clock: FakeClock) -> None:
    """Two waits given one Deadline spend one budget: the second gets what is left."""

    async def main() -> None:
        async with tracking(
            [pod(5)], Pause(20), modified(pod(11, ready=True, phase="Running")), Pause(100)
        ) as tracker:
            budget = kwait.Deadline.after(30, clock=clock)
            await tracker.wait_for("condition=Ready", timeout=budget)
            await tracker.wait_for("jsonpath={.status.phase}=Succeeded", timeout=budget)

    with pytest.raises(kwait.WaitTimeoutError):
        run(main)
    assert clock.monotonic() == pytest.approx(30.0)


def test_never_fails_on_the_first_violating_event(tracking: Started, clock: FakeClock) -> None:
    """A never-assertion fails when the state appears (t=4), not when the window ends."""

    async def main() -> None:
        async with tracking(
            [pod(5, reason="ContainerCreating")],
            Pause(4),
            modified(pod(11, reason="CrashLoopBackOff")),
            Pause(1),
            modified(pod(12, reason="ContainerCreating")),
        ) as tracker:
            await tracker.expect_never(
                kwait.states.waiting_reason().equals("CrashLoopBackOff"), during=60
            )

    with pytest.raises(kwait.errors.NeverViolatedError) as err:
        run(main)
    assert clock.monotonic() == pytest.approx(4.0)
    assert "CrashLoopBackOff" in str(err.value)


def test_consistently_passes_when_the_window_ends_and_breaks_on_deletion(
    tracking: Started, clock: FakeClock
) -> None:
    """Holding throughout passes exactly at the window's end; a deletion breaks it."""

    async def holds() -> float:
        async with tracking(
            [pod(5, ready=True, phase="Running")], Pause(10), modified(pod(11, ready=True))
        ) as tracker:
            await tracker.expect_consistently("condition=Ready", during=30)
        return clock.monotonic()

    async def deleted() -> None:
        async with tracking(
            [pod(5, ready=True)], Pause(3), event("DELETED", pod(11, ready=True))
        ) as tracker:
            await tracker.expect_consistently("condition=Ready", during=30)

    assert run(holds) == pytest.approx(30.0)
    with pytest.raises(kwait.errors.NeverViolatedError):
        run(deleted)


def test_each_pod_updated_exactly_once(tracking: Started) -> None:
    """CloudNativePG's case: generation bumps counted per pod; a double update is caught."""
    pods = [pod(5, name=f"db-{i}", uid=f"u{i}") for i in (1, 2, 3)]
    steps: list[ScriptStep] = [
        modified(pod(20 + i, name=f"db-{i}", uid=f"u{i}", generation=2)) for i in (1, 2, 3)
    ]
    twice = [*steps, modified(pod(30, name="db-2", uid="u2", generation=3))]

    async def count(script: list[ScriptStep], last: str) -> dict[kwait.Identity, int]:
        async with tracking(pods, *script, name=None) as tracker:
            await tracker.wait_for(f"jsonpath={{.metadata.generation}}={last}", name="db-2")
            return await tracker.expect_count(kwait.Changes.generation(), exactly=1, sync=False)

    assert sorted(run(lambda: count(steps, "2")).values()) == [1, 1, 1]
    with pytest.raises(kwait.errors.CountMismatchError) as err:
        run(lambda: count(twice, "3"))
    assert "pod/ci/db-2" in str(err.value)
    assert "30" in str(err.value)


def test_an_answer_inside_a_gap_is_undecidable(clock: FakeClock) -> None:
    """States lost to a 410 that the pattern needs make the result undecidable, not wrong."""
    source = ScriptedSource(clock, "pods in namespace 'ci'")
    source.add_list([pod(5, reason="ContainerCreating")], "10")
    source.add_watch(Expire())
    source.add_list([pod(40, reason="ImagePullBackOff")], "40")

    async def main() -> None:
        async with kwait.asyncio.track(source=source, clock=clock, name="vm") as tracker:
            await tracker.expect_transitions(
                kwait.states.waiting_reason(), ["ErrImagePull", "ImagePullBackOff"], timeout=60
            )

    with pytest.raises(kwait.errors.UndecidableError) as err:
        run(main)
    assert "10" in str(err.value)
    assert "40" in str(err.value)


# ---------------------------------------------------------------------- one-call forms


def one_call_source(clock: FakeClock, *steps: ScriptStep) -> ScriptedSource:
    """A source whose LIST is empty and whose watch plays `steps` after one second."""
    source = ScriptedSource(clock, "pods")
    source.add_list([], "1")
    source.add_watch(Pause(1), *steps, Hang())
    return source


@pytest.mark.parametrize("awaited", [False, True], ids=["plain act", "async act"])
def test_one_call_form_starts_tracking_before_acting(clock: FakeClock, awaited: bool) -> None:  # noqa: FBT001
    """expect_transitions(source=..., act=...) tracks, then acts (awaiting it), then matches."""
    source = one_call_source(
        clock,
        event("ADDED", pod(2, reason="ErrImagePull")),
        modified(pod(3, reason="ImagePullBackOff")),
    )
    acted: list[list[tuple[str, str]]] = []

    async def act_async() -> None:
        await asyncio.sleep(0)
        acted.append(list(source.calls))

    def act_plain() -> None:
        acted.append(list(source.calls))

    act: Callable[[], object] = act_async if awaited else act_plain

    async def main() -> kwait.Timeline:
        return await kwait.asyncio.expect_transitions(
            None,
            "vm",
            state=kwait.states.waiting_reason(),
            pattern=kwait.consecutive("ErrImagePull", "ImagePullBackOff"),
            act=act,
            source=source,
            clock=clock,
        )

    timeline = run(main)
    assert acted[0][0] == ("LIST", "")
    assert [o.resource_version for o in timeline.observations] == ["2", "3"]


def test_one_call_delete_wait_fixes_its_target_before_acting(clock: FakeClock) -> None:
    """The object present when tracking starts is the target, even if act recreates the name."""
    source = ScriptedSource(clock, "pods")
    source.add_list([pod(5, uid="old")], "10")
    source.add_watch(
        Pause(1), event("DELETED", pod(11, uid="old")), event("ADDED", pod(12, uid="new")), Hang()
    )

    async def main() -> list[kwait.Timeline]:
        return await kwait.asyncio.wait_for(
            None, "vm", until="delete", act=lambda: None, source=source, clock=clock, timeout=30
        )

    [timeline] = run(main)
    assert timeline.identity.uid == "old"
    assert clock.monotonic() == pytest.approx(1.0)


def test_one_call_never_consistently_and_count(clock: FakeClock) -> None:
    """The remaining one-call forms judge what happens after tracking starts."""

    async def main() -> dict[kwait.Identity, int]:
        never = one_call_source(clock, event("ADDED", pod(2, reason="CrashLoopBackOff")))
        with pytest.raises(kwait.errors.NeverViolatedError):
            await kwait.asyncio.expect_never(
                None,
                "vm",
                condition=kwait.states.waiting_reason().equals("CrashLoopBackOff"),
                during=60,
                source=never,
                clock=clock,
            )
        steady = ScriptedSource(clock, "pods")
        steady.add_list([pod(5, ready=True)], "5")
        steady.add_watch(Pause(10), modified(pod(6, ready=True)), Hang())
        await kwait.asyncio.expect_consistently(
            None, "vm", condition="condition=Ready", during=20, source=steady, clock=clock
        )
        counted = ScriptedSource(clock, "pods")
        counted.add_list([pod(5)], "5")
        counted.add_watch(modified(pod(6, generation=2)), Hang())
        counted.add_list([pod(6, generation=2)], "6")  # the LIST of the sync before counting
        return await kwait.asyncio.expect_count(
            None, "vm", changes=kwait.Changes.generation(), exactly=1, source=counted, clock=clock
        )

    counts = run(main)
    assert list(counts.values()) == [1]


def test_a_running_tracker_is_a_target_and_options_are_refused_with_it(
    tracking: Started,
) -> None:
    """Async and sync trackers both serve as targets; tracker options cannot apply to them."""

    async def main() -> None:
        async with tracking(
            [pod(5, uid="old")], Pause(1), event("DELETED", pod(6, uid="old"))
        ) as t:
            with pytest.raises(TypeError, match="namespace"):
                await kwait.asyncio.wait_for(t, until="delete", namespace="other")
            [gone] = await kwait.asyncio.wait_for(t.tracker, until="delete", timeout=10)
            assert gone.deleted
            assert t.running  # a tracker the caller holds is left running

    run(main)


def test_act_must_be_callable(clock: FakeClock) -> None:
    """Passing the coroutine instead of the function is refused before anything starts."""

    async def create() -> None:
        return None

    async def main() -> None:
        pending = create()
        try:
            await kwait.asyncio.wait_for(
                None,
                "vm",
                until="create",
                act=pending,  # type: ignore[arg-type]
                source=one_call_source(clock),
            )
        finally:
            pending.close()

    with pytest.raises(TypeError, match="did you call it"):
        run(main)


# ---------------------------------------------------------------------- the loop is never blocked


def test_the_loop_keeps_ticking_every_10_ms_through_a_2_s_wait() -> None:
    """A 10 ms ticker task never stalls while kwait waits 2 s (real time) for a state."""
    source = ScriptedSource(kwait.SystemClock(), "pods")
    source.add_list([pod(5)], "5")
    source.add_watch(Hang())

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        ticks: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                ticks.append(loop.time())
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        try:
            async with kwait.asyncio.track(source=source, name="vm") as tracker:
                with pytest.raises(kwait.WaitTimeoutError):
                    await tracker.wait_for("condition=Ready", timeout=2)
        finally:
            stop.set()
            await task
        return ticks

    # A full collection of the test session's heap can pause any program for tens of ms;
    # it is not what this test is about (a blocked loop stalls for the whole 2 s).
    gc.disable()
    try:
        ticks = run(main)
    finally:
        gc.enable()
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert ticks[-1] - ticks[0] >= 1.9
    assert len(ticks) >= 100, f"only {len(ticks)} ticks in 2 s"
    # On a quiet machine every gap is under 50 ms (typically 11-20 ms). A loaded machine
    # (more runnable threads than cores) can hold the process back by itself now and then,
    # at moments when kwait is idle too; a loop that kwait blocked would miss 2 s at once.
    stalls = [round(gap * 1000) for gap in gaps if gap > 0.05]
    assert len(stalls) <= 2, f"the loop stalled {len(stalls)} times: {stalls} ms"
    assert max(gaps) < 0.25, f"the loop stalled for {max(gaps) * 1000:.0f} ms"


# ---------------------------------------------------------------------- cancellation


def _fds() -> int | None:
    fd_dir = Path("/proc/self/fd")
    return len(list(fd_dir.iterdir())) if fd_dir.is_dir() else None


def test_100_cancelled_waits_leave_no_thread_task_or_fd_behind() -> None:
    """Cancelled at every stage (starting, waiting, judging), nothing outlives the wait."""
    clock = FakeClock()  # time stands still: every wait is still pending when cancelled

    async def cancelled_once(ticks: int) -> None:
        source = ScriptedSource(clock, "pods")
        source.add_list([pod(5)], "5")
        source.add_watch(Pause(1), modified(pod(6, reason="ContainerCreating")), Hang())
        task = asyncio.ensure_future(
            kwait.asyncio.wait_for(
                None, "vm", until="condition=Ready", source=source, clock=clock, timeout=300
            )
        )
        for _ in range(ticks):  # let it get further each time before cancelling
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async def main() -> int:
        for i in range(100):
            await cancelled_once(i % 20)
        return len(asyncio.all_tasks())

    threads, fds = threading.active_count(), _fds()
    assert run(main) == 1  # only main() itself
    assert threading.active_count() == threads
    assert _fds() == fds
    assert clock.blocked == 0


def test_cancelling_an_await_leaves_the_tracker_running(tracking: Started) -> None:
    """asyncio.wait_for's timeout cancels the await only: the tracker goes on recording."""

    async def main() -> list[kwait.Timeline]:
        async with tracking([pod(5)], Pause(1), modified(pod(6, ready=True))) as tracker:
            slow = tracker.wait_for("jsonpath={.status.phase}=Succeeded", timeout=None)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(slow, timeout=0.01)
            assert tracker.running
            return await tracker.wait_for("condition=Ready", timeout=10)

    [timeline] = run(main)
    assert timeline.identity.name == "vm"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
def test_asyncio_timeout_around_the_async_with_stops_the_tracker() -> None:
    """A cancelled ``async with`` body (asyncio.timeout) still stops the engine thread."""
    source = ScriptedSource(kwait.SystemClock(), "pods")
    source.add_list([pod(5)], "5")
    source.add_watch(Hang())
    held: list[kwait.asyncio.AsyncTracker] = []

    async def main() -> None:
        async with asyncio.timeout(0.05):  # type: ignore[attr-defined,unused-ignore]
            async with kwait.asyncio.track(source=source, name="vm") as tracker:
                held.append(tracker)
                await tracker.wait_for("condition=Ready", timeout=None)

    threads = threading.active_count()
    with pytest.raises(TimeoutError):
        run(main)
    assert not held[0].running
    assert threading.active_count() == threads


def test_a_blocking_wait_inside_a_coroutine_is_what_this_module_avoids() -> None:
    """The sync API blocks the loop (no ticks); the same wait awaited lets it tick."""
    source_sync = ScriptedSource(kwait.SystemClock(), "pods")
    source_async = ScriptedSource(kwait.SystemClock(), "pods")
    for source in (source_sync, source_async):
        source.add_list([pod(5)], "5")
        source.add_watch(Hang())

    async def ticks_during(wait: Callable[[], Awaitable[object]]) -> int:
        count = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal count
            while not stop.is_set():
                count += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        start = count
        with suppress(kwait.WaitTimeoutError):
            await wait()
        stop.set()
        await task
        return count - start

    async def blocking() -> None:
        with kwait.track(source=source_sync, name="vm") as tracker:
            tracker.wait_for("condition=Ready", timeout=0.2)

    async def awaited() -> None:
        async with kwait.asyncio.track(source=source_async, name="vm") as tracker:
            await tracker.wait_for("condition=Ready", timeout=0.2)

    async def main() -> tuple[int, int]:
        return await ticks_during(blocking), await ticks_during(awaited)

    blocked, free = run(main)
    assert blocked <= 1
    assert free >= 10


# ---------------------------------------------------------------------- clocks


def test_a_clock_of_your_own_is_waited_on_in_a_helper_thread() -> None:
    """Any Clock works: a helper thread waits on it and ends with the wait."""

    class Own:
        """A clock kwait knows nothing about, on real time."""

        def __init__(self) -> None:
            self.real = kwait.SystemClock()

        def monotonic(self) -> float:
            return self.real.monotonic()

        def sleep(self, seconds: float) -> None:
            self.real.sleep(seconds)

        def wait(self, cond: threading.Condition, timeout: float | None) -> bool:
            return self.real.wait(cond, timeout)

        def wait_for(
            self, cond: threading.Condition, predicate: Callable[[], bool], timeout: float | None
        ) -> bool:
            return self.real.wait_for(cond, predicate, timeout)

        def participant(self) -> AbstractContextManager[None]:
            return self.real.participant()

    own = Own()
    source = ScriptedSource(own, "pods")
    source.add_list([pod(5)], "5")
    source.add_watch(Hang())

    async def main() -> None:
        async with kwait.asyncio.track(source=source, clock=own, name="vm") as tracker:
            with pytest.raises(kwait.WaitTimeoutError):
                await tracker.wait_for("condition=Ready", timeout=0.05)
            slow = tracker.wait_for("condition=Ready", timeout=60)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(slow, timeout=0.05)

    threads = threading.active_count()
    run(main)
    assert threading.active_count() == threads


def test_concurrent_awaits_on_one_tracker_share_fake_time(
    tracking: Started, clock: FakeClock
) -> None:
    """gather(): a wait done at t=5 and a never-window to t=60 both hold on one fake clock."""

    async def main() -> tuple[float, float]:
        async with tracking(
            [pod(5)], Pause(5), modified(pod(6, ready=True, phase="Running"))
        ) as tracker:
            done_at: list[float] = []

            async def ready() -> None:
                await tracker.wait_for("condition=Ready", timeout=30)
                done_at.append(clock.monotonic())

            await asyncio.gather(
                ready(),
                tracker.expect_never(
                    kwait.states.waiting_reason().equals("CrashLoopBackOff"), during=60
                ),
            )
            return done_at[0], clock.monotonic()

    ready_at, end = run(main)
    assert ready_at == pytest.approx(5.0)
    assert end == pytest.approx(60.0)


def test_the_loop_thread_counts_as_blocked_only_while_kwait_awaits(clock: FakeClock) -> None:
    """A parked async wait shows in pending() and lets time jump; a woken one holds it."""
    from kwait._time.aio import wait_for as clock_wait_for  # noqa: PLC0415 - the layer under test

    cond = threading.Condition()
    flag: list[bool] = []

    def notify_later() -> None:
        assert clock.wait_for_blocked(1, timeout=10)
        with cond:
            flag.append(True)
            cond.notify_all()

    async def main() -> tuple[bool, float, bool, float]:
        timed_out = await clock_wait_for(clock, cond, lambda: bool(flag), 300)
        after_timeout = clock.monotonic()
        helper = threading.Thread(target=notify_later)
        clock.autojump = False  # the helper is no participant: keep time still for it
        helper.start()
        notified = await clock_wait_for(clock, cond, lambda: bool(flag), 300)
        helper.join(10)
        return timed_out, after_timeout, notified, clock.monotonic()

    timed_out, after_timeout, notified, end = run(main)
    assert (timed_out, after_timeout) == (False, 300.0)
    assert (notified, end) == (True, 300.0)
    assert clock.blocked == 0
    assert clock.pending() == []


# ---------------------------------------------------------------------- same reports as sync


def _failure_report(*, awaited: bool, check: str) -> dict[str, Any]:
    """Run one failing scenario through the sync or the async API; return its JSON report."""
    clock = FakeClock(autojump=True)
    source = ScriptedSource(clock, "pods in namespace 'ci'")
    source.add_list([pod(5, reason="ContainerCreating")], "10")
    source.add_watch(
        Pause(2),
        modified(pod(11, reason="ErrImagePull", generation=2)),
        Pause(3),
        modified(pod(12, reason="CrashLoopBackOff", generation=3)),
        Hang(),
    )
    reason = kwait.states.waiting_reason()
    sync_tracker = kwait.Tracker(source=source, clock=clock, name="vm")
    async_tracker = kwait.asyncio.AsyncTracker.of(sync_tracker)

    def sync_check() -> None:
        if check == "transitions":
            sync_tracker.expect_transitions(reason, ["ErrImagePull", "Running"], timeout=60)
        elif check == "never":
            sync_tracker.expect_never(reason.equals("CrashLoopBackOff"), during=60)
        else:
            sync_tracker.wait_for("jsonpath={.metadata.generation}=3", timeout=60)
            sync_tracker.expect_count(kwait.Changes.generation(), exactly=1, sync=False)

    async def async_check() -> None:
        if check == "transitions":
            await async_tracker.expect_transitions(reason, ["ErrImagePull", "Running"], timeout=60)
        elif check == "never":
            await async_tracker.expect_never(reason.equals("CrashLoopBackOff"), during=60)
        else:
            await async_tracker.wait_for("jsonpath={.metadata.generation}=3", timeout=60)
            await async_tracker.expect_count(kwait.Changes.generation(), exactly=1, sync=False)

    async def main() -> None:
        async with async_tracker:
            await async_check()

    def sync_run() -> None:
        with sync_tracker:
            sync_check()

    scenario: Callable[[], object] = (lambda: run(main)) if awaited else sync_run
    with pytest.raises(kwait.ExpectationError) as err:
        scenario()
    return err.value.report.to_json()


@pytest.mark.parametrize("check", ["transitions", "never", "count"])
def test_a_failure_reports_exactly_what_the_sync_api_reports(check: str) -> None:
    """Same timeline, same fake time: the async report is the sync one, field for field."""
    assert _failure_report(awaited=True, check=check) == _failure_report(awaited=False, check=check)
