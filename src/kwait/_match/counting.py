"""Counting changes: "updated exactly once" over each object's timeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kwait._match.states import (
    State,
    as_state,
    field,
    generation,
    restart_count,
    same_value,
)
from kwait._match.verdict import (
    NONE,
    PENDING,
    Outcome,
    Progress,
    Status,
    Step,
    locate,
    unknown_text,
)
from kwait._watch.timeline import Entry, Gap, Identity, Observation, Reconnect

# ====================================================================== counting


@dataclass(frozen=True)
class Change:
    """One counted change between two observations.

    Attributes:
        before: The observation before the change.
        after: The first observation showing it.
        old: The counted value before.
        new: The counted value after.
        amount: How many changes this step counts (a generation may jump by 2
            across a gap); the lower bound when `gap` hides how many.
        gap: The gap between the two observations, if any.
    """

    before: Observation
    after: Observation
    old: Any
    new: Any
    amount: int
    gap: Gap | Observation | None = None


class Changes:
    """What a `CountMatcher` counts. Build one with the class methods.

    >>> Changes.generation().noun, Changes.restarts("app").noun
    ('generation changes', "restarts of container 'app'")
    """

    __slots__ = ("_kind", "noun", "state")

    def __init__(self, kind: str, noun: str, state: State) -> None:
        self._kind = kind
        self.noun: str = noun
        self.state: State = state

    @classmethod
    def generation(cls) -> Changes:
        """Spec changes: increments of ``metadata.generation``.

        Exact even across gaps, since the server bumps the generation once per
        spec change. The bump that marks the start of a graceful deletion
        (``deletionTimestamp`` appearing) is not counted.
        """
        return cls("generation", "generation changes", generation())

    @classmethod
    def restarts(cls, container: str | None = None) -> Changes:
        """Container restarts: increments of ``restartCount`` (summed over containers).

        Exact across gaps too, since restart counts only grow.
        """
        which = f"container {container!r}" if container is not None else "any container"
        return cls("restarts", f"restarts of {which}", restart_count(container))

    @classmethod
    def of(cls, what: State | Callable[[Any], Any] | str) -> Changes:
        """Changes of a state function's value, or of a field given by its dotted path.

        Across a gap, a value that differs counts as at least one change and a
        value that is the same as "unknown"; a count that depends on it is
        undecidable rather than guessed.
        """
        state = field(what) if isinstance(what, str) else as_state(what)
        return cls("value", f"changes of {state.description}", state)

    def __repr__(self) -> str:
        """Read like the code that built it."""
        if self._kind == "generation":
            return "Changes.generation()"
        if self._kind == "restarts":
            which = self.noun.removeprefix("restarts of ")
            arg = "" if which == "any container" else which.removeprefix("container ")
            return f"Changes.restarts({arg})"
        return f"Changes.of({self.state!r})"

    @property
    def exact_across_gaps(self) -> bool:
        """True when the count between two observations does not depend on what was hidden."""
        return self._kind != "value"

    def value(self, obs: Observation) -> Any:
        """Return the counted value at `obs` (`NONE` if unknown: evicted)."""
        if self._kind == "generation":
            return obs.generation
        if obs.object is None:
            return NONE
        return self.state(obs.object)

    def amount(self, before: Observation, after: Observation, old: Any, new: Any) -> int:
        """Return how many changes lie between two known values."""
        if self._kind == "value":
            return 0 if same_value(old, new) else 1
        amount = max(0, int(new) - int(old))
        if self._kind == "generation" and amount and _deletion_started(before, after):
            amount -= 1
        return amount


def _deletion_started(before: Observation, after: Observation) -> bool:
    def marked(obs: Observation) -> bool:
        meta = (obs.object or {}).get("metadata") or {}
        return bool(meta.get("deletionTimestamp"))

    return (
        before.object is not None and after.object is not None and marked(after)
    ) and not marked(before)


Countable = Changes | State | Callable[[Any], Any] | str
"""What `CountMatcher` counts: a `Changes`, or a state function or dotted path."""


class CountMatcher:
    """Count changes of one object ("updated exactly once") as its timeline is fed.

    Args:
        what: A `Changes`, or a state function / field path (`Changes.of`).
        exactly: The exact number of changes expected.
        at_least: The fewest expected.
        at_most: The most allowed.

    It fails (IMPOSSIBLE) the moment the count exceeds the upper bound, passes
    at once when only a lower bound is given and reached, and otherwise decides
    at `close()` or when the object is deleted. Across a gap, counts that
    cannot be known exactly make the verdict UNDECIDABLE when they matter.

    >>> from kwait._watch.timeline import Recorder
    >>> rec = Recorder(clock=None)
    >>> def pod(rv, gen):
    ...     return {"kind": "Pod", "metadata": {"name": "db-1", "uid": "u1",
    ...             "resourceVersion": rv, "generation": gen}}
    >>> m = CountMatcher(Changes.generation(), exactly=1)
    >>> [m.feed(rec.add_observation("MODIFIED", pod(rv, gen))).status.value
    ...  for rv, gen in [("1", 1), ("2", 2), ("3", 3)]]
    ['pending', 'pending', 'impossible']
    >>> m.outcome.reason
    'generation changes: counted 2 by #2 MODIFIED rv 3; expected exactly 1'
    """

    def __init__(
        self,
        what: Countable,
        *,
        exactly: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
    ) -> None:
        self.changes = what if isinstance(what, Changes) else Changes.of(what)
        if exactly is not None:
            if at_least is not None or at_most is not None:
                raise ValueError("give exactly, or at_least and/or at_most, not both")
            at_least = at_most = exactly
        if at_least is None and at_most is None:
            raise ValueError("give exactly, at_least or at_most")
        self.low_bound = at_least or 0
        self.high_bound = at_most
        if self.high_bound is not None and self.high_bound < self.low_bound:
            raise ValueError(f"at_most {at_most} is below at_least {at_least}")
        self.identity: Identity | None = None
        self.low = 0
        self.high: int | None = 0  # None: hidden changes may have added any number
        self.counted: list[Change] = []
        self._prev: Observation | None = None
        self._prev_value: Any = NONE
        self._gap: Gap | Observation | None = None
        self._unknown: list[Gap | Observation] = []
        self._outcome = PENDING

    @property
    def state(self) -> State:
        """The counted value's state function (for report tables)."""
        return self.changes.state

    @property
    def outcome(self) -> Outcome:
        """The verdict so far."""
        return self._outcome

    def describe(self) -> str:
        """Return the expectation as text, e.g. ``generation changes: exactly 1``."""
        return f"{self.changes.noun}: {self._bounds()}"

    def _bounds(self) -> str:
        low, high = self.low_bound, self.high_bound
        if high is None:
            return f"at least {low}"
        if low == high:
            return f"exactly {low}"
        return f"at most {high}" if low == 0 else f"between {low} and {high}"

    def _counted(self) -> str:
        if self.high == self.low:
            return f"{self.low}"
        return f"{self.low} to {self.high}" if self.high is not None else f"at least {self.low}"

    def feed(self, entry: Entry) -> Outcome:
        """Take the next timeline entry; return the verdict so far."""
        if self._outcome.done or isinstance(entry, Reconnect):
            return self._outcome
        if isinstance(entry, Gap):
            self._hide(entry)
            return self._outcome
        if self.identity is None:
            self.identity = entry.identity
        elif entry.identity.uid != self.identity.uid:
            raise ValueError(f"this counter follows {self.identity}, not {entry.identity}")
        if entry.type == "DELETED":
            return self._finish(entry)
        value = self.changes.value(entry)
        if value is NONE:
            self._hide(entry)
            return self._outcome
        if self._prev is not None:
            self._compare(self._prev, entry, self._prev_value, value)
        self._prev, self._prev_value, self._gap = entry, value, None
        return self._decide(entry)

    def _hide(self, entry: Gap | Observation) -> None:
        if self._prev is not None:
            self._gap = self._gap or entry
            self._unknown.append(entry)

    def _compare(self, before: Observation, after: Observation, old: Any, new: Any) -> None:
        amount = self.changes.amount(before, after, old, new)
        hidden = self._gap is not None and not self.changes.exact_across_gaps
        if hidden:
            self.high = None
        elif self.high is not None:
            self.high += amount
        self.low += amount
        if amount or hidden:
            self.counted.append(Change(before, after, old, new, amount, self._gap))

    def _decide(self, entry: Observation) -> Outcome:
        if self.high_bound is not None and self.low > self.high_bound:
            return self._set(
                Outcome(
                    Status.IMPOSSIBLE,
                    f"{self.changes.noun}: counted {self._counted()} by {locate(entry)}; "
                    f"expected {self._bounds()}",
                    entry,
                )
            )
        if self.high_bound is None and self.low >= self.low_bound:
            return self._set(
                Outcome(Status.MATCHED, f"counted {self.low} at {locate(entry)}", entry)
            )
        return self._outcome

    def _set(self, outcome: Outcome) -> Outcome:
        self._outcome = outcome
        return outcome

    def _verdict(self) -> Status:
        high_ok = self.high_bound is None or (
            self.high is not None and self.high <= self.high_bound
        )
        if self.low >= self.low_bound and high_ok:
            return Status.MATCHED
        if self.high is not None and self.high < self.low_bound:
            return Status.UNMET
        return Status.UNDECIDABLE

    def _finish(self, entry: Observation | None) -> Outcome:
        verdict = self._verdict()
        when = f"the object was deleted at {locate(entry)}" if entry else "the window closed"
        counted = f"{self.changes.noun}: counted {self._counted()}"
        if verdict is Status.MATCHED:
            return self._set(Outcome(Status.MATCHED, f"{when}; {counted}", entry))
        if verdict is Status.UNDECIDABLE:
            return self._set(
                Outcome(
                    Status.UNDECIDABLE,
                    f"{when}; {counted}, expected {self._bounds()}; the answer depends on "
                    f"what happened inside {unknown_text(self._unknown)}",
                    entry,
                    tuple(self._unknown),
                )
            )
        status = Status.IMPOSSIBLE if entry is not None else Status.UNMET
        return self._set(Outcome(status, f"{when}; {counted}, expected {self._bounds()}", entry))

    def close(self) -> Outcome:
        """End the observation window and return the final verdict."""
        if self._outcome.done:
            return self._outcome
        return self._finish(None)

    def progress(self) -> Progress:
        """Return the changes counted so far, as steps."""
        steps = []
        for change in self.counted:
            via = " (across a gap)" if change.gap is not None else ""
            times = f" ({change.amount} changes)" if change.amount > 1 else ""
            steps.append(Step(f"{change.old!r} → {change.new!r}{times}{via}", change.after))
        waiting: tuple[str, ...] = ()
        if not self._outcome.done:
            waiting = ("the window to close",)
            if self.low < self.low_bound:
                waiting = (f"{self.changes.noun}: {self.low_bound - self.low} more",)
        return Progress(
            f"{self.changes.noun}: counted {self._counted()}; expected {self._bounds()}",
            tuple(steps),
            waiting,
            step_name="change",
        )
