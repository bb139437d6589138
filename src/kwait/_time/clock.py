"""Clocks: real time, and fake time that a test moves (or lets jump).

This is the only kwait module that reads real time. Everything else takes a
`kwait.Clock` and asks it for the time, to sleep, or to wait on a condition.

`FakeClock` never looks at real time. Its time moves only when a test calls
`FakeClock.advance`, or, in *autojump* mode, when every participating thread is
blocked on the clock: then time jumps straight to the earliest deadline anyone
is waiting for, as trio's ``MockClock(autojump_threshold=0)`` does. A test that
waits out a five-minute timeout therefore takes microseconds.

How a fake wait blocks, and why it cannot deadlock
--------------------------------------------------

`FakeClock.wait` parks the calling thread on a private lock of its own and
registers that lock with the caller's `threading.Condition` exactly as
`threading.Condition.wait` registers its own (CPython's condition keeps its
waiters in ``_waiters`` and wakes one by calling its ``release()``). So:

- a ``notify()`` from the condition's owner wakes the fake waiter like any
  other waiter, and the clock learns about it *at that instant* (the notifier
  calls into the clock), so the woken thread counts as running before it has
  even been scheduled, and autojump cannot slip in between;
- time passing wakes a waiter by releasing its private lock; the clock never
  acquires the caller's condition, so there is no lock order to get wrong. The
  only lock the clock holds is its own, and while holding it, it never waits
  for anything.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from types import TracebackType
from typing import Any, cast

from kwait._errors import ClockStallError

__all__ = ["FakeClock", "SystemClock", "io_wait"]


def io_wait(clock: Any) -> AbstractContextManager[None]:
    """Declare that the calling thread now blocks on I/O, not on the clock.

    A `FakeClock` in autojump mode then lets time jump without this thread
    (see `FakeClock.io_wait`); any other clock ignores it.

    >>> with io_wait(SystemClock()):
    ...     pass
    """
    declare = getattr(clock, "io_wait", None)
    return declare() if callable(declare) else nullcontext()


_LONGEST_BLOCK = 1e8
"""Seconds (three years) beyond which a real wait counts as "forever": the platform's
lock timeouts overflow somewhere above 9e9 s, so `timeout=1e10` must not reach them."""


def _bounded(timeout: float | None) -> float | None:
    return None if timeout is not None and timeout > _LONGEST_BLOCK else timeout


class SystemClock:
    """Real time: `time.monotonic`, `time.sleep` and `threading.Condition.wait`.

    All instances are interchangeable (and compare equal): they read the same
    time.

    >>> clock = SystemClock()
    >>> clock.monotonic() <= clock.monotonic()
    True
    >>> clock == SystemClock()
    True
    """

    __slots__ = ()

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of real time (`time.sleep`); any length, however long."""
        seconds = _check_seconds("sleep length", seconds)
        end = time.monotonic() + seconds
        while seconds > _LONGEST_BLOCK:
            time.sleep(_LONGEST_BLOCK)
            seconds = end - time.monotonic()
        time.sleep(max(0.0, seconds))

    def wait(self, cond: threading.Condition, timeout: float | None) -> bool:
        """Return `cond.wait(timeout)`; the caller holds `cond`'s lock."""
        return cond.wait(_bounded(timeout))

    def wait_for(
        self,
        cond: threading.Condition,
        predicate: Callable[[], bool],
        timeout: float | None,
    ) -> bool:
        """Return `cond.wait_for(predicate, timeout)`; the caller holds `cond`'s lock."""
        return cond.wait_for(predicate, _bounded(timeout))

    def participant(self) -> AbstractContextManager[None]:
        """Return a context manager that does nothing: real time does not wait for anyone."""
        return nullcontext()

    def __eq__(self, other: object) -> bool:
        """System clocks are all equal: they read the same time."""
        return isinstance(other, SystemClock)

    def __hash__(self) -> int:
        """Hash like every other system clock."""
        return hash(SystemClock)

    def __repr__(self) -> str:
        """Return ``SystemClock()``."""
        return "SystemClock()"


# --------------------------------------------------------------------------- fake time


class _State(enum.Enum):
    PARKED = "parked"
    NOTIFIED = "notified"
    TIMED_OUT = "timed out"
    CANCELLED = "cancelled"


class _Waiter:
    """One thread blocked on a `FakeClock` (in sleep, wait or wait_for).

    It doubles as an entry of a `threading.Condition`'s waiter queue: the
    condition's ``notify`` calls `release`, which tells the clock.
    """

    __slots__ = ("clock", "deadline", "park", "state", "thread")

    def __init__(self, clock: FakeClock, deadline: float, thread: threading.Thread) -> None:
        self.clock = clock
        self.deadline = deadline
        self.thread = thread
        self.state = _State.PARKED
        self.park = threading.Lock()
        self.park.acquire()

    def release(self) -> None:
        """Called by ``Condition.notify`` (under the condition's lock): wake this waiter."""
        self.clock._wake(self)  # noqa: SLF001 - the waiter is part of the clock

    def unpark(self) -> None:
        """Let the parked thread go on (the clock's lock is held)."""
        self.park.release()


class _AsyncWait:
    """A coroutine's share in a `FakeClock`'s time, for the whole of one asyncio wait.

    The event loop's thread cannot park on a lock: it must go on running other
    tasks. Instead, a coroutine that waits on the clock (through
    `kwait._time.aio.wait_for`) *parks* one of these with its deadline, and
    *settles* the parking once the loop has nothing else ready to run. The
    loop's thread counts as blocked on the clock while it has async waits and
    every one of them is parked and settled; a notify of the condition waited
    on, or the deadline, wakes the wait (calling `wake`, which schedules the
    coroutine) and counts the thread as running at that instant, so autojump
    cannot slip in before the coroutine has seen what woke it.
    """

    __slots__ = ("clock", "thread", "ticket", "wake")

    def __init__(self, clock: FakeClock, thread: threading.Thread) -> None:
        self.clock: FakeClock = clock
        self.thread: threading.Thread = thread
        self.ticket: _AsyncTicket | None = None
        self.wake: Callable[[], None] = _nothing

    def park(self, timeout: float | None, wake: Callable[[], None]) -> _AsyncTicket:
        """Park until `timeout` fake seconds pass or the returned ticket is released."""
        return self.clock._async_park(self, timeout, wake)  # noqa: SLF001

    def unpark(self) -> None:
        """The coroutine runs again (whatever woke it): the thread counts as running."""
        self.clock._async_unpark(self)  # noqa: SLF001

    def close(self) -> None:
        """The wait is over: forget it."""
        self.clock._async_end(self)  # noqa: SLF001


def _nothing() -> None:
    return None


class _AsyncTicket:
    """One parking of an `_AsyncWait`; it doubles as an entry of a condition's waiter queue."""

    __slots__ = ("deadline", "settled", "state", "wait")

    def __init__(self, wait: _AsyncWait, deadline: float) -> None:
        self.wait: _AsyncWait = wait
        self.deadline: float = deadline
        self.state: _State = _State.PARKED
        self.settled: bool = False

    def release(self) -> None:
        """Called by ``Condition.notify`` (under the condition's lock): wake the coroutine."""
        self.wait.clock._wake(self)  # noqa: SLF001

    def unpark(self) -> None:
        """Schedule the coroutine (the clock's lock is held; this never blocks)."""
        self.wait.wake()

    def settle(self) -> None:
        """The event loop has nothing else ready to run: count this parking as blocked."""
        self.wait.clock._async_settle(self)  # noqa: SLF001


class _Participation:
    """A thread's share in a `FakeClock`'s time; the context manager `participant` returns.

    It counts from the moment it is created, so a thread can create it and hand
    it to a thread it starts: until that thread enters it, the clock treats the
    participant as running and does not jump.
    """

    __slots__ = ("clock", "entered", "exited", "thread")

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.thread: threading.Thread | None = None
        self.entered = False
        self.exited = False

    def __enter__(self) -> None:
        """Bind this participation to the calling thread."""
        self.clock._enter(self)  # noqa: SLF001

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop counting this thread; time may jump now if everyone else is blocked."""
        self.clock._leave(self)  # noqa: SLF001

    def __repr__(self) -> str:
        if self.exited:
            where = "left"
        elif self.thread is None:
            where = "not entered yet"
        else:
            where = f"thread {self.thread.name!r}"
        return f"<FakeClock participant, {where}>"


def _condition_internals(cond: threading.Condition) -> tuple[Any, Any, Any, deque[Any]]:
    """Return the private parts of a `threading.Condition` a fake wait needs."""
    try:
        parts = (
            cond._is_owned,  # type: ignore[attr-defined]  # noqa: SLF001
            cond._release_save,  # type: ignore[attr-defined]  # noqa: SLF001
            cond._acquire_restore,  # type: ignore[attr-defined]  # noqa: SLF001
            cond._waiters,  # type: ignore[attr-defined]  # noqa: SLF001
        )
    except AttributeError:
        raise TypeError(
            f"FakeClock can only wait on a threading.Condition, not {type(cond).__name__}"
        ) from None
    return cast("tuple[Any, Any, Any, deque[Any]]", parts)


DEFAULT_IDLE_TIMEOUT = 2.0
"""Real seconds a `FakeClock` may be idle (every participant blocked, nothing happening)."""

_IDLE_POLL = 0.05


def _check_seconds(what: str, seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"{what} must be a number of seconds, got {seconds!r}")
    value = float(seconds)
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{what} must be a finite, non-negative number of seconds, got {seconds!r}"
        )
    return value


class FakeClock:
    """Time that moves only when a test moves it, or jumps when every participant waits.

    Args:
        start: The time `monotonic` returns at first.
        autojump: Jump to the earliest pending deadline whenever every
            participating thread is blocked on the clock (see `participant`).
        stall_timeout: Real seconds a thread may stay blocked on the clock
            before it raises `kwait.errors.ClockStallError` (a `TimeoutError`)
            with a description of the clock (who is still running, what is
            pending) instead of hanging; None (the default) sets no such limit.
        idle_timeout: Real seconds the clock may stay *idle* before a blocked
            participant raises `kwait.errors.ClockStallError`: idle means
            every participant is blocked on the clock and nothing happens to
            it (no ``advance``, no jump, no wake-up, no notify). Nothing inside
            the test can end such a wait, so it would hang forever: a lone
            ``FakeClock().sleep(5)`` without autojump, or a tracker's wait on
            a clock that nobody advances. The default is 2 seconds; a thread
            outside the participants that advances the clock now and then
            keeps it from being idle. None turns the check off.
        io_grace: Real seconds a participant must have been waiting on I/O
            (inside `io_wait`) before autojump counts it as blocked.

    Participants are the thread that created the clock and every thread inside
    ``with clock.participant():``. A participant that is running (not blocked
    in `sleep`, `wait` or `wait_for`) holds time still; threads that do not
    participate never hold it, although their deadlines are jumped to like
    anyone's. A thread woken by a ``notify()`` counts as running from the
    moment of the notify. An asyncio event loop's thread (see `kwait.asyncio`)
    counts as blocked while kwait coroutines wait on the clock in it and the
    loop has nothing else ready to run.

    A participant that waits for I/O (a tracker reading its watch stream from
    a server on the same clock) declares it with ``with clock.io_wait():``. It
    then does not hold time still: once it has waited `io_grace` real seconds
    with nothing arriving, autojump treats it as blocked. The grace lets bytes
    already on their way (an event the server has just written) arrive first.

    >>> clock = FakeClock()
    >>> clock.advance(2.5)
    >>> clock.monotonic()
    2.5
    >>> jumping = FakeClock(autojump=True)
    >>> jumping.sleep(300)  # returns at once: the only participant is blocked
    >>> jumping.monotonic()
    300.0
    """

    def __init__(
        self,
        start: float = 0.0,
        *,
        autojump: bool = False,
        stall_timeout: float | None = None,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        io_grace: float = 0.05,
    ) -> None:
        """Create a clock reading `start`, owned by (and counting) the calling thread."""
        if isinstance(start, bool) or not isinstance(start, int | float):
            raise TypeError(f"start= takes a number of seconds, got {start!r}")
        if not math.isfinite(start):
            raise ValueError(f"start must be a finite number of seconds, got {start!r}")
        if not isinstance(autojump, bool):
            raise TypeError(f"autojump= takes True or False, got {autojump!r}")
        if stall_timeout is not None:
            _check_seconds("stall_timeout", stall_timeout)
        if idle_timeout is not None:
            _check_seconds("idle_timeout", idle_timeout)
        self._idle_timeout = idle_timeout
        self._activity = 0  # bumped by everything that could end a wait
        self._creator = threading.current_thread()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._now = float(start)
        self._autojump = autojump
        self._stall_timeout = stall_timeout
        self._heap: list[tuple[float, int, _Waiter | _AsyncTicket]] = []
        self._async: list[_AsyncWait] = []
        self._order = itertools.count()
        self._blocked: dict[threading.Thread, _Waiter] = {}
        creator = _Participation(self)
        creator.thread = threading.current_thread()
        creator.entered = True
        self._participants: list[_Participation] = [creator]
        self._jumps = 0
        self._io_grace = _check_seconds("io_grace", io_grace)
        self._io: dict[threading.Thread, float] = {}

    # ------------------------------------------------------------------ reading
    def monotonic(self) -> float:
        """Return the current fake time in seconds."""
        with self._lock:
            return self._now

    @property
    def autojump(self) -> bool:
        """Whether time jumps when every participant is blocked; settable."""
        return self._autojump

    @autojump.setter
    def autojump(self, value: bool) -> None:
        with self._lock:
            self._autojump = value
            self._jump_if_idle()

    @property
    def jumps(self) -> int:
        """How many times autojump has moved time so far."""
        with self._lock:
            return self._jumps

    @property
    def blocked(self) -> int:
        """How many threads are blocked on this clock right now."""
        with self._lock:
            return self._parked_count()

    def _parked_count(self) -> int:
        return sum(1 for w in self._blocked.values() if w.state is _State.PARKED) + sum(
            1
            for a in self._async
            if a.ticket is not None and a.ticket.state is _State.PARKED and a.ticket.settled
        )

    def pending(self) -> list[float]:
        """Return the deadlines threads are blocked on, earliest first.

        Waits with no timeout are blocked too, but have no deadline to list.

        >>> FakeClock().pending()
        []
        """
        with self._lock:
            return self._pending()

    def _pending(self) -> list[float]:
        parked: list[_Waiter | _AsyncTicket] = list(self._blocked.values())
        parked += [a.ticket for a in self._async if a.ticket is not None]
        return sorted(
            w.deadline for w in parked if w.state is _State.PARKED and w.deadline != math.inf
        )

    def __repr__(self) -> str:
        """Show the time, the mode, and who is waiting for what."""
        with self._lock:
            running = self._running_participants()
            return (
                f"FakeClock(now={self._now!r}, autojump={self._autojump}, "
                f"pending={self._pending()!r}, running participants={running!r})"
            )

    # ------------------------------------------------------------------ moving time
    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` and wake every waiter whose deadline passed.

        >>> clock = FakeClock(start=10.0)
        >>> clock.advance(0.5)
        >>> clock.monotonic()
        10.5
        """
        step = _check_seconds("advance", seconds)
        with self._lock:
            self._activity += 1
            self._now += step
            self._fire_due()
            self._jump_if_idle()
            self._changed.notify_all()

    def wait_for_blocked(self, count: int = 1, *, timeout: float = 10.0) -> bool:
        """Block in *real* time until at least `count` threads are blocked on the clock.

        A handshake for tests that move time by hand: start a thread that
        sleeps on the clock, wait until it is blocked, then `advance`. The
        calling thread counts as running meanwhile, so autojump does not jump.
        Returns False if `timeout` real seconds pass first.
        """
        with self._changed:
            return self._changed.wait_for(lambda: self._parked_count() >= count, timeout)

    # ------------------------------------------------------------------ the Clock protocol
    def sleep(self, seconds: float) -> None:
        """Block the calling thread until the fake time has moved `seconds` forward."""
        delay = _check_seconds("sleep length", seconds)
        if delay == 0:
            return
        self._block(delay, None)

    def wait(self, cond: threading.Condition, timeout: float | None) -> bool:
        """Wait on `cond` (whose lock the caller holds) for at most `timeout` fake seconds.

        The semantics of `threading.Condition.wait`: the lock is released while
        waiting and held again on return; returns True when notified, False
        when the timeout passed. `None` waits until notified.
        """
        is_owned = _condition_internals(cond)[0]
        if not is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        if timeout is not None:
            if math.isnan(timeout):
                raise ValueError("timeout must be a number of seconds or None, got nan")
            if timeout <= 0:
                return False
        return self._block(math.inf if timeout is None else float(timeout), cond)

    def wait_for(
        self,
        cond: threading.Condition,
        predicate: Callable[[], bool],
        timeout: float | None,
    ) -> bool:
        """Wait until `predicate()` is true or `timeout` fake seconds pass; return its last value.

        The semantics of `threading.Condition.wait_for`, on fake time: the
        predicate is checked first, and again after every wake-up.
        """
        result = predicate()
        if timeout is not None and timeout <= 0:
            return result
        end: float | None = None
        remaining = timeout
        while not result:
            if remaining is not None:
                if end is None:
                    end = self.monotonic() + remaining
                else:
                    remaining = end - self.monotonic()
                    if remaining <= 0:
                        break
            self.wait(cond, remaining)
            result = predicate()
        return result

    @contextmanager
    def io_wait(self) -> Iterator[None]:
        """Mark the calling thread as waiting for I/O (a socket read) while inside.

        A participant blocked in a read would otherwise hold time still, and a
        server on the same clock would never reach the moment it is due to
        send what the reader waits for. Inside, after `io_grace` real
        seconds, autojump counts the thread as blocked.

        >>> clock = FakeClock(autojump=True)
        >>> with clock.io_wait():
        ...     pass
        """
        me = threading.current_thread()
        with self._lock:
            self._io[me] = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self._io.pop(me, None)

    def io_delivered(self) -> None:
        """Say that data was just sent to readers on this clock: their grace starts again.

        A server on the clock calls it after each write, so that a reader which
        had been waiting longer than `io_grace` is not counted as blocked while
        the bytes it waits for are on their way.

        >>> FakeClock().io_delivered()
        """
        with self._lock:
            now = time.monotonic()
            for thread in self._io:
                self._io[thread] = now

    def _idle_on_io(self, thread: threading.Thread) -> bool:
        since = self._io.get(thread)
        return since is not None and time.monotonic() - since >= self._io_grace

    def participant(self) -> AbstractContextManager[None]:
        """Count the thread that enters the returned context manager as a participant.

        Autojump waits for every participant to block on the clock. The
        participation starts when this is *called*: a thread may call it and
        hand the result to a thread it starts, which enters it first thing, so
        that time cannot jump while the new thread is still starting up.

        >>> clock = FakeClock(autojump=True)
        >>> with clock.participant():
        ...     clock.sleep(1)
        >>> clock.monotonic()
        1.0
        """
        token = _Participation(self)
        with self._lock:
            self._participants.append(token)
        return token

    def _enter(self, token: _Participation) -> None:
        with self._lock:
            if token.entered:
                raise RuntimeError("a FakeClock participant can be entered only once")
            token.thread = threading.current_thread()
            token.entered = True

    def _leave(self, token: _Participation) -> None:
        with self._lock:
            token.exited = True
            self._activity += 1
            if token in self._participants:
                self._participants.remove(token)
            self._jump_if_idle()
            self._changed.notify_all()

    # ------------------------------------------------------------------ internals
    def _block(self, timeout: float, cond: threading.Condition | None) -> bool:
        """Park the calling thread until its deadline or a notify; True if notified."""
        me = threading.current_thread()
        internals = None if cond is None else _condition_internals(cond)
        with self._lock:
            if me in self._blocked:  # pragma: no cover - a thread blocks in one place at a time
                raise RuntimeError(f"{me.name} is already blocked on this clock")
            waiter = _Waiter(self, self._now + timeout, me)
            self._blocked[me] = waiter
            self._activity += 1
            if waiter.deadline != math.inf:
                heapq.heappush(self._heap, (waiter.deadline, next(self._order), waiter))
            self._fire_due()
            self._jump_if_idle()
            self._changed.notify_all()
        saved: Any = None
        if internals is not None:
            _, release_save, _, waiters = internals
            waiters.append(waiter)
            saved = release_save()
        stalled: str | None = None
        try:
            stalled = self._park(waiter)
        finally:
            if internals is not None:
                _, _, acquire_restore, waiters = internals
                acquire_restore(saved)
                with suppress(ValueError):
                    waiters.remove(waiter)
            with self._lock:
                if waiter.state is _State.PARKED:  # interrupted (KeyboardInterrupt, stall)
                    waiter.state = _State.CANCELLED
                del self._blocked[me]
                self._changed.notify_all()
        if stalled is not None:
            raise ClockStallError(stalled)
        return waiter.state is _State.NOTIFIED

    def _park(self, waiter: _Waiter) -> str | None:
        """Wait for the waiter's wake-up; a description if it stalled or the clock went idle.

        In autojump mode it wakes every `io_grace / 2` real seconds, to jump once
        a thread waiting on I/O (see `io_wait`) counts as blocked.
        """
        # Only the clock's creator (or, once it is gone, anyone) watches for idleness, so
        # that a clock with many parked threads does not wake them all to poll.
        watch_idle = self._idle_timeout is not None and (
            waiter.thread is self._creator or not self._creator.is_alive()
        )
        if self._stall_timeout is None and not watch_idle and not self._autojump:
            waiter.park.acquire()
            return None
        stall_at = None if self._stall_timeout is None else time.monotonic() + self._stall_timeout
        idle_since: tuple[int, float] | None = None
        while True:
            slice_ = _IDLE_POLL if watch_idle else -1.0
            if self._autojump:
                # Parked before a thread began waiting on I/O is parked all the same: poll.
                half = self._io_grace / 2
                slice_ = half if slice_ < 0 else min(slice_, half)
            if stall_at is not None:
                left = max(0.0, stall_at - time.monotonic())
                slice_ = left if slice_ < 0 else min(slice_, left)
            if waiter.park.acquire(timeout=slice_):
                return None
            now = time.monotonic()
            if stall_at is not None and now >= stall_at:
                return self._stall(waiter)
            if self._autojump and not self._jump_while_parked(waiter):
                return None
            if watch_idle:
                idle_since, stalled = self._watch_idle(waiter, idle_since, now)
                if stalled is not None:
                    return stalled

    def _jump_while_parked(self, waiter: _Waiter) -> bool:
        """Autojump from a parked thread (a thread on I/O may now count as blocked).

        False when the waiter was woken meanwhile.
        """
        with self._lock:
            if waiter.state is not _State.PARKED:
                return False
            self._jump_if_idle()
            self._changed.notify_all()
            return True

    def _watch_idle(
        self, waiter: _Waiter, idle_since: tuple[int, float] | None, now: float
    ) -> tuple[tuple[int, float] | None, str | None]:
        """Track how long the clock has been idle; the stall message once it is too long."""
        if self._idle_timeout is None:
            return None, None
        with self._lock:
            idle = self._idle_here(waiter)
            activity = self._activity
        if not idle:
            return None, None
        if idle_since is None or idle_since[0] != activity:
            return (activity, now), None
        if now - idle_since[1] >= self._idle_timeout:
            return idle_since, self._stall(waiter, idle=True)
        return idle_since, None

    def _idle_here(self, waiter: _Waiter) -> bool:
        """True when every participant is blocked, so only another thread could end the wait.

        Only the creator of the clock reports it (if it is blocked too), so that the
        error surfaces in the test's own thread rather than in a background one.
        """
        if waiter.state is not _State.PARKED or not self._all_participants_blocked():
            return False
        return waiter.thread is self._creator or not self._creator.is_alive()

    def _stall(self, waiter: _Waiter, *, idle: bool = False) -> str | None:
        """Describe a wait that stalled (or a clock gone idle), or None if it just woke."""
        with self._lock:
            if waiter.state is not _State.PARKED:
                return None
            running = self._running_participants()
            pending = self._pending()
            waiter.state = _State.CANCELLED
            until = "a notify" if waiter.deadline == math.inf else f"fake time {waiter.deadline!r}"
            state = (
                f"the clock reads {self._now!r}, autojump is "
                f"{'on' if self._autojump else 'off'}, participants still running: {running}, "
                f"pending deadlines: {pending}"
            )
            if idle:
                hint = (
                    "call clock.advance(...) from another thread, or use FakeClock(autojump=True)"
                    if not self._autojump
                    else "nothing is pending that a jump could reach"
                )
                return (
                    f"{waiter.thread.name} waits on a FakeClock for {until}, but every "
                    f"participant has been blocked on the clock for {self._idle_timeout} s of "
                    f"real time with nothing advancing it: this wait would never end ({hint}); "
                    f"{state}"
                )
            return (
                f"{waiter.thread.name} waited {self._stall_timeout} s of real time on "
                f"a FakeClock for {until}; {state}"
            )

    def _wake(self, waiter: _Waiter | _AsyncTicket) -> None:
        """A ``notify()`` reached `waiter`: it counts as running from now on."""
        with self._lock:
            if waiter.state is _State.PARKED:
                self._activity += 1
                waiter.state = _State.NOTIFIED
                waiter.unpark()
                self._changed.notify_all()

    # ------------------------------------------------------------------ asyncio waits
    def _async_wait(self) -> _AsyncWait:
        """Register a coroutine's wait in the calling thread (its event loop's thread).

        Used by kwait's asyncio face (`kwait.asyncio`); close it when the wait ends.
        """
        wait = _AsyncWait(self, threading.current_thread())
        with self._lock:
            self._async.append(wait)
        return wait

    def _async_park(
        self, wait: _AsyncWait, timeout: float | None, wake: Callable[[], None]
    ) -> _AsyncTicket:
        with self._lock:
            if wait.ticket is not None and wait.ticket.state is _State.PARKED:
                raise RuntimeError("this asyncio wait is already parked on the clock")
            deadline = math.inf if timeout is None else self._now + max(0.0, timeout)
            ticket = _AsyncTicket(wait, deadline)
            wait.ticket = ticket
            wait.wake = wake
            if deadline != math.inf:
                heapq.heappush(self._heap, (deadline, next(self._order), ticket))
            self._fire_due()
            self._jump_if_idle()
            self._changed.notify_all()
            return ticket

    def _async_settle(self, ticket: _AsyncTicket) -> None:
        with self._lock:
            if ticket.state is _State.PARKED and not ticket.settled:
                ticket.settled = True
                self._jump_if_idle()
                self._changed.notify_all()

    def _async_unpark(self, wait: _AsyncWait) -> None:
        with self._lock:
            ticket = wait.ticket
            if ticket is not None and ticket.state is _State.PARKED:
                ticket.state = _State.CANCELLED
            wait.ticket = None
            wait.wake = _nothing
            self._changed.notify_all()

    def _async_end(self, wait: _AsyncWait) -> None:
        with self._lock:
            ticket = wait.ticket
            if ticket is not None and ticket.state is _State.PARKED:
                ticket.state = _State.CANCELLED
            wait.ticket = None
            wait.wake = _nothing
            if wait in self._async:
                self._async.remove(wait)
            self._jump_if_idle()
            self._changed.notify_all()

    def _thread_blocked(self, thread: threading.Thread) -> bool:
        """True when `thread` is parked on the clock, or waits only in parked async waits."""
        waiter = self._blocked.get(thread)
        if waiter is not None:
            return waiter.state is _State.PARKED
        waits = [a for a in self._async if a.thread is thread]
        return bool(waits) and all(
            a.ticket is not None and a.ticket.state is _State.PARKED and a.ticket.settled
            for a in waits
        )

    def _fire_due(self) -> None:
        """Wake every parked waiter whose deadline is not after now (lock held)."""
        heap = self._heap
        while heap and heap[0][0] <= self._now:
            waiter = heapq.heappop(heap)[2]
            if waiter.state is _State.PARKED:
                waiter.state = _State.TIMED_OUT
                waiter.unpark()

    def _running_participants(self) -> list[str]:
        """Name the participants not blocked on the clock (lock held)."""
        running: list[str] = []
        for token in self._participants:
            thread = token.thread
            if thread is None:
                running.append("<participant not entered yet>")
                continue
            if not thread.is_alive():
                continue
            if thread in self._io:
                running.append(f"{thread.name} (waiting on I/O)")
            elif not self._thread_blocked(thread):
                running.append(thread.name)
        return running

    def _all_participants_blocked(self) -> bool:
        for token in self._participants:
            thread = token.thread
            if thread is None:
                return False
            if (
                not self._thread_blocked(thread)
                and thread.is_alive()
                and not self._idle_on_io(thread)
            ):
                return False
        return True

    def _jump_if_idle(self) -> None:
        """In autojump mode, jump while every participant is blocked (lock held)."""
        if not self._autojump:
            return
        heap = self._heap
        while self._all_participants_blocked():
            while heap and heap[0][2].state is not _State.PARKED:
                heapq.heappop(heap)
            if not heap:
                return
            target = heap[0][0]
            if target > self._now:
                self._now = target
                self._jumps += 1
                self._activity += 1
            self._fire_due()
