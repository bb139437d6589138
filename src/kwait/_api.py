"""The one-call forms: track, act, and judge in a single call.

Each function here starts a `Tracker` (or uses a running one), fixes the baseline,
runs the test's action, and hands over to the judging loops in `kwait._verdict`.
They sit above the tracker, as httpx's ``_api.py`` sits over its client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from kwait._match.pattern import PatternLike
from kwait._match.states import State
from kwait._time.deadline import Deadline, Timeout, as_deadline
from kwait._tracker import Tracker, TrackOptions
from kwait._verdict.judge import (
    DEFAULT_TIMEOUT,
    Baseline,
    Condition,
    all_of,
    tracker_consistently,
    tracker_expect_count,
    tracker_expect_transitions,
    tracker_never,
    tracker_wait_for,
)
from kwait._watch.timeline import Identity, Timeline

__all__ = [
    "Target",
    "expect_consistently",
    "expect_count",
    "expect_never",
    "expect_transitions",
    "wait_for",
]

Target = Tracker | str | Mapping[str, Any] | None
"""What a one-call expectation runs on: a running `Tracker`, or what to track
(None with ``source=``)."""


class _Session:
    """Use a given tracker or start one; take the baseline; run the test's action."""

    def __init__(
        self,
        target: Target,
        name: str | None,
        options: TrackOptions,
        act: Callable[[], object] | None,
        timeout: Timeout | None = None,
    ) -> None:
        if act is not None and not callable(act):
            raise TypeError(
                f"act= takes a function to call once tracking has started, got {act!r}; "
                "did you call it? Pass `act=create_pod`, or `act=lambda: create_pod(...)`"
            )
        if isinstance(target, Tracker):
            if options:
                raise TypeError(
                    f"tracker options {sorted(options)} cannot apply to a tracker already running"
                )
            self.tracker = target
            self.owned = False
        else:
            self.tracker = Tracker(target, name, **options)
            self.owned = True
        self.act = act
        # One deadline for the whole call: resolving, connecting, listing and waiting.
        self.deadline: Deadline | None = (
            None if timeout is None else as_deadline(timeout, clock=self.tracker.clock)
        )

    @property
    def timeout(self) -> Timeout:
        """What the judging loop waits for: the call's deadline (what is left of it)."""
        return self.deadline if self.deadline is not None else DEFAULT_TIMEOUT

    def __enter__(self) -> tuple[Tracker, Baseline]:
        """Start tracking (if ours), fix the baseline, then act: nothing it causes is missed."""
        if self.owned:
            deadline = self.deadline
            if deadline is None or not 0 < deadline.remaining() < float("inf"):
                self.tracker.start()  # the start_timeout bounds it; the wait is separate
            else:
                self.tracker._start(deadline, keep_bound=True)  # noqa: SLF001 - our own layer
        try:
            base = Baseline.now(self.tracker)
            if self.act is not None:
                self.act()
        except BaseException:
            # `with` does not call __exit__ when __enter__ raises: stop here, or the
            # tracker's thread and watch would outlive a failing action.
            self.__exit__()
            raise
        return self.tracker, base

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            self.tracker.stop()


def expect_transitions(
    target: Target,
    name: str | None = None,
    *,
    state: State | Callable[[Any], Any],
    pattern: PatternLike,
    act: Callable[[], object] | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    **options: Unpack[TrackOptions],
) -> Timeline:
    """Assert the path an object takes through its states, in one call.

    `target` is a running `kwait.Tracker`, or what to track (a resource name or
    an object, with `name` and `kwait.Tracker`'s options such as ``namespace=``
    and ``api_client=``): then tracking starts first, `act` (if given) runs,
    and the object's states are matched online against `pattern`. Returns the
    object's `kwait.Timeline` the moment the pattern matches. Raises
    `kwait.errors.TransitionMismatchError` the moment it no longer can,
    `kwait.errors.UndecidableError` when the answer depends on a gap, and
    `kwait.WaitTimeoutError` at the deadline.

    Example::

        kwait.expect_transitions(
            "pods", "virt-launcher", namespace="ci",
            state=kwait.states.waiting_reason(),
            pattern=["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"],
            act=lambda: create_vm_with_bad_image(),
            timeout=120,
        )
    """
    __tracebackhide__ = True
    session = _Session(target, name, options, act, timeout)
    with session as (tracker, _):
        return tracker_expect_transitions(
            tracker, state, pattern, name=name, timeout=session.timeout
        )


def wait_for(
    target: Target,
    name: str | None = None,
    *,
    until: Condition | Sequence[Condition],
    act: Callable[[], object] | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    **options: Unpack[TrackOptions],
) -> list[Timeline]:
    """Wait until the target satisfies `until`, as ``kubectl wait --for=...`` does.

    `until` is a ``--for`` value (``"delete"``, ``"create"``, ``"condition=Ready"``,
    ``"condition=Ready=false"``, ``"jsonpath={.status.phase}=Running"``), a
    predicate (``kwait.states.condition("Ready")``, any callable on the raw object), or
    a list of them, all of which must hold. ``timeout=0`` checks once; a shared
    `kwait.Deadline` spends one budget across several waits. Returns the
    targets' timelines; raises `kwait.WaitTimeoutError` (with the story) or
    `kwait.errors.TransitionMismatchError` when the object was deleted or reached a
    terminal state first.
    """
    __tracebackhide__ = True
    condition = all_of(until)
    session = _Session(target, name, options, act, timeout)
    with session as (tracker, base):
        return tracker_wait_for(
            tracker, condition, name=name, timeout=session.timeout, baseline=base
        )


def expect_never(
    target: Target,
    name: str | None = None,
    *,
    condition: Condition,
    during: Timeout,
    act: Callable[[], object] | None = None,
    **options: Unpack[TrackOptions],
) -> None:
    """Assert `condition` holds for no target from now until `during` runs out.

    Fails with `kwait.errors.NeverViolatedError` on the first violating event, not at
    the end of the window.
    """
    __tracebackhide__ = True
    with _Session(target, name, options, act) as (tracker, base):
        tracker_never(tracker, condition, during=during, name=name, baseline=base)


def expect_consistently(
    target: Target,
    name: str | None = None,
    *,
    condition: Condition,
    during: Timeout,
    act: Callable[[], object] | None = None,
    **options: Unpack[TrackOptions],
) -> None:
    """Assert `condition` holds for every target from now until `during` runs out.

    Fails with `kwait.errors.NeverViolatedError` on the first violating event
    (a deletion violates it too).
    """
    __tracebackhide__ = True
    with _Session(target, name, options, act) as (tracker, base):
        tracker_consistently(tracker, condition, during=during, name=name, baseline=base)


def expect_count(
    target: Target,
    name: str | None = None,
    *,
    changes: Any,
    exactly: int | None = None,
    at_least: int | None = None,
    at_most: int | None = None,
    act: Callable[[], object] | None = None,
    **options: Unpack[TrackOptions],
) -> dict[Identity, int]:
    """Assert how many times objects changed: "each pod updated exactly once".

    With a running tracker, counts over everything it recorded so far; in the
    one-call form, over what happens while `act` runs. `changes` is a
    `kwait.Changes` (``Changes.generation()``, ``Changes.restarts()``,
    ``Changes.of(state or path)``) or a state function / field path. Raises
    `kwait.errors.CountMismatchError` naming every object that changed too often or
    too rarely, with its timeline.
    """
    __tracebackhide__ = True
    with _Session(target, name, options, act) as (tracker, _):
        tracker.sync()  # count what act caused, including writes still in flight
        return tracker_expect_count(
            tracker, changes, exactly=exactly, at_least=at_least, at_most=at_most, name=name
        )
