"""Waiting on a clock from a coroutine, without blocking the event loop.

`wait_for` is `kwait.Clock.wait_for` for asyncio: it waits until a predicate
over state guarded by a `threading.Condition` holds, or a timeout passes on
the clock, while the event loop goes on running other tasks.

How a coroutine learns about a notify: it puts a *waker* into the condition's
waiter queue, exactly where `threading.Condition.wait` puts its lock (and where
`FakeClock` puts its waiters). The notifying thread calls the waker's
``release()``, which schedules the coroutine with
``loop.call_soon_threadsafe``; it never blocks and never takes a lock the loop
holds. The deadline is a loop timer for `kwait.SystemClock` (whose time is the
loop's), a parked `kwait._time.clock._AsyncWait` for a `FakeClock`, and for any
other clock a short-lived helper thread that waits on the clock for the
coroutine.

With a `FakeClock`, the loop's thread counts as blocked (so autojump may move
time) only while every kwait coroutine of that loop is parked *and* the loop has
nothing else ready to run: a parking is *settled* by one callback per loop that
runs when the loop's ready queue holds nothing but itself. So a test that
gathers several kwait waits, or acts between them, does not see time jump
before all of them are waiting.

Cancelling the coroutine removes the waker, cancels the timer, stops the
helper thread: nothing is left behind.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from contextlib import suppress
from functools import partial

from kwait._time.clock import FakeClock, SystemClock, _AsyncTicket, _condition_internals
from kwait._time.protocol import Clock

__all__ = ["wait_for"]


class _Waker:
    """An entry of a condition's waiter queue that wakes a coroutine."""

    __slots__ = ("_wake",)

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def release(self) -> None:
        """Called by ``Condition.notify`` (in any thread, the condition's lock held)."""
        self._wake()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _wake_from_any_thread(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
    # A loop that is already closed has nobody left to wake.
    with suppress(RuntimeError):
        loop.call_soon_threadsafe(_resolve, future)


class _Settler:
    """Settles a loop's parked fake-clock waits once the loop has nothing else ready to run."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tickets: list[_AsyncTicket] = []
        self._scheduled = False

    def add(self, ticket: _AsyncTicket) -> None:
        """Settle `ticket` when the loop is idle (called on the loop's thread)."""
        self._tickets.append(ticket)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._run)

    def _run(self) -> None:
        # asyncio's own loops keep their due callbacks in `_ready`; where there is none
        # (another loop implementation), one full turn of the loop has to do.
        ready = getattr(self._loop, "_ready", None)
        if ready:
            self._loop.call_soon(self._run)
            return
        self._scheduled = False
        tickets, self._tickets = self._tickets, []
        for ticket in tickets:
            ticket.settle()


_SETTLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Settler] = (
    weakref.WeakKeyDictionary()
)


def _settler(loop: asyncio.AbstractEventLoop) -> _Settler:
    settler = _SETTLERS.get(loop)
    if settler is None:
        settler = _SETTLERS[loop] = _Settler(loop)
    return settler


async def wait_for(
    clock: Clock,
    cond: threading.Condition,
    predicate: Callable[[], bool],
    timeout: float | None,
) -> bool:
    """Wait until `predicate()` holds or `timeout` passes on `clock`; return its last value.

    The semantics of `kwait.Clock.wait_for`, except that the caller must *not*
    hold `cond`: it is taken briefly to evaluate the predicate. `predicate` runs
    on the event loop's thread with `cond` held, so it must be quick.
    """
    if isinstance(clock, FakeClock):
        return await _fake_wait(clock, cond, predicate, timeout)
    if isinstance(clock, SystemClock):
        return await _loop_wait(clock, cond, predicate, timeout)
    return await _thread_wait(clock, cond, predicate, timeout)


async def _loop_wait(
    clock: Clock,
    cond: threading.Condition,
    predicate: Callable[[], bool],
    timeout: float | None,
) -> bool:
    """Real time: a waker in the condition's queue, and a loop timer for the deadline."""
    loop = asyncio.get_running_loop()
    waiters = _condition_internals(cond)[3]
    end = None if timeout is None else clock.monotonic() + timeout
    while True:
        future: asyncio.Future[None] = loop.create_future()
        waker = _Waker(partial(_wake_from_any_thread, loop, future))
        with cond:
            result = predicate()
            remaining = None if end is None else end - clock.monotonic()
            if result or (remaining is not None and remaining <= 0):
                return result
            waiters.append(waker)
        timer = None if remaining is None else loop.call_later(remaining, _resolve, future)
        try:
            await future
        finally:
            if timer is not None:
                timer.cancel()
            with cond, suppress(ValueError):
                waiters.remove(waker)


async def _fake_wait(
    clock: FakeClock,
    cond: threading.Condition,
    predicate: Callable[[], bool],
    timeout: float | None,
) -> bool:
    """Fake time: park an `AsyncWait` on the clock; it sits in the condition's queue too."""
    loop = asyncio.get_running_loop()
    waiters = _condition_internals(cond)[3]
    share = clock._async_wait()  # noqa: SLF001 - the clock's asyncio side
    try:
        end: float | None = None
        while True:
            future: asyncio.Future[None] = loop.create_future()
            with cond:
                result = predicate()
                if timeout is not None and end is None:
                    end = clock.monotonic() + timeout
                remaining = None if end is None else end - clock.monotonic()
                if result or (remaining is not None and remaining <= 0):
                    return result
                ticket = share.park(remaining, partial(_wake_from_any_thread, loop, future))
                waiters.append(ticket)
            _settler(loop).add(ticket)
            try:
                await future
            finally:
                share.unpark()
                with cond, suppress(ValueError):
                    waiters.remove(ticket)
    finally:
        share.close()


async def _thread_wait(
    clock: Clock,
    cond: threading.Condition,
    predicate: Callable[[], bool],
    timeout: float | None,
) -> bool:
    """Any other clock: a helper thread waits on it, and is woken if the coroutine is cancelled."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bool] = loop.create_future()
    abandoned = threading.Event()

    def finish(result: bool, error: BaseException | None) -> None:  # noqa: FBT001
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def wait() -> None:
        result, error = False, None
        try:
            with cond:
                clock.wait_for(cond, lambda: abandoned.is_set() or predicate(), timeout)
                result = predicate()
        except BaseException as caught:  # noqa: BLE001 - handed to the coroutine
            error = caught
        with suppress(RuntimeError):  # the loop is gone: nobody waits for the answer
            loop.call_soon_threadsafe(finish, result, error)

    helper = threading.Thread(target=wait, name="kwait-async-clock-wait", daemon=True)
    helper.start()
    try:
        return await future
    finally:
        abandoned.set()
        with cond:
            cond.notify_all()
