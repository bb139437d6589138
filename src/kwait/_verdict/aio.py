"""Carry out a judging plan on an asyncio event loop, never blocking it.

The same plans `kwait._verdict.judge.run_blocking` runs in a thread: a `Wait`
becomes an await on the recorder's condition (`kwait._time.aio.wait_for`: the
engine thread's notify schedules the coroutine, the deadline is on the
tracker's clock), a `Call` (network I/O such as the Events for a report) runs
in a worker thread. Cancelling the coroutine closes the plan and removes every
waker and timer; the tracker goes on recording.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from kwait._time.aio import wait_for
from kwait._verdict.judge import Plan, Subject, Wait

__all__ = ["run_async"]

T = TypeVar("T")


async def run_async(tracker: Subject, plan: Plan[T]) -> T:
    """Carry out `plan` for `tracker` on the running event loop."""
    __tracebackhide__ = True
    recorder = tracker.recorder
    clock = tracker.clock
    try:
        request = next(plan)
        while True:
            if isinstance(request, Wait):
                reply: Any = await wait_for(
                    clock, recorder.condition, request.ready, request.timeout
                )
            else:
                reply = await asyncio.to_thread(request.call)
            request = plan.send(reply)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    finally:
        plan.close()
