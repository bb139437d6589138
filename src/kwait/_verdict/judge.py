"""The headline API: expectations over a tracker's timelines, decided online.

Every function here reads a `Tracker`'s recorder entry by entry, feeds one
check (a `Matcher` or `CountMatcher`) per object identity, and stops the moment
the answer is certain: passed, impossible (a forbidden state, a deletion, a
terminal state), or undecidable because of a gap. At the deadline a pending
check is closed. Failures raise a `kwait.ExpectationError` whose report joins
the timeline, the pattern's progress, the object's Events and its last state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kwait._errors import KwaitError
from kwait._match.counting import CountMatcher
from kwait._match.matcher import Matcher
from kwait._match.pattern import Pattern, PatternLike, never
from kwait._match.states import Predicate, State, as_predicate, deleted, parse_for
from kwait._match.verdict import Check, Status
from kwait._time.deadline import Deadline, Timeout, as_deadline, format_seconds
from kwait._time.protocol import Clock
from kwait._verdict.failures import error_for
from kwait._verdict.report import Report, ReportKind, object_report
from kwait._watch.timeline import Entry, Gap, Identity, Observation, Reconnect, Recorder, Timeline

__all__ = [
    "DEFAULT_TIMEOUT",
    "Baseline",
    "Condition",
    "Subject",
    "all_of",
    "as_condition",
    "tracker_consistently",
    "tracker_expect_count",
    "tracker_expect_transitions",
    "tracker_never",
    "tracker_wait_for",
]

Condition = str | Predicate | Callable[[Any], Any]
"""What `wait_for` accepts: a kubectl ``--for`` string or a predicate."""

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
    return as_predicate(condition)


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


class _Judge:
    """Feed a tracker's entries to one check per selected identity."""

    def __init__(
        self,
        tracker: Subject,
        factory: Callable[[Identity], Check],
        select: Callable[[Identity], bool],
        *,
        start: int = 0,
    ) -> None:
        self.tracker = tracker
        self.factory = factory
        self.select = select
        self.cursor = start
        self.checks: dict[str, tuple[Identity, Check]] = {}
        self.reconnects: list[Reconnect] = []

    def check_for(self, identity: Identity) -> Check | None:
        pair = self.checks.get(identity.uid)
        if pair is None:
            if not self.select(identity):
                return None
            pair = (identity, self.factory(identity))
            self.checks[identity.uid] = pair
        return pair[1]

    def feed(self, entry: Entry) -> None:
        if isinstance(entry, Reconnect):
            self.reconnects.append(entry)
        elif isinstance(entry, Observation):
            check = self.check_for(entry.identity)
            if check is not None:
                check.feed(entry)
        elif isinstance(entry, Gap):
            for identity in entry.changed:
                check = self.check_for(identity)
                if check is not None:
                    check.feed(entry)

    def pump(self, deadline: Deadline) -> None:
        """Feed what is recorded; wait (on the clock) until something new or the deadline."""
        __tracebackhide__ = True
        remaining = deadline.remaining()
        timeout = None if remaining == float("inf") else max(0.0, remaining)
        new = self.tracker.recorder.wait_for_entries(self.cursor, timeout)
        self.cursor += len(new)
        for entry in new:
            self.feed(entry)
        if not new and self.tracker.recorder.closed and not deadline.expired():
            error = self.tracker.recorder.error
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
        ordered = failing + passing
        recorder = self.tracker.recorder
        objects = tuple(
            object_report(
                recorder.timeline_of(ident),
                check,
                # Events only for the objects the text shows: a bounded number of requests.
                events=self.tracker.events_for(ident) if index < REPORT_EVENT_OBJECTS else (),
                reconnects=self.reconnects,
            )
            for index, (ident, check) in enumerate(ordered)
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


def _named(tracker: Subject, name: str | None) -> Callable[[Identity], bool]:
    """Select the first identity named `name` (or the first at all) that shows up."""
    wanted = name if name is not None else tracker.name
    chosen: list[str] = []

    def select(identity: Identity) -> bool:
        if not chosen and (wanted is None or identity.name == wanted):
            chosen.append(identity.uid)
        return bool(chosen) and identity.uid == chosen[0]

    return select


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
) -> Timeline:
    """Assert the path an object takes: its distinct states must match `pattern`.

    The object's whole recorded timeline is matched (the tracker started
    before the test acted), then new states as they come. Returns the object's
    timeline the moment the pattern matches; raises
    `kwait.errors.TransitionMismatchError` the moment it cannot (a forbidden state,
    a deletion, a terminal state), `kwait.errors.UndecidableError` when the answer
    depends on a gap, and `kwait.WaitTimeoutError` at the deadline.
    """
    __tracebackhide__ = True
    deadline = as_deadline(timeout, clock=tracker.clock)
    judge = _Judge(
        tracker,
        lambda identity: Matcher(state, pattern, identity=identity),
        _named(tracker, name),
    )
    check = _run_until_decided(judge, deadline)
    if check is not None and check.outcome.passed:
        ident = next(iter(judge.checks.values()))[0]
        return tracker.recorder.timeline_of(ident)
    matcher_text = Matcher(state, pattern).describe()
    if check is None:
        summary = f"no object {_what(tracker, name)} was observed within {deadline.describe()}"
        raise error_for(Report("transitions", summary))
    ident = next(iter(judge.checks.values()))[0]
    summary = _summary(ident, check, f"did not go through {matcher_text}", deadline)
    raise error_for(judge.report("transitions", summary, {"timeout": deadline.describe()}))


def _run_until_decided(judge: _Judge, deadline: Deadline) -> Check | None:
    """Pump until the (single) check is decided or the deadline passes; close it then."""
    __tracebackhide__ = True
    while True:
        judge.pump(deadline)
        check = next(iter(judge.checks.values()))[1] if judge.checks else None
        if check is not None and check.outcome.done:
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
) -> list[Timeline]:
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
    """
    __tracebackhide__ = True
    predicate = as_condition(condition)
    deadline = as_deadline(timeout, clock=tracker.clock)
    recorder = tracker.recorder
    base = baseline or Baseline.now(tracker)
    wanted = name if name is not None else tracker.name
    states = base.named(wanted)
    if wanted is not None:
        states = states[-1:]
    current = [o.identity for o in states]
    if not current and predicate is deleted():
        return []
    if not current and wanted is None:
        raise KwaitError(f"no object matches {tracker.describe()}: nothing to wait for")
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
    )
    for obs in states:
        judge.feed(obs)
    while not _settled(judge) and not deadline.expired():
        judge.pump(deadline)
    checks = [check for _, check in judge.checks.values()]
    if checks and all(c.outcome.passed for c in checks):
        return [recorder.timeline_of(ident) for ident, _ in judge.checks.values()]
    raise _wait_failed(judge, predicate, deadline, name)


def _wait_failed(
    judge: _Judge, predicate: Predicate, deadline: Deadline, name: str | None
) -> Exception:
    """Close what is pending and build the error for a wait that did not succeed."""
    for _, check in judge.checks.values():
        if not check.outcome.done:
            check.close()
    if not judge.checks:
        summary = f"no object {_what(judge.tracker, name)} appeared within {deadline.describe()}"
        return error_for(Report("wait", summary))
    failing = [ident for ident, check in judge.checks.values() if not check.outcome.passed]
    first = judge.checks[failing[0].uid][1]
    summary = _summary(failing[0], first, f"did not become {predicate.description}", deadline)
    if len(failing) > 1:
        summary += f" (and {len(failing) - 1} more)"
    return error_for(judge.report("wait", summary, {"timeout": deadline.describe()}))


def _settled(judge: _Judge) -> bool:
    """True when every check passed, or one failed for good."""
    checks = [check for _, check in judge.checks.values()]
    if any(c.outcome.done and not c.outcome.passed for c in checks):
        return True
    return bool(checks) and all(c.outcome.passed for c in checks)


def _is(identity: Identity, name: str | None) -> bool:
    return name is None or identity.name == name


def tracker_never(
    tracker: Subject,
    condition: Condition,
    *,
    during: Timeout,
    name: str | None = None,
    baseline: Baseline | None = None,
) -> None:
    """Assert `condition` holds for no target from now until `during` runs out.

    Fails with `kwait.errors.NeverViolatedError` on the first violating event, not at
    the end of the window. Targets: the named object, or every object the
    tracker observes in the window.
    """
    __tracebackhide__ = True
    predicate = as_condition(condition)
    forbidden = never(_holds(predicate))
    _hold(
        tracker,
        predicate,
        forbidden,
        during=during,
        name=name,
        text=f"never {predicate.description}",
        baseline=baseline,
    )


def tracker_consistently(
    tracker: Subject,
    condition: Condition,
    *,
    during: Timeout,
    name: str | None = None,
    baseline: Baseline | None = None,
) -> None:
    """Assert `condition` holds for every target from now until `during` runs out.

    A target that is deleted in the window violates it. Fails with
    `kwait.errors.NeverViolatedError` on the first violating event.
    """
    __tracebackhide__ = True
    predicate = as_condition(condition)
    forbidden = never(_fails(predicate))  # a deletion is "not" too
    text = f"consistently {predicate.description}"
    _hold(tracker, predicate, forbidden, during=during, name=name, text=text, baseline=baseline)


def _hold(
    tracker: Subject,
    predicate: Predicate,
    forbidden: Pattern,
    *,
    during: Timeout,
    name: str | None,
    text: str,
    baseline: Baseline | None,
) -> None:
    """Fail on the first state `forbidden` rejects, until `during` runs out."""
    __tracebackhide__ = True
    deadline = as_deadline(during, clock=tracker.clock)
    wanted = name if name is not None else tracker.name
    judge = _Judge(
        tracker,
        lambda ident: Matcher(predicate, forbidden, identity=ident),
        lambda ident: _is(ident, wanted),
        start=(base := baseline or Baseline.now(tracker)).start,
    )
    for obs in base.named(wanted):
        judge.feed(obs)
    while not any(c.outcome.done for _, c in judge.checks.values()) and not deadline.expired():
        judge.pump(deadline)
    for _, check in judge.checks.values():
        if not check.outcome.done:
            check.close()
    failing = [(i, c) for i, c in judge.checks.values() if not c.outcome.passed]
    if not failing:
        return
    ident, check = failing[0]
    summary = f"{ident} broke '{text}': {check.outcome.reason}"
    raise error_for(judge.report("never", summary, {"window": deadline.describe()}))


def tracker_expect_count(
    tracker: Subject,
    what: Any,
    *,
    exactly: int | None = None,
    at_least: int | None = None,
    at_most: int | None = None,
    name: str | None = None,
) -> dict[Identity, int]:
    """Assert how many times each object changed in what the tracker recorded so far.

    `what` says what counts: a `kwait.Changes` (``Changes.generation()`` for
    spec updates, ``Changes.restarts()``, ``Changes.of(state or path)``), or a
    state function / field path whose value changes are counted. Every object
    observed (or the one named) is checked; all that fail are in the report.
    Returns the count per identity.
    """
    __tracebackhide__ = True
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
        raise KwaitError(f"no object {_what(tracker, name)} was observed: nothing to count")
    if not failing:
        return counts
    ident, check = failing[0]
    summary = f"{ident}: {check.outcome.reason}"
    if len(failing) > 1:
        summary += f" (and {len(failing) - 1} more objects)"
    raise error_for(judge.report("count", summary))


def all_of(until: Condition | Sequence[Condition]) -> Predicate:
    if isinstance(until, str) or callable(until):
        return as_condition(until)
    parts = [as_condition(c) for c in until]
    if not parts:
        raise ValueError("until= needs at least one condition")
    if len(parts) > 1 and deleted() in parts:
        raise ValueError("'delete' cannot be combined with other conditions")
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined
