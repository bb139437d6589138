"""The headline API: expectations over a tracker's timelines, decided online.

Every function here reads a `Tracker`'s recorder entry by entry, feeds one
check (a `Matcher` or `CountMatcher`) per object identity, and stops the moment
the answer is certain: passed, impossible (a forbidden state, a deletion, a
terminal state), or undecidable because of a gap. At the deadline a pending
check is closed. Failures raise a `kwait.ExpectationError` whose report joins
the timeline, the pattern's progress, the object's Events and its last state.

Each expectation is written once, as a *plan*: a generator that does the
judging and yields a request whenever it must wait for the recorder (`Wait`)
or make a call that may block on the network (`Call`: a LIST to read what the
server holds, the Events and logs for a report). `run_blocking` carries a plan
out in the calling thread, on the tracker's clock; `kwait._verdict.aio.run_async`
carries the same plan out on an event loop without blocking it. No judging
logic exists twice.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol, TypeVar

from kwait._check import check_name, shown
from kwait._errors import KwaitError
from kwait._match.counting import CountMatcher
from kwait._match.matcher import Matcher
from kwait._match.pattern import Pattern, PatternLike, never
from kwait._match.signs import (
    Hit,
    Sign,
    SignCheck,
    SignLike,
    as_signs,
    defaults_for,
    fail_fast_default,
)
from kwait._match.states import Predicate, State, as_predicate, deleted, parse_for
from kwait._match.verdict import Check, Outcome, Progress, Status
from kwait._time.deadline import Deadline, Timeout, as_deadline, format_seconds
from kwait._time.protocol import Clock
from kwait._verdict.failures import FailureSignError, error_for
from kwait._verdict.report import Report, ReportKind, object_report
from kwait._watch.source import ListResult, WatchSource
from kwait._watch.timeline import Entry, Gap, Identity, Observation, Reconnect, Recorder, Timeline

__all__ = [
    "DEFAULT_TIMEOUT",
    "Baseline",
    "Call",
    "Condition",
    "FailOn",
    "Plan",
    "Request",
    "Subject",
    "Wait",
    "all_of",
    "as_condition",
    "check_until",
    "plan_consistently",
    "plan_expect_count",
    "plan_expect_transitions",
    "plan_never",
    "plan_sync",
    "plan_wait_for",
    "plan_wait_until",
    "run_blocking",
    "tracker_consistently",
    "tracker_expect_count",
    "tracker_expect_transitions",
    "tracker_never",
    "tracker_wait_for",
    "tracker_wait_for_each",
    "tracker_wait_until",
    "wait_order",
]

Condition = str | Predicate | Callable[[Any], Any]
"""What `wait_for` accepts: a kubectl ``--for`` string or a predicate."""

FailOn = SignLike | Iterable[SignLike] | None
"""What ``fail_on=`` accepts: a failure sign, a ``--for`` string, a catalogue name, a
predicate, or several of them (any one ends the wait)."""

DEFAULT_TIMEOUT = 30.0
"""Seconds a wait takes by default, as ``kubectl wait``."""


class Subject(Protocol):
    """What the judging loops need from a tracker (`kwait.Tracker` is one)."""

    @property
    def name(self) -> str | None:
        """The tracked name, or None for a selector."""
        ...

    @property
    def clock(self) -> Clock:
        """The clock every wait reads."""
        ...

    @property
    def recorder(self) -> Recorder:
        """Where the observations are recorded."""
        ...

    def describe(self) -> str:
        """Say what is tracked."""
        ...

    def events_for(self, identity: Identity) -> list[dict[str, Any]]:
        """The object's recent Events, for reports."""
        ...

    @property
    def reads_consistently(self) -> bool:
        """True when a LIST reads what the server holds now (not a scripted source)."""
        ...

    @property
    def source(self) -> WatchSource:
        """The source the tracker LISTs and WATCHes."""
        ...


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Wait:
    """A plan's request: wait on the recorder's condition until `ready()` or `timeout`.

    The reply sent back is the last value of `ready()` (the semantics of
    `kwait.Clock.wait_for`, measured on the tracker's clock).
    """

    ready: Callable[[], bool]
    timeout: float | None


@dataclass(frozen=True, slots=True)
class Call:
    """A plan's request: make a call that may block on I/O; the reply is its result."""

    call: Callable[[], Any]


Request = Wait | Call

Plan = Generator[Request, Any, T]
"""A judging plan: yields requests, receives their replies, returns the result."""


def run_blocking(tracker: Subject, plan: Plan[T]) -> T:
    """Carry out `plan` in the calling thread: waits block it, on the tracker's clock."""
    __tracebackhide__ = True
    recorder = tracker.recorder
    clock = tracker.clock
    try:
        request = next(plan)
        while True:
            if isinstance(request, Wait):
                with recorder.condition:
                    reply: Any = clock.wait_for(recorder.condition, request.ready, request.timeout)
            else:
                reply = request.call()
            request = plan.send(reply)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    finally:
        plan.close()


def _timeout_of(deadline: Deadline) -> float | None:
    """What is left of `deadline` as a wait timeout (None: no limit)."""
    remaining = deadline.remaining()
    return None if math.isinf(remaining) else max(0.0, remaining)


def _as_int(rv: str) -> int:
    """Order resourceVersions as the server does (uint64); unparsable ones sort first."""
    try:
        return int(rv)
    except ValueError:
        return -1


def plan_sync(tracker: Subject, timeout: Timeout = 30.0) -> Plan[None]:
    """The plan behind `kwait.Tracker.sync`: LIST (a `Call`), then wait until caught up."""
    __tracebackhide__ = True
    source = tracker.source
    listed: ListResult = yield Call(source.list)
    want = {head.uid: head.resource_version for head in listed.heads()}
    list_rv = _as_int(listed.resource_version)
    recorder = tracker.recorder

    def caught_up() -> bool:
        for uid, rv in want.items():
            seen = recorder.last_rv(uid)
            if seen is None or _as_int(seen) < _as_int(rv):
                return False
        return all(uid in want or _as_int(rv) > list_rv for uid, rv in recorder.alive().items())

    deadline = as_deadline(timeout, clock=tracker.clock)
    done = yield Wait(lambda: caught_up() or recorder.closed, deadline.timeout())
    if recorder.error is not None:
        raise recorder.error
    if not done or not caught_up():
        raise KwaitError(
            f"tracking {tracker.describe()}: not caught up with resourceVersion "
            f"{listed.resource_version} within {deadline.describe()}"
        )


def _holds(predicate: Predicate) -> Predicate:
    """A pattern element for "the predicate is true", named after it (not "True")."""
    text = predicate.description
    return Predicate(lambda value: value is True, text, name=text)


def _fails(predicate: Predicate) -> Predicate:
    """A pattern element for "the predicate is false, or the object is gone"."""
    text = f"not {predicate.description}"
    return Predicate(lambda value: value is not True, text, name=text, on_deleted=True)


def as_condition(condition: Condition) -> Predicate:
    """Turn a kubectl ``--for`` string or a callable into a `kwait.states.Predicate`."""
    if isinstance(condition, str):
        return parse_for(condition)
    if isinstance(condition, State) and not isinstance(condition, Predicate):
        return as_predicate(condition)  # says to use .equals(value)
    if not callable(condition):
        raise TypeError(
            "until=/condition= takes a kubectl --for string ('condition=Ready', 'delete', "
            "'jsonpath={.status.phase}=Running'), a predicate such as "
            f"kwait.states.condition('Ready'), or a list of them; got {shown(condition)} "
            f"({type(condition).__name__})"
        )
    return as_predicate(condition)


Order = Literal["sequence", "together"]
"""How a list of conditions is waited for: one after another (kubectl), or all at once."""


def wait_order(until: Condition | Sequence[Condition], order: str | None) -> Order:
    """The order a list of conditions is waited in: `order`, or kubectl's for kubectl forms.

    >>> wait_order(["condition=Ready=false", "condition=Ready"], None)
    'sequence'
    >>> wait_order([lambda o: True], None)
    'together'
    """
    if order is not None:
        if order not in ("sequence", "together"):
            raise ValueError(
                f"order= takes 'sequence' (each condition in turn, as kubectl) or 'together' "
                f"(all at once), got {shown(order)}"
            )
        return "sequence" if order == "sequence" else "together"
    if isinstance(until, str) or callable(until):
        return "together"
    items = list(until) if isinstance(until, Sequence) else []
    return "sequence" if items and all(isinstance(c, str) for c in items) else "together"


def tracker_wait_until(
    tracker: Subject,
    until: Condition | Sequence[Condition],
    *,
    order: str | None = None,
    name: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    follow_replacement: bool = False,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> list[Timeline]:
    """Wait for one condition or a list (see `plan_wait_until`), blocking."""
    __tracebackhide__ = True
    plan = plan_wait_until(
        tracker,
        until,
        order=order,
        name=name,
        timeout=timeout,
        baseline=baseline,
        follow_replacement=follow_replacement,
        fail_on=fail_on,
        fail_fast=fail_fast,
    )
    return run_blocking(tracker, plan)


def plan_wait_until(
    tracker: Subject,
    until: Condition | Sequence[Condition],
    *,
    order: str | None = None,
    name: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    follow_replacement: bool = False,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> Plan[list[Timeline]]:
    """`plan_wait_for` for one condition or a list, in the `wait_order` asked for."""
    __tracebackhide__ = True
    check_name("name", name)
    if isinstance(until, str) or callable(until):
        return (
            yield from plan_wait_for(
                tracker,
                until,
                name=name,
                timeout=timeout,
                baseline=baseline,
                follow_replacement=follow_replacement,
                fail_on=fail_on,
                fail_fast=fail_fast,
            )
        )
    if wait_order(until, order) == "sequence":
        return (
            yield from plan_wait_for_each(
                tracker,
                _conditions(until),
                name=name,
                timeout=timeout,
                baseline=baseline,
                follow_replacement=follow_replacement,
                fail_on=fail_on,
                fail_fast=fail_fast,
            )
        )
    return (
        yield from plan_wait_for(
            tracker,
            all_of(until),
            name=name,
            timeout=timeout,
            baseline=baseline,
            follow_replacement=follow_replacement,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )
    )


def check_until(until: Condition | Sequence[Condition], order: str | None = None) -> None:
    """Validate `until` and `order` before anything starts (so no request is made)."""
    wait_order(until, order)
    if isinstance(until, str) or callable(until):
        as_condition(until)
    elif wait_order(until, order) == "together":
        all_of(until)
    else:
        for condition in _conditions(until):
            as_condition(condition)


def _conditions(until: Any) -> list[Condition]:
    if not isinstance(until, list | tuple):
        raise TypeError(
            "until= takes a kubectl --for string, a predicate, or a list of them; got "
            f"{shown(until)} ({type(until).__name__})"
        )
    if not until:
        raise ValueError("until= needs at least one condition, got an empty list")
    return list(until)


@dataclass(frozen=True)
class Baseline:
    """Where an expectation starts: a log position and each present object's state there."""

    start: int
    present: tuple[Observation, ...]

    @classmethod
    def now(cls, tracker: Subject) -> Baseline:
        """Take the baseline at the tracker's current position."""
        start, present = tracker.recorder.present()
        return cls(start, tuple(present))

    def named(self, wanted: str | None) -> list[Observation]:
        """The present objects' states, for `wanted` (or all), oldest identity first."""
        return [o for o in self.present if _is(o.identity, wanted)]


REPORT_EVENT_OBJECTS = 5
"""Events are fetched for this many objects of a report at most (those its text shows)."""


class _Signs:
    """The failure signs of one judging loop: one `SignCheck` per sign per identity.

    The ``fail_fast`` signs (not those asked for with ``fail_on``) ignore an object
    that is being deleted: on its way out a pod turns Succeeded or Failed, which says
    nothing about whether what the test waited for could have happened.
    """

    def __init__(self, tracker: Subject, fail_on: FailOn, *, fail_fast: bool | None) -> None:
        self.tracker = tracker
        self.explicit = as_signs(fail_on)
        self.fail_fast = fail_fast_default() if fail_fast is None else fail_fast
        self.checks: dict[str, tuple[Identity, list[SignCheck]]] = {}
        self.implicit: set[int] = set()  # id() of the checks fail_fast added

    def __bool__(self) -> bool:
        return bool(self.explicit) or self.fail_fast

    def for_identity(self, identity: Identity) -> list[SignCheck]:
        found = self.checks.get(identity.uid)
        if found is None:
            signs: list[Sign] = [s for s in self.explicit if s.applies_to(identity.kind)]
            checks = [s.start() for s in signs]
            if self.fail_fast:
                names = {s.name for s in signs}
                defaults = [s.start() for s in defaults_for(identity.kind) if s.name not in names]
                self.implicit.update(id(c) for c in defaults)
                checks += defaults
            found = (identity, checks)
            self.checks[identity.uid] = found
        return found[1]

    def observe(self, obs: Observation) -> Hit | None:
        meta = (obs.object or {}).get("metadata") or {}
        leaving = bool(meta.get("deletionTimestamp")) if isinstance(meta, Mapping) else False
        for check in self.for_identity(obs.identity):
            if leaving and id(check) in self.implicit:
                continue
            hit = check.observe(obs)
            if hit is not None:
                return hit
        return None

    def next_due(self) -> float | None:
        dues = [
            due
            for _, checks in self.checks.values()
            for check in checks
            if (due := check.due()) is not None
        ]
        return min(dues, default=None)

    def wake(self, now: float) -> Hit | None:
        """Run the checks whose time has come (grace periods, Events to list)."""
        for identity, checks in self.checks.values():
            for check in checks:
                due = check.due()
                if due is None or due > now:
                    continue
                if check.sign.needs_events:
                    hit = check.events(self.tracker.events_for(identity), now)
                else:
                    hit = check.tick(now)
                if hit is not None:
                    return hit
        return None


class _Stopped:
    """A check a failure sign stopped: its verdict is the sign; the rest is the check's."""

    def __init__(self, check: Check, hit: Hit) -> None:
        self.check = check
        self._outcome = Outcome(
            Status.IMPOSSIBLE, f"failure sign {hit.sign}: {hit.message}", hit.entry
        )

    @property
    def state(self) -> State:
        return self.check.state

    @property
    def outcome(self) -> Outcome:
        return self._outcome

    def describe(self) -> str:
        return self.check.describe()

    def progress(self) -> Progress:
        return self.check.progress()

    def feed(self, entry: Entry) -> Outcome:
        del entry
        return self._outcome

    def close(self) -> Outcome:
        return self._outcome


class _Judge:
    """Feed a tracker's entries to one check per selected identity."""

    def __init__(
        self,
        tracker: Subject,
        factory: Callable[[Identity], Check],
        select: Callable[[Identity], bool],
        *,
        start: int = 0,
        signs: _Signs | None = None,
    ) -> None:
        self.tracker = tracker
        self.factory = factory
        self.select = select
        self.cursor = start
        self.checks: dict[str, tuple[Identity, Check]] = {}
        self.reconnects: list[Reconnect] = []
        # Decided checks, counted as they decide: "is every target settled" is O(1).
        self.passed = 0
        self.failed = 0
        self.signs = signs or None
        self.hit: Hit | None = None
        self.started = tracker.clock.monotonic()

    def check_for(self, identity: Identity) -> Check | None:
        pair = self.checks.get(identity.uid)
        if pair is None:
            if not self.select(identity):
                return None
            pair = (identity, self.factory(identity))
            self.checks[identity.uid] = pair
        return pair[1]

    def _feed_check(self, check: Check, entry: Observation | Gap) -> None:
        if check.outcome.done:
            return
        out = check.feed(entry)
        if out.done:
            if out.passed:
                self.passed += 1
            else:
                self.failed += 1

    def feed(self, entry: Entry) -> None:
        if self.hit is not None:
            return  # a sign ended the expectation: what came after it does not count
        if isinstance(entry, Reconnect):
            self.reconnects.append(entry)
        elif isinstance(entry, Observation):
            check = self.check_for(entry.identity)
            if check is not None:
                self._feed_check(check, entry)
                # A state that meets the expectation wins over a sign in the same state.
                if self.signs is not None and self.hit is None and not check.outcome.passed:
                    self.hit = self.signs.observe(entry)
        elif isinstance(entry, Gap):
            for identity in entry.changed:
                check = self.check_for(identity)
                if check is not None:
                    self._feed_check(check, entry)

    @property
    def settled(self) -> bool:
        """True when every check passed, or one failed for good (O(1): counted on feed)."""
        if self.hit is not None or self.failed > 0:
            return True
        return bool(self.checks) and self.passed == len(self.checks)

    def pump(self, deadline: Deadline) -> Plan[None]:
        """Feed what is recorded; wait (on the clock) until something new or the deadline."""
        __tracebackhide__ = True
        recorder = self.tracker.recorder
        timeout = _timeout_of(deadline)
        due = self.signs.next_due() if self.signs is not None else None
        if due is not None:
            until_due = max(0.0, due - self.tracker.clock.monotonic())
            timeout = until_due if timeout is None else min(timeout, until_due)
        cursor = self.cursor
        yield Wait(partial(recorder.has_news, cursor), timeout)
        new = recorder.entries(cursor)
        self.cursor += len(new)
        for entry in new:
            self.feed(entry)
        if self.signs is not None and self.hit is None:
            # A sign that reads Events lists them here: a call that may block.
            self.hit = yield Call(partial(self.signs.wake, self.tracker.clock.monotonic()))
        if not new and recorder.closed and not deadline.expired():
            error = recorder.error
            if error is not None:
                raise error
            raise KwaitError(f"the tracker of {self.tracker.describe()} stopped while waiting")

    def report(
        self, kind: ReportKind, summary: str, details: Mapping[str, Any] | None = None
    ) -> Report:
        """Build the report, failing objects first."""
        failing = [
            (ident, check) for ident, check in self.checks.values() if not check.outcome.passed
        ]
        passing = [(ident, check) for ident, check in self.checks.values() if check.outcome.passed]
        recorder = self.tracker.recorder
        timelines = [(recorder.timeline_of(ident), check) for ident, check in failing + passing]
        # One time origin for every object, so their tables (and pictures) line up.
        firsts = [timeline.entries[0].time for timeline, _ in timelines if timeline.entries]
        start = min(firsts) if firsts else None
        objects = tuple(
            object_report(
                timeline,
                check,
                # Events and logs only for the objects the text shows: a bounded number of
                # requests however many objects the wait had.
                events=(
                    self.tracker.events_for(timeline.identity)
                    if index < REPORT_EVENT_OBJECTS
                    else ()
                ),
                reconnects=self.reconnects,
                start=start,
                logs=(
                    _logs_for(self.tracker, timeline.identity)
                    if index < REPORT_EVENT_OBJECTS
                    else []
                ),
            )
            for index, (timeline, check) in enumerate(timelines)
        )
        notes = recorder.continuity.describe(self.tracker.clock.monotonic())
        stats = recorder.stats
        if stats.duplicates:
            notes.append(
                f"{stats.duplicates} replayed event(s) at an already recorded resourceVersion "
                "were not recorded again"
            )
        if stats.unknown_events:
            types = ", ".join(sorted(stats.unknown_types))
            notes.append(f"{stats.unknown_events} watch event(s) of unknown type ignored: {types}")
        return Report(kind, summary, objects, dict(details or {}), tuple(notes))

    def failure(
        self, kind: ReportKind, summary: str, details: Mapping[str, Any] | None = None
    ) -> Plan[Exception]:
        """Build the error for a failed expectation (the report reads Events: a `Call`)."""
        error: Exception = yield Call(lambda: error_for(self.report(kind, summary, details)))
        return error

    def sign_failure(
        self, kind: ReportKind, deadline: Deadline, *, window: bool = False
    ) -> Plan[Exception]:
        """The `FailureSignError` for the sign that stopped this loop (a `Call`: Events)."""
        remaining = deadline.remaining()
        error: Exception = yield Call(
            lambda: self.sign_error(kind, deadline, window=window, remaining=remaining)
        )
        return error

    def sign_error(
        self,
        kind: ReportKind,
        deadline: Deadline,
        *,
        window: bool = False,
        remaining: float | None = None,
    ) -> Exception:
        """The `FailureSignError` for the sign that stopped this loop: the sign first."""
        hit = self.hit
        assert hit is not None  # noqa: S101 - only called once a sign showed
        ident = hit.entry.identity
        pair = self.checks.get(ident.uid)
        if pair is not None:
            self.checks[ident.uid] = (ident, _Stopped(pair[1], hit))
        remaining = deadline.remaining() if remaining is None else remaining
        offset = hit.time - self.started
        end = "the end of the window" if window else "the timeout"
        saved = (
            f"stopped {format_seconds(remaining)} before {end}"
            if not math.isinf(remaining)
            else "stopped (no timeout)"
        )
        summary = (
            f"{ident}: {hit.message} (rv {hit.entry.resource_version}, {offset:+.1f} s); {saved}"
        )
        details = {
            "timeout" if not window else "window": deadline.describe(),
            "sign": hit.sign,
            "sign_message": hit.message,
            "resource_version": hit.entry.resource_version,
            "offset": offset,
            "saved": remaining,
        }
        report = self.report(kind, summary, details)
        ordered = sorted(report.objects, key=lambda o: o.identity.uid != ident.uid)
        return FailureSignError(dataclasses.replace(report, objects=tuple(ordered)))


def _logs_for(tracker: Subject, identity: Identity) -> list[dict[str, Any]]:
    """Container logs for the report, when the subject can fetch them (a Tracker can)."""
    fetch = getattr(tracker, "logs_for", None)
    return list(fetch(identity)) if callable(fetch) else []


def _named(tracker: Subject, name: str | None) -> Callable[[Identity], bool]:
    """Select the first identity named `name` (or the first at all) that shows up."""
    wanted = name if name is not None else tracker.name
    chosen: list[str] = []

    def select(identity: Identity) -> bool:
        if not chosen and (wanted is None or identity.name == wanted):
            chosen.append(identity.uid)
        return bool(chosen) and identity.uid == chosen[0]

    return select


def _absence_hint(tracker: Subject) -> str:
    """Why nothing may have been seen: the namespace does not exist (asked of the server)."""
    ask = getattr(tracker, "missing_namespace", None)
    missing = ask() if callable(ask) else None
    return f" (namespace {missing!r} does not exist)" if missing else ""


def _what(tracker: Subject, name: str | None) -> str:
    wanted = name if name is not None else tracker.name
    return f"{wanted!r} in {tracker.describe()}" if wanted else tracker.describe()


def tracker_expect_transitions(
    tracker: Subject,
    state: State | Callable[[Any], Any],
    pattern: PatternLike,
    *,
    name: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> Timeline:
    """Assert the path an object takes (see `plan_expect_transitions`), blocking."""
    __tracebackhide__ = True
    plan = plan_expect_transitions(
        tracker, state, pattern, name=name, timeout=timeout, fail_on=fail_on, fail_fast=fail_fast
    )
    return run_blocking(tracker, plan)


def plan_expect_transitions(
    tracker: Subject,
    state: State | Callable[[Any], Any],
    pattern: PatternLike,
    *,
    name: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> Plan[Timeline]:
    """Assert the path an object takes: its distinct states must match `pattern`.

    The object's whole recorded timeline is matched (the tracker started
    before the test acted), then new states as they come. Returns the object's
    timeline the moment the pattern matches; raises
    `kwait.errors.TransitionMismatchError` the moment it cannot (a forbidden state,
    a deletion, a terminal state), `kwait.errors.UndecidableError` when the answer
    depends on a gap, and `kwait.WaitTimeoutError` at the deadline. `fail_on`
    and `fail_fast` stop it at the first failure sign (`kwait.errors.FailureSignError`).
    """
    __tracebackhide__ = True
    check_name("name", name)
    deadline = as_deadline(timeout, clock=tracker.clock)
    judge = _Judge(
        tracker,
        lambda identity: Matcher(state, pattern, identity=identity),
        _named(tracker, name),
        signs=_Signs(tracker, fail_on, fail_fast=fail_fast),
    )
    check = yield from _run_until_decided(judge, deadline)
    if judge.hit is not None:
        raise (yield from judge.sign_failure("transitions", deadline))
    if check is not None and check.outcome.passed:
        ident = next(iter(judge.checks.values()))[0]
        return tracker.recorder.timeline_of(ident)
    matcher_text = Matcher(state, pattern).describe()
    if check is None:
        summary = f"no object {_what(tracker, name)} was observed within {deadline.describe()}"
        hint = yield Call(partial(_absence_hint, tracker))
        raise error_for(Report("transitions", summary + hint))
    ident = next(iter(judge.checks.values()))[0]
    summary = _summary(ident, check, f"did not go through {matcher_text}", deadline)
    raise (yield from judge.failure("transitions", summary, {"timeout": deadline.describe()}))


def _run_until_decided(judge: _Judge, deadline: Deadline) -> Plan[Check | None]:
    """Pump until the (single) check is decided or the deadline passes; close it then."""
    __tracebackhide__ = True
    while True:
        yield from judge.pump(deadline)
        check = next(iter(judge.checks.values()))[1] if judge.checks else None
        if check is not None and (check.outcome.done or judge.hit is not None):
            return check
        if deadline.expired():
            if check is not None:
                check.close()
            return check


def _summary(identity: Identity, check: Check, failed: str, deadline: Deadline) -> str:
    outcome = check.outcome
    if outcome.status is Status.UNMET:
        return f"{identity} {failed} within {format_seconds(deadline.budget)}"
    return f"{identity} {failed}: {outcome.reason}"


def tracker_wait_for(
    tracker: Subject,
    condition: Condition,
    *,
    name: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    follow_replacement: bool = False,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> list[Timeline]:
    """Wait until every target satisfies `condition` (see `plan_wait_for`), blocking."""
    __tracebackhide__ = True
    plan = plan_wait_for(
        tracker,
        condition,
        name=name,
        timeout=timeout,
        baseline=baseline,
        follow_replacement=follow_replacement,
        fail_on=fail_on,
        fail_fast=fail_fast,
    )
    return run_blocking(tracker, plan)


def plan_wait_for(
    tracker: Subject,
    condition: Condition,
    *,
    name: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    follow_replacement: bool = False,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> Plan[list[Timeline]]:
    """Wait until every target satisfies `condition`, with ``kubectl wait`` semantics.

    `condition` is a ``kubectl wait --for`` value (``"delete"``, ``"create"``,
    ``"condition=Ready"``, ``"jsonpath={.status.phase}=Running"``) or a predicate.
    Targets: the tracker's (or `name`'s) object, which may not exist yet; or,
    for a selector tracker, the objects present now (zero targets is an error,
    except for ``delete``). The current state counts; so does every state from
    now on. Deletion is UID-aware: an object recreated under the same name is
    another object, and the wait for deletion of the first one succeeds.
    ``timeout=0`` checks once without waiting. Returns the targets' timelines.
    `baseline` (default: now) fixes the targets and where watching starts.

    A target object's ``metadata.uid`` (a tracker made from an object that has
    one) keys a deletion wait, as in kubectl: if the object of that name now
    has another uid, the one asked about is already gone. With
    `follow_replacement`, a named object that is deleted while its wait is
    pending does not fail the wait: it goes on with the next object of that
    name (a StatefulSet pod replaced by its controller), as kubectl does.

    `fail_on` (signs, ``--for`` forms, predicates; any one) and `fail_fast`
    (the catalogue's signs that cannot clear) end the wait at the first sign
    with `kwait.errors.FailureSignError`.
    """
    __tracebackhide__ = True
    check_name("name", name)
    predicate = as_condition(condition)
    deadline = as_deadline(timeout, clock=tracker.clock)
    base = baseline or Baseline.now(tracker)
    while True:
        result = yield from _wait_once(
            tracker,
            predicate,
            name,
            deadline,
            base,
            follow=follow_replacement,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )
        if isinstance(result, list):
            return result
        base = Baseline.now(tracker)  # the named object was replaced: follow the name


def _targets(
    tracker: Subject, predicate: Predicate, wanted: str | None, deadline: Deadline, base: Baseline
) -> Plan[tuple[list[Observation], list[Identity]]]:
    """A wait's targets, and their states at the baseline."""
    states = base.named(wanted)
    if wanted is not None:
        states = states[-1:]
    uid = getattr(tracker, "uid", None) if wanted == tracker.name else None
    if uid and predicate is deleted():
        states = [o for o in states if o.identity.uid == uid]
    current = [o.identity for o in states]
    if wanted is None and tracker.reads_consistently:
        # Like `kubectl wait -l`: the targets are what the server holds at the call, read
        # consistently, not whatever the watch happened to deliver so far. Their states
        # since the baseline are all fed by the caller.
        yield from plan_sync(tracker, deadline)
        now = {o.identity.uid: o.identity for o in tracker.recorder.present()[1]}
        states = [o for o in states if o.identity.uid in now]
        current = list(now.values())
    return states, current


def _wait_once(
    tracker: Subject,
    predicate: Predicate,
    name: str | None,
    deadline: Deadline,
    base: Baseline,
    *,
    follow: bool,
    fail_on: FailOn,
    fail_fast: bool | None,
) -> Plan[list[Timeline] | None]:
    """One wait from `base`; None when the named object was deleted and is to be followed."""
    __tracebackhide__ = True
    recorder = tracker.recorder
    wanted = name if name is not None else tracker.name
    states, current = yield from _targets(tracker, predicate, wanted, deadline, base)
    if not current and predicate is deleted():
        return []
    if not current and wanted is None:
        hint = yield Call(partial(_absence_hint, tracker))
        raise KwaitError(f"no object matches {tracker.describe()}: nothing to wait for{hint}")
    targets = {ident.uid for ident in current}
    # A named object that does not exist yet: wait for it to appear (kubectl's --for=create).
    named = _named(tracker, wanted) if not current else None

    def select(identity: Identity) -> bool:
        return identity.uid in targets or (named is not None and named(identity))

    judge = _Judge(
        tracker,
        lambda ident: Matcher(predicate, [_holds(predicate)], identity=ident),
        select,
        start=base.start,
        # Waiting for deletion: a failed object is still one to wait out, not a failure.
        signs=_Signs(
            tracker,
            fail_on,
            fail_fast=bool(fail_fast) if predicate is deleted() else fail_fast,
        ),
    )
    for ident in current:
        judge.check_for(ident)
    for obs in states:
        judge.feed(obs)
    while not judge.settled and not deadline.expired():
        yield from judge.pump(deadline)
    checks = [check for _, check in judge.checks.values()]
    if checks and all(c.outcome.passed for c in checks):
        return [recorder.timeline_of(ident) for ident, _ in judge.checks.values()]
    if judge.hit is not None:
        raise (yield from judge.sign_failure("wait", deadline))
    if follow and wanted is not None and _replaced(judge, deadline):
        return None
    raise (yield from _wait_failed(judge, predicate, deadline, name))


def _replaced(judge: _Judge, deadline: Deadline) -> bool:
    """True when the wait failed only because its object was deleted (time is left)."""
    if deadline.expired():
        return False
    recorder = judge.tracker.recorder
    failed = [ident for ident, check in judge.checks.values() if check.outcome.done]
    return bool(failed) and all(recorder.timeline_of(ident).deleted for ident in failed)


def tracker_wait_for_each(
    tracker: Subject,
    conditions: Sequence[Condition],
    *,
    name: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    follow_replacement: bool = False,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> list[Timeline]:
    """Wait for each condition in turn (see `plan_wait_for_each`), blocking."""
    __tracebackhide__ = True
    plan = plan_wait_for_each(
        tracker,
        conditions,
        name=name,
        timeout=timeout,
        baseline=baseline,
        follow_replacement=follow_replacement,
        fail_on=fail_on,
        fail_fast=fail_fast,
    )
    return run_blocking(tracker, plan)


def plan_wait_for_each(
    tracker: Subject,
    conditions: Sequence[Condition],
    *,
    name: str | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    baseline: Baseline | None = None,
    follow_replacement: bool = False,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> Plan[list[Timeline]]:
    """Wait for each condition in turn, as several ``kubectl wait --for`` flags do.

    The second condition is waited for from the moment the first held, and so
    on, all within one deadline: ``["condition=Ready=false", "condition=Ready"]``
    waits for the object to become not ready, then ready again.
    """
    __tracebackhide__ = True
    predicates = [as_condition(c) for c in conditions]
    if not predicates:
        raise ValueError("until= needs at least one condition")
    deadline = as_deadline(timeout, clock=tracker.clock)
    base = baseline
    result: list[Timeline] = []
    for predicate in predicates:
        result = yield from plan_wait_for(
            tracker,
            predicate,
            name=name,
            timeout=deadline,
            baseline=base,
            follow_replacement=follow_replacement,
            fail_on=fail_on,
            fail_fast=fail_fast,
        )
        base = None  # the next condition is judged from now on
    return result


def _wait_failed(
    judge: _Judge, predicate: Predicate, deadline: Deadline, name: str | None
) -> Plan[Exception]:
    """Close what is pending and build the error for a wait that did not succeed."""
    for _, check in judge.checks.values():
        if not check.outcome.done:
            check.close()
    if not judge.checks:
        summary = f"no object {_what(judge.tracker, name)} appeared within {deadline.describe()}"
        hint = yield Call(partial(_absence_hint, judge.tracker))
        return error_for(Report("wait", summary + hint))
    failing = [ident for ident, check in judge.checks.values() if not check.outcome.passed]
    first = judge.checks[failing[0].uid][1]
    summary = _summary(failing[0], first, f"did not become {predicate.description}", deadline)
    if len(failing) > 1:
        summary += f" (and {len(failing) - 1} more)"
    return (yield from judge.failure("wait", summary, {"timeout": deadline.describe()}))


def _is(identity: Identity, name: str | None) -> bool:
    return name is None or identity.name == name


def tracker_never(
    tracker: Subject,
    condition: Condition,
    *,
    during: Timeout,
    name: str | None = None,
    baseline: Baseline | None = None,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> None:
    """Assert `condition` never holds in the window (see `plan_never`), blocking."""
    __tracebackhide__ = True
    plan = plan_never(
        tracker,
        condition,
        during=during,
        name=name,
        baseline=baseline,
        fail_on=fail_on,
        fail_fast=fail_fast,
    )
    run_blocking(tracker, plan)


def plan_never(
    tracker: Subject,
    condition: Condition,
    *,
    during: Timeout,
    name: str | None = None,
    baseline: Baseline | None = None,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> Plan[None]:
    """Assert `condition` holds for no target from now until `during` runs out.

    Fails with `kwait.errors.NeverViolatedError` on the first violating event, not at
    the end of the window. Targets: the named object, or every object the
    tracker observes in the window. `fail_on` ends the window early with
    `kwait.errors.FailureSignError`; `fail_fast` applies only when given as True
    (never from ``KWAIT_FAIL_FAST``): a pod that fails does not break "never
    Ready", so a suite-wide default must not turn it into a failure.
    """
    __tracebackhide__ = True
    predicate = as_condition(condition)
    forbidden = never(_holds(predicate))
    yield from _hold(
        tracker,
        predicate,
        forbidden,
        during=during,
        name=name,
        text=f"never {predicate.description}",
        baseline=baseline,
        signs=_Signs(tracker, fail_on, fail_fast=bool(fail_fast)),
    )


def tracker_consistently(
    tracker: Subject,
    condition: Condition,
    *,
    during: Timeout,
    name: str | None = None,
    baseline: Baseline | None = None,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> None:
    """Assert `condition` always holds in the window (see `plan_consistently`), blocking."""
    __tracebackhide__ = True
    plan = plan_consistently(
        tracker,
        condition,
        during=during,
        name=name,
        baseline=baseline,
        fail_on=fail_on,
        fail_fast=fail_fast,
    )
    run_blocking(tracker, plan)


def plan_consistently(
    tracker: Subject,
    condition: Condition,
    *,
    during: Timeout,
    name: str | None = None,
    baseline: Baseline | None = None,
    fail_on: FailOn = None,
    fail_fast: bool | None = None,
) -> Plan[None]:
    """Assert `condition` holds for every target from now until `during` runs out.

    A target that is deleted in the window violates it. Fails with
    `kwait.errors.NeverViolatedError` on the first violating event. `fail_on`
    and `fail_fast` as in `plan_never`.
    """
    __tracebackhide__ = True
    predicate = as_condition(condition)
    forbidden = never(_fails(predicate))  # a deletion is "not" too
    text = f"consistently {predicate.description}"
    yield from _hold(
        tracker,
        predicate,
        forbidden,
        during=during,
        name=name,
        text=text,
        baseline=baseline,
        signs=_Signs(tracker, fail_on, fail_fast=bool(fail_fast)),
    )


def _hold(
    tracker: Subject,
    predicate: Predicate,
    forbidden: Pattern,
    *,
    during: Timeout,
    name: str | None,
    text: str,
    baseline: Baseline | None,
    signs: _Signs | None = None,
) -> Plan[None]:
    """Fail on the first state `forbidden` rejects, until `during` runs out."""
    __tracebackhide__ = True
    check_name("name", name)
    deadline = as_deadline(during, clock=tracker.clock)
    wanted = name if name is not None else tracker.name
    judge = _Judge(
        tracker,
        lambda ident: Matcher(predicate, forbidden, identity=ident),
        lambda ident: _is(ident, wanted),
        start=(base := baseline or Baseline.now(tracker)).start,
        signs=signs,
    )
    for obs in base.named(wanted):
        judge.feed(obs)
    while (
        not any(c.outcome.done for _, c in judge.checks.values())
        and judge.hit is None
        and not deadline.expired()
    ):
        yield from judge.pump(deadline)
    if judge.hit is not None and not any(
        c.outcome.done and not c.outcome.passed for _, c in judge.checks.values()
    ):
        raise (yield from judge.sign_failure("never", deadline, window=True))
    for _, check in judge.checks.values():
        if not check.outcome.done:
            check.close()
    failing = [(i, c) for i, c in judge.checks.values() if not c.outcome.passed]
    if not failing:
        return
    ident, check = failing[0]
    summary = f"{ident} broke '{text}': {check.outcome.reason}"
    raise (yield from judge.failure("never", summary, {"window": deadline.describe()}))


def tracker_expect_count(
    tracker: Subject,
    what: Any,
    *,
    exactly: int | None = None,
    at_least: int | None = None,
    at_most: int | None = None,
    name: str | None = None,
) -> dict[Identity, int]:
    """Assert how many times each object changed (see `plan_expect_count`), blocking."""
    __tracebackhide__ = True
    plan = plan_expect_count(
        tracker, what, exactly=exactly, at_least=at_least, at_most=at_most, name=name
    )
    return run_blocking(tracker, plan)


def plan_expect_count(
    tracker: Subject,
    what: Any,
    *,
    exactly: int | None = None,
    at_least: int | None = None,
    at_most: int | None = None,
    name: str | None = None,
) -> Plan[dict[Identity, int]]:
    """Assert how many times each object changed in what the tracker recorded so far.

    `what` says what counts: a `kwait.Changes` (``Changes.generation()`` for
    spec updates, ``Changes.restarts()``, ``Changes.of(state or path)``), or a
    state function / field path whose value changes are counted. Every object
    observed (or the one named) is checked; all that fail are in the report.
    Returns the count per identity.
    """
    __tracebackhide__ = True
    check_name("name", name)
    judge = _Judge(
        tracker,
        lambda _ident: CountMatcher(what, exactly=exactly, at_least=at_least, at_most=at_most),
        lambda ident: _is(ident, name),
    )
    for entry in tracker.recorder.entries():
        judge.feed(entry)
    judge.cursor = len(tracker.recorder)
    counts: dict[Identity, int] = {}
    for ident, check in judge.checks.values():
        if not check.outcome.done:
            check.close()
        assert isinstance(check, CountMatcher)  # noqa: S101 - built just above
        counts[ident] = check.low
    failing = [(i, c) for i, c in judge.checks.values() if not c.outcome.passed]
    if not judge.checks:
        hint = yield Call(partial(_absence_hint, tracker))
        raise KwaitError(f"no object {_what(tracker, name)} was observed: nothing to count{hint}")
    if not failing:
        return counts
    ident, check = failing[0]
    summary = f"{ident}: {check.outcome.reason}"
    if len(failing) > 1:
        summary += f" (and {len(failing) - 1} more objects)"
    raise (yield from judge.failure("count", summary))


def all_of(until: Condition | Sequence[Condition]) -> Predicate:
    """One predicate for a condition or a list of conditions that must all hold at once."""
    if isinstance(until, str) or callable(until):
        return as_condition(until)
    parts = [as_condition(c) for c in _conditions(until)]
    if not parts:
        raise ValueError("until= needs at least one condition")
    if len(parts) > 1 and deleted() in parts:
        raise ValueError("'delete' cannot be combined with other conditions")
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined
