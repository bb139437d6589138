"""The one-call forms: track, act, and judge in a single call.

Each function here starts a `Tracker` (or uses a running one), fixes the baseline,
runs the test's action, and hands over to the judging loops in `kwait._verdict`.
They sit above the tracker, as httpx's ``_api.py`` sits over its client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from typing_extensions import Unpack

from kwait._check import ModelObject
from kwait._match.counting import Countable, CountMatcher
from kwait._match.matcher import Matcher
from kwait._match.pattern import PatternLike
from kwait._match.states import State
from kwait._time.deadline import Deadline, Timeout, as_deadline, check_timeout
from kwait._tracker import Tracker, TrackOptions
from kwait._verdict.judge import (
    DEFAULT_TIMEOUT,
    Baseline,
    Condition,
    FailOn,
    Order,
    as_condition,
    check_until,
    tracker_consistently,
    tracker_expect_count,
    tracker_expect_transitions,
    tracker_never,
    tracker_wait_until,
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

Target = Tracker | str | Mapping[str, Any] | ModelObject | None
"""What a one-call expectation runs on: a running `Tracker`, or what to track
(None with ``source=``)."""


def check_act(act: object) -> None:
    """Refuse an `act=` that is not callable (usually: called instead of passed)."""
    if act is not None and not callable(act):
        raise TypeError(
            f"act= takes a function to call once tracking has started, got {act!r}; "
            "did you call it? Pass `act=create_pod`, or `act=lambda: create_pod(...)`"
        )


def tracker_for(target: Target, name: str | None, options: TrackOptions) -> tuple[Tracker, bool]:
    """The running tracker `target` is, or a new one it describes; and whether it is ours."""
    if isinstance(target, Tracker):
        target._require_started("the one-call form")  # noqa: SLF001 - same package
        if options:
            raise TypeError(
                f"tracker options {sorted(options)} cannot apply to a tracker already running"
            )
        return target, False
    return Tracker(target, name, **options), True


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
        check_act(act)
        self.tracker, self.owned = tracker_for(target, name, options)
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
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
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
    `kwait.WaitTimeoutError` at the deadline. `fail_on` (failure signs,
    ``--for`` forms, predicates; any one) and `fail_fast` (the `kwait.signs`
    that cannot clear by themselves) stop it at the first sign with
    `kwait.errors.FailureSignError`.

    Example::

        kwait.expect_transitions(
            "pods", "virt-launcher", namespace="ci",
            state=kwait.states.waiting_reason(),
            pattern=["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"],
            act=lambda: create_vm_with_bad_image(),
            timeout=120,
        )

    With a scripted source (``None`` target, ``source=``), as a unit test would:

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
    >>> timeline = kwait.expect_transitions(
    ...     None, source=source, clock=clock,
    ...     state=kwait.states.phase(), pattern=["Pending", "Running"])
    >>> [o.resource_version for o in timeline.observations]
    ['1', '2']
    """
    __tracebackhide__ = True
    Matcher(state, pattern)  # refuse a bad state function or pattern before anything starts
    check_timeout(timeout)
    session = _Session(target, name, options, act, timeout)
    with session as (tracker, _):
        return tracker_expect_transitions(
            tracker,
            state,
            pattern,
            name=name,
            timeout=session.timeout,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )


def wait_for(
    target: Target,
    name: str | None = None,
    *,
    until: Condition | Sequence[Condition],
    act: Callable[[], object] | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    order: Order | None = None,
    follow_replacement: bool = False,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
    **options: Unpack[TrackOptions],
) -> list[Timeline]:
    """Wait until the target satisfies `until`, as ``kubectl wait --for=...`` does.

    `until` is a ``--for`` value (``"delete"``, ``"create"``, ``"condition=Ready"``,
    ``"condition=Ready=false"``, ``"jsonpath={.status.phase}=Running"``), a
    predicate (``kwait.states.condition("Ready")``, any callable on the raw object), or
    a list of them. A list is waited for in `order`: ``"sequence"`` (each
    condition in turn, from the moment the previous one held, as several
    ``kubectl wait --for`` flags are) or ``"together"`` (all hold at once); by
    default a list of kubectl strings is a sequence and any other list is
    together. ``timeout=0`` checks once; a shared `kwait.Deadline` spends one
    budget across several waits. With `follow_replacement`, a named object
    deleted during the wait is followed to the next object of that name (as
    kubectl does, for StatefulSet pods) instead of failing the wait. Returns the
    targets' timelines; raises `kwait.WaitTimeoutError` (with the story) or
    `kwait.errors.TransitionMismatchError` when the object was deleted or reached a
    terminal state first, or `kwait.errors.FailureSignError` at the first
    failure sign of `fail_on` (signs, ``--for`` forms, predicates; any one) or,
    with `fail_fast` (default: ``KWAIT_FAIL_FAST``), of the `kwait.signs` that
    cannot clear by themselves; ``kwait.states.either(...)`` as `until` is "any of
    them", and its ``which(timeline)`` says which one held.

    With a scripted source (``None`` target, ``source=``), as a unit test would:

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
    >>> [timeline] = kwait.wait_for(None, source=source, clock=clock, until="condition=Ready")
    >>> print(timeline.identity)
    pod/ci/web-0 (uid u1)
    """
    __tracebackhide__ = True
    check_until(until, order)  # refuse bad input before anything starts
    check_timeout(timeout)
    session = _Session(target, name, options, act, timeout)
    with session as (tracker, base):
        return tracker_wait_until(
            tracker,
            until,
            order=order,
            name=name,
            timeout=session.timeout,
            baseline=base,
            follow_replacement=follow_replacement,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )


def expect_never(
    target: Target,
    name: str | None = None,
    *,
    condition: Condition,
    during: Timeout,
    act: Callable[[], object] | None = None,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
    **options: Unpack[TrackOptions],
) -> None:
    """Assert `condition` holds for no target from now until `during` runs out.

    Fails with `kwait.errors.NeverViolatedError` on the first violating event, not at
    the end of the window; with `kwait.errors.FailureSignError` at the first sign of
    `fail_on` (or, with an explicit ``fail_fast=True``, of the `kwait.signs` that
    cannot clear; the ``KWAIT_FAIL_FAST`` default does not apply to windows).

    With a scripted source; the fake clock makes the 60 s pass at once:

    >>> import kwait
    >>> from kwait.testing import FakeClock, Hang, ScriptedSource, event
    >>> def pod(rv, phase, ready="False"):
    ...     return {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "ci", "uid": "u1",
    ...             "resourceVersion": rv}, "status": {"phase": phase,
    ...             "conditions": [{"type": "Ready", "status": ready}]}}
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock, "pods/web-0 in ci")
    >>> source.add_list([pod("1", "Running", "True")], "1")
    >>> source.add_watch(Hang())
    >>> kwait.expect_never(None, source=source, clock=clock,
    ...                    condition="jsonpath={.status.phase}=Failed", during=60)
    >>> clock.monotonic()
    60.0
    """
    __tracebackhide__ = True
    as_condition(condition)
    check_timeout(during, "during", finite=True)
    with _Session(target, name, options, act) as (tracker, base):
        tracker_never(
            tracker,
            condition,
            during=during,
            name=name,
            baseline=base,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )


def expect_consistently(
    target: Target,
    name: str | None = None,
    *,
    condition: Condition,
    during: Timeout,
    act: Callable[[], object] | None = None,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
    **options: Unpack[TrackOptions],
) -> None:
    """Assert `condition` holds for every target from now until `during` runs out.

    Fails with `kwait.errors.NeverViolatedError` on the first violating event
    (a deletion violates it too); `fail_on` and `fail_fast` as in `expect_never`.

    With a scripted source; the fake clock makes the 60 s pass at once:

    >>> import kwait
    >>> from kwait.testing import FakeClock, Hang, ScriptedSource, event
    >>> def pod(rv, phase, ready="False"):
    ...     return {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "ci", "uid": "u1",
    ...             "resourceVersion": rv}, "status": {"phase": phase,
    ...             "conditions": [{"type": "Ready", "status": ready}]}}
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock, "pods/web-0 in ci")
    >>> source.add_list([pod("1", "Running", "True")], "1")
    >>> source.add_watch(Hang())
    >>> kwait.expect_consistently(None, source=source, clock=clock,
    ...                           condition="condition=Ready", during=60)
    >>> clock.monotonic()
    60.0
    """
    __tracebackhide__ = True
    as_condition(condition)
    check_timeout(during, "during", finite=True)
    with _Session(target, name, options, act) as (tracker, base):
        tracker_consistently(
            tracker,
            condition,
            during=during,
            name=name,
            baseline=base,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )


def expect_count(
    target: Target,
    name: str | None = None,
    *,
    changes: Countable,
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

    With a scripted source (the second LIST answers the final sync):

    >>> import kwait
    >>> from kwait.testing import FakeClock, Hang, ScriptedSource, event
    >>> def pod(rv, phase, ready="False"):
    ...     return {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "ci", "uid": "u1",
    ...             "resourceVersion": rv}, "status": {"phase": phase,
    ...             "conditions": [{"type": "Ready", "status": ready}]}}
    >>> clock = FakeClock(autojump=True)
    >>> source = ScriptedSource(clock, "pods/web-0 in ci")
    >>> source.add_list([pod("1", "Running", "True")], "1")
    >>> source.add_list([pod("1", "Running", "True")], "1")
    >>> source.add_watch(Hang())
    >>> counts = kwait.expect_count(None, source=source, clock=clock,
    ...                             changes=kwait.Changes.restarts(), at_most=0)
    >>> {str(identity): n for identity, n in counts.items()}
    {'pod/ci/web-0 (uid u1)': 0}
    """
    __tracebackhide__ = True
    CountMatcher(changes, exactly=exactly, at_least=at_least, at_most=at_most)
    with _Session(target, name, options, act) as (tracker, _):
        tracker.sync()  # count what act caused, including writes still in flight
        return tracker_expect_count(
            tracker, changes, exactly=exactly, at_least=at_least, at_most=at_most, name=name
        )
