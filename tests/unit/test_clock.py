"""Clocks: real time passes through; fake time moves by hand or jumps, never deadlocks."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kwait import Clock, Deadline, SystemClock
from kwait.testing import FakeClock

JOIN = 10.0
"""Real seconds any thread of these tests may take; a bug fails instead of hanging."""


class Worker(threading.Thread):
    """A thread that keeps its exception so the test can re-raise it."""

    def __init__(self, target: Callable[[], object], token: AbstractContextManager[None]) -> None:
        """Run `target` inside `token` (a clock participation, or a no-op)."""
        super().__init__(daemon=True, name=getattr(target, "__name__", "worker"))
        self._target_fn = target
        self._token = token
        self.error: BaseException | None = None

    def run(self) -> None:
        """Run the target, remembering what it raised."""
        try:
            with self._token:
                self._target_fn()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.error = error

    def finish(self) -> None:
        """Join with a bound and re-raise the thread's error."""
        self.join(JOIN)
        assert not self.is_alive(), f"{self.name} did not finish"
        if self.error is not None:
            raise self.error


def spawn(target: Callable[[], object], clock: FakeClock | None = None) -> Worker:
    """Start `target` in a thread; a participant of `clock` from before it starts, if given."""
    token: AbstractContextManager[None] = (
        clock.participant() if clock is not None else SystemClock().participant()
    )
    worker = Worker(target, token)
    worker.start()
    return worker


@pytest.fixture
def clock() -> FakeClock:
    """An autojumping fake clock that turns a hang into a TimeoutError after ten real seconds."""
    return FakeClock(autojump=True, stall_timeout=JOIN)


@pytest.fixture
def manual() -> FakeClock:
    """A fake clock that moves only by hand, with the same hang guard."""
    return FakeClock(stall_timeout=JOIN)


# --------------------------------------------------------------------------- SystemClock


def test_system_clock_implements_the_protocol_on_real_time() -> None:
    """The system clock is a Clock whose zero timeouts return at once with the stdlib results."""
    real = SystemClock()
    assert isinstance(real, Clock)
    before = real.monotonic()
    real.sleep(0)
    assert real.monotonic() >= before
    cond = threading.Condition()
    with cond:
        assert real.wait(cond, 0) is False
        assert real.wait_for(cond, lambda: True, 0) is True
        assert real.wait_for(cond, lambda: False, 0) is False
    with real.participant():
        pass
    with pytest.raises(ValueError, match="non-negative"):
        real.sleep(-1)


def test_system_clocks_are_interchangeable() -> None:
    """All system clocks compare equal and hash alike, and none equals a fake clock."""
    assert SystemClock() == SystemClock()
    assert hash(SystemClock()) == hash(SystemClock())
    assert SystemClock() != FakeClock()
    assert repr(SystemClock()) == "SystemClock()"


# --------------------------------------------------------------------------- moving by hand


def test_fake_clock_starts_where_told_and_advances_by_hand() -> None:
    """Time starts at 0 or the given start and moves only by advance."""
    assert FakeClock().monotonic() == 0.0
    clock = FakeClock(start=100.0)
    clock.advance(2.5)
    clock.advance(0)
    assert clock.monotonic() == 102.5
    assert isinstance(clock, Clock)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_advance_refuses_to_go_back(bad: float) -> None:
    """Advancing by a negative, nan or infinite amount is an error and leaves time alone."""
    clock = FakeClock()
    with pytest.raises(ValueError, match="advance must be a finite, non-negative number"):
        clock.advance(bad)
    assert clock.monotonic() == 0.0


def test_fake_clock_refuses_an_infinite_start() -> None:
    """A clock cannot start at infinity."""
    with pytest.raises(ValueError, match="finite"):
        FakeClock(start=math.inf)


def test_sleep_wakes_exactly_when_time_reaches_its_deadline(manual: FakeClock) -> None:
    """A sleeping thread stays blocked until advance reaches its deadline, not a moment sooner."""
    woke_at: list[float] = []

    def sleeper() -> None:
        manual.sleep(10)
        woke_at.append(manual.monotonic())

    worker = spawn(sleeper)
    assert manual.wait_for_blocked(1, timeout=JOIN)
    assert manual.pending() == [10.0]
    manual.advance(9.5)
    assert manual.blocked == 1
    assert woke_at == []
    manual.advance(0.5)
    worker.finish()
    assert woke_at == [10.0]
    assert manual.pending() == []


def test_sleep_zero_returns_and_negative_sleep_is_an_error(manual: FakeClock) -> None:
    """sleep(0) does not block even without autojump; a negative or endless sleep is refused."""
    manual.sleep(0)
    for bad in (-0.1, math.inf):
        with pytest.raises(ValueError, match="sleep length must be a finite, non-negative number"):
            manual.sleep(bad)


def test_repr_shows_time_mode_and_pending_deadlines(manual: FakeClock) -> None:
    """The repr says what the clock reads, its mode, what is pending, and who is running."""
    worker = spawn(lambda: manual.sleep(3))
    assert manual.wait_for_blocked(1, timeout=JOIN)
    text = repr(manual)
    assert text == (
        "FakeClock(now=0.0, autojump=False, pending=[3.0], running participants=['MainThread'])"
    )
    manual.advance(3)
    worker.finish()


# --------------------------------------------------------------------------- waiting on conditions


def test_wait_needs_the_lock_and_a_real_condition(clock: FakeClock) -> None:
    """Waiting without holding the lock, or on something else, fails like Condition.wait would."""
    cond = threading.Condition()
    with pytest.raises(RuntimeError, match="un-acquired lock"):
        clock.wait(cond, 1)
    with pytest.raises(TypeError, match=r"threading\.Condition"):
        clock.wait(threading.Lock(), 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make_lock", "depth"), [(threading.Lock, 1), (threading.RLock, 3)], ids=["Lock", "RLock"]
)
def test_wait_times_out_on_fake_time_and_gives_the_lock_back(
    clock: FakeClock, make_lock: Callable[[], threading.Lock], depth: int
) -> None:
    """A timed-out wait returns False at its deadline holding the lock, recursion level intact."""
    lock = make_lock()
    cond = threading.Condition(lock)
    for _ in range(depth):
        cond.acquire()
    assert clock.wait(cond, 7.5) is False
    assert clock.monotonic() == 7.5
    for _ in range(depth):
        cond.release()
    free: list[bool] = []

    def try_lock() -> None:
        free.append(lock.acquire(blocking=False))
        if free[-1]:
            lock.release()

    spawn(try_lock).finish()
    assert free == [True]


def test_wait_with_zero_or_negative_timeout_does_not_block(manual: FakeClock) -> None:
    """A wait whose timeout is zero or negative returns False at once, like Condition.wait."""
    cond = threading.Condition()
    with cond:
        assert manual.wait(cond, 0) is False
        assert manual.wait(cond, -5) is False
        assert manual.wait_for(cond, lambda: False, 0) is False
        assert manual.wait_for(cond, lambda: True, 0) is True


def test_notify_wakes_a_fake_waiter_before_its_deadline(clock: FakeClock) -> None:
    """A notify from the condition's owner wakes the waiter with True and moves no time."""
    cond = threading.Condition()
    results: list[tuple[bool, float]] = []

    def waiter() -> None:
        with cond:
            results.append((clock.wait(cond, 100), clock.monotonic()))

    worker = spawn(waiter, clock)
    assert clock.wait_for_blocked(1, timeout=JOIN)
    with cond:
        cond.notify()
    worker.finish()
    assert results == [(True, 0.0)]


def test_wait_for_returns_the_predicate_once_true(clock: FakeClock) -> None:
    """wait_for re-checks after each notify and returns as soon as the predicate holds."""
    cond = threading.Condition()
    items: list[int] = []

    def producer() -> None:
        for i in range(3):
            clock.sleep(2)
            with cond:
                items.append(i)
                cond.notify_all()

    worker = spawn(producer, clock)
    with cond:
        assert clock.wait_for(cond, lambda: len(items) == 3, 60) is True
    assert clock.monotonic() == 6.0
    worker.finish()


def test_fake_and_real_waiters_share_one_condition(clock: FakeClock) -> None:
    """notify_all wakes a thread in Condition.wait and a thread in FakeClock.wait alike."""
    cond = threading.Condition()
    flag = {"set": False}
    real_saw: list[bool] = []
    fake_saw: list[bool] = []

    def real_waiter() -> None:
        with cond:
            real_saw.append(cond.wait_for(lambda: flag["set"], JOIN))

    def fake_waiter() -> None:
        with cond:
            fake_saw.append(clock.wait_for(cond, lambda: flag["set"], None))

    real = spawn(real_waiter)
    fake = spawn(fake_waiter, clock)
    assert clock.wait_for_blocked(1, timeout=JOIN)
    with cond:
        flag["set"] = True
        cond.notify_all()
    real.finish()
    fake.finish()
    assert real_saw == [True]
    assert fake_saw == [True]
    assert clock.monotonic() == 0.0


# --------------------------------------------------------------------------- five-minute timeouts


def _sleeper(clock: Clock, seconds: float) -> Callable[[], None]:
    """Return a function that sleeps `seconds` on `clock`."""

    def sleep() -> None:
        clock.sleep(seconds)

    return sleep


@pytest.mark.parametrize("start", range(100))
def test_a_five_minute_timeout_takes_no_real_time(start: int) -> None:
    """Waiting out a 300 s timeout on an autojumping clock ends exactly 300 fake seconds later."""
    clock = FakeClock(start=start, autojump=True, stall_timeout=JOIN)
    cond = threading.Condition()
    deadline = Deadline.after(300, clock=clock)
    with cond:
        assert deadline.wait_for(cond, lambda: False) is False
    assert clock.monotonic() == start + 300.0
    assert deadline.expired()
    assert str(deadline) == "300 s deadline, expired just now"


def test_one_hundred_five_minute_timeouts_take_under_a_second() -> None:
    """A hundred 300 s waits, each with a background participant, take under 1 s of real time."""
    real = SystemClock()
    started = real.monotonic()
    for _ in range(100):
        clock = FakeClock(autojump=True, stall_timeout=JOIN)
        cond = threading.Condition()
        worker = spawn(_sleeper(clock, 120), clock)
        with cond:
            assert clock.wait_for(cond, lambda: False, 300) is False
        assert clock.monotonic() == 300.0
        worker.finish()
    assert real.monotonic() - started < 1.0


# --------------------------------------------------------------------------- autojump and threads


def test_autojump_does_not_jump_while_a_participant_runs(clock: FakeClock) -> None:
    """Time stays still while any participant runs and jumps once the last one blocks."""
    running = threading.Barrier(2, timeout=JOIN)
    resume = threading.Event()
    seen: dict[str, float] = {}

    done = threading.Condition()

    def sleeper() -> None:
        clock.sleep(10)
        with done:
            seen["sleeper woke at"] = clock.monotonic()
            done.notify_all()

    def busy() -> None:
        running.wait()  # running, not blocked on the clock
        assert resume.wait(JOIN)
        seen["busy saw"] = clock.monotonic()

    def observer() -> None:
        # not a participant: watches until the main thread and the sleeper are both blocked
        assert clock.wait_for_blocked(2, timeout=JOIN)
        seen["while busy ran"] = clock.monotonic()
        seen["pending"] = clock.pending()[0]
        resume.set()

    sleeping = spawn(sleeper, clock)
    working = spawn(busy, clock)
    running.wait()
    assert clock.wait_for_blocked(1, timeout=JOIN)  # the main thread runs: no jump yet
    assert clock.monotonic() == 0.0
    watching = spawn(observer)
    with done:
        assert clock.wait_for(done, lambda: "sleeper woke at" in seen, 60) is True
    for worker in (sleeping, working, watching):
        worker.finish()
    assert seen == {
        "while busy ran": 0.0,
        "pending": 10.0,
        "busy saw": 0.0,
        "sleeper woke at": 10.0,
    }
    assert clock.monotonic() == 10.0


def test_a_notified_waiter_counts_as_running_at_once(clock: FakeClock) -> None:
    """After a notify, time cannot jump until the woken thread has run and blocked again."""
    cond = threading.Condition()
    woke: list[tuple[bool, float]] = []

    def waiter() -> None:
        with cond:
            woke.append((clock.wait(cond, 100), clock.monotonic()))
        clock.sleep(1)

    worker = spawn(waiter, clock)
    assert clock.wait_for_blocked(1, timeout=JOIN)
    with cond:
        cond.notify()
    clock.sleep(50)  # the waiter may not have run yet; the jump must wait for it
    worker.finish()
    assert woke == [(True, 0.0)]
    assert clock.monotonic() == 50.0


def test_a_handed_over_participation_holds_time_until_entered(clock: FakeClock) -> None:
    """A participation created before a thread starts holds time still until that thread blocks."""
    token = clock.participant()
    cond = threading.Condition()
    done: list[float] = []

    def late_starter() -> None:
        assert clock.wait_for_blocked(1, timeout=JOIN)  # the main thread is blocked by now
        with token:
            clock.sleep(5)
            with cond:
                done.append(clock.monotonic())
                cond.notify_all()

    worker = spawn(late_starter)
    with cond:
        assert clock.wait_for(cond, lambda: bool(done), 30) is True
    worker.finish()
    assert done == [5.0]
    assert clock.monotonic() == 5.0


def test_a_participation_can_be_entered_only_once(clock: FakeClock) -> None:
    """Entering the same participation twice is an error."""
    token = clock.participant()
    with token, pytest.raises(RuntimeError, match="only once"), token:
        pass


def test_leaving_the_last_running_participant_lets_time_jump(clock: FakeClock) -> None:
    """When a running participant leaves, a blocked main thread's deadline is reached at once."""
    leave = threading.Event()

    def guest() -> None:
        assert leave.wait(JOIN)

    def releaser() -> None:
        assert clock.wait_for_blocked(1, timeout=JOIN)
        leave.set()

    visiting = spawn(guest, clock)
    releasing = spawn(releaser)
    clock.sleep(10)
    assert clock.monotonic() == 10.0
    visiting.finish()
    releasing.finish()


def test_threads_that_do_not_participate_do_not_hold_time(clock: FakeClock) -> None:
    """A busy non-participant does not stop the jump, and its own deadline is jumped to."""
    stop = threading.Event()
    outsider_woke: list[float] = []

    def outsider_busy() -> None:
        assert stop.wait(JOIN)

    def outsider_sleeper() -> None:
        clock.sleep(3)
        outsider_woke.append(clock.monotonic())

    busy = spawn(outsider_busy)
    sleeper = spawn(outsider_sleeper)
    assert clock.wait_for_blocked(1, timeout=JOIN)
    clock.sleep(10)
    stop.set()
    busy.finish()
    sleeper.finish()
    assert len(outsider_woke) == 1  # it may read 3 or 10: nothing waits for an outsider
    assert clock.jumps == 2  # to the outsider's 3, then to 10
    assert clock.monotonic() == 10.0


def test_a_clock_whose_creator_exited_still_jumps() -> None:
    """A creating thread that has finished no longer holds time."""
    made: list[FakeClock] = []
    creator = spawn(lambda: made.append(FakeClock(autojump=True, stall_timeout=JOIN)))
    creator.finish()
    clock = made[0]
    clock.sleep(5)
    assert clock.monotonic() == 5.0


def test_turning_autojump_on_jumps_when_everyone_is_blocked(manual: FakeClock) -> None:
    """Switching autojump on while every participant is blocked jumps straight away."""

    def switch_on() -> None:
        assert manual.wait_for_blocked(2, timeout=JOIN)
        manual.autojump = True

    sleeper = spawn(_sleeper(manual, 4), manual)
    switcher = spawn(switch_on)
    manual.sleep(9)
    assert manual.monotonic() == 9.0
    assert manual.jumps == 2
    sleeper.finish()
    switcher.finish()


def test_producers_and_consumers_on_two_conditions_keep_exact_times(clock: FakeClock) -> None:
    """Threads that notify each other across two conditions see the same fake times on every run."""
    seen: dict[str, list[float]] = {"fast": [], "slow": []}

    def pair(name: str, period: float, count: int) -> tuple[Worker, Worker]:
        cond = threading.Condition()
        items: list[int] = []

        def produce() -> None:
            for i in range(count):
                clock.sleep(period)
                with cond:
                    items.append(i)
                    cond.notify_all()

        def consume() -> None:
            with cond:
                for i in range(count):
                    assert clock.wait_for(cond, lambda i=i: len(items) > i, period * 2)  # type: ignore[misc]
                    seen[name].append(clock.monotonic())

        return spawn(produce, clock), spawn(consume, clock)

    workers = [*pair("fast", 1.0, 30), *pair("slow", 2.5, 12)]
    done = threading.Condition()
    with done:
        clock.wait_for(done, lambda: False, 31)
    for worker in workers:
        worker.finish()
    assert seen["fast"] == [float(i) for i in range(1, 31)]
    assert seen["slow"] == [2.5 * i for i in range(1, 13)]


def test_a_storm_of_waits_and_notifies_on_one_condition_finishes(clock: FakeClock) -> None:
    """Eight threads waiting with seeded random timeouts and notifying each other all finish."""
    cond = threading.Condition()
    seen: dict[int, list[float]] = {}

    def stormer(index: int) -> Callable[[], None]:
        rng = random.Random(index)  # noqa: S311 - test data

        def run() -> None:
            times = seen.setdefault(index, [])
            for _ in range(40):
                with cond:
                    clock.wait(cond, rng.choice([0.5, 1.0, 2.0, 7.0]))
                    times.append(clock.monotonic())
                    if rng.random() < 0.5:
                        cond.notify_all()
                    else:
                        cond.notify()

        return run

    workers = [spawn(stormer(i), clock) for i in range(8)]
    done = threading.Condition()
    with done:
        clock.wait_for(done, lambda: not any(w.is_alive() for w in workers), 10_000)
    for worker in workers:
        worker.finish()
    for times in seen.values():
        assert len(times) == 40
        assert times == sorted(times)


def test_a_stalled_fake_wait_explains_itself() -> None:
    """With stall_timeout, a wait nobody can end raises TimeoutError describing the clock."""
    clock = FakeClock(stall_timeout=0.05)
    with pytest.raises(TimeoutError) as caught:
        clock.sleep(1)
    assert str(caught.value) == (
        "MainThread waited 0.05 s of real time on a FakeClock for fake time 1.0; the clock "
        "reads 0.0, autojump is off, participants still running: [], pending deadlines: [1.0]"
    )
    assert clock.blocked == 0


# --------------------------------------------------------------------------- properties


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=30))
def test_fake_time_never_goes_back(steps: list[float]) -> None:
    """Whatever a test advances by, monotonic() never decreases and sums the steps."""
    clock = FakeClock()
    last = clock.monotonic()
    for step in steps:
        clock.advance(step)
        now = clock.monotonic()
        assert now >= last
        last = now
    assert last == pytest.approx(math.fsum(steps))


def test_pending_lists_only_deadlines_of_blocked_threads(manual: FakeClock) -> None:
    """pending() lists finite deadlines earliest first and forgets them once reached."""
    cond = threading.Condition()

    def forever() -> None:
        with cond:
            manual.wait(cond, None)

    workers = [spawn(lambda: manual.sleep(8)), spawn(lambda: manual.sleep(2)), spawn(forever)]
    assert manual.wait_for_blocked(3, timeout=JOIN)
    assert manual.pending() == [2.0, 8.0]
    manual.advance(5)
    assert manual.pending() == [8.0]
    manual.advance(5)
    with cond:
        cond.notify_all()
    for worker in workers:
        worker.finish()
    assert manual.blocked == 0


def _clocks() -> Iterator[Clock]:
    yield SystemClock()
    yield FakeClock()


@pytest.mark.parametrize("impl", list(_clocks()), ids=["system", "fake"])
def test_both_clocks_agree_on_condition_semantics(impl: Clock) -> None:
    """wait_for returns the predicate's value at once when it already holds, on either clock."""
    cond = threading.Condition()
    with cond, impl.participant():
        assert impl.wait_for(cond, lambda: True, 5) is True
