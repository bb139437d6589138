"""What a check says: its status, the entry that decided it, and how far it got."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from kwait._match.states import (
    State,
)
from kwait._watch.timeline import Entry, Gap, Observation

# ====================================================================== outcomes


class Status(enum.Enum):
    """Where a check stands.

    >>> from kwait.matchers import Status
    >>> [s.value for s in Status if s is not Status.PENDING]
    ['matched', 'impossible', 'undecidable', 'unmet']
    """

    PENDING = "pending"
    """Not decided yet."""
    MATCHED = "matched"
    """Satisfied (final)."""
    IMPOSSIBLE = "impossible"
    """Can no longer be satisfied: a forbidden state, deletion, a terminal state (final)."""
    UNDECIDABLE = "undecidable"
    """The answer depends on states hidden in a gap (final)."""
    UNMET = "unmet"
    """The window closed before it was satisfied (final, from ``close()``)."""


@dataclass(frozen=True)
class Outcome:
    """A check's verdict after an entry, with the entry that decided it.

    Attributes:
        status: See `Status`.
        reason: One sentence for messages ("" while pending).
        entry: The entry that decided it (None while pending, or at ``close()``).
        unknown: For UNDECIDABLE, the gaps (or evicted observations) it depends on.

    >>> from kwait.matchers import Matcher
    >>> from kwait.states import phase
    >>> from kwait.watch import Recorder
    >>> recorder, matcher = Recorder(clock=None), Matcher(phase(), ["Pending", "Running"])
    >>> def pod(rv, phase):
    ...     return {"kind": "Pod", "metadata": {"name": "web-0", "uid": "u1",
    ...             "resourceVersion": rv}, "status": {"phase": phase}}
    >>> matcher.feed(recorder.add_observation("ADDED", pod("1", "Pending"))).done
    False
    >>> outcome = matcher.feed(recorder.add_observation("MODIFIED", pod("2", "Running")))
    >>> outcome.passed, outcome.reason
    (True, 'matched at #1 MODIFIED rv 2')
    """

    status: Status
    reason: str = ""
    entry: Observation | Gap | None = None
    unknown: tuple[Gap | Observation, ...] = ()

    @property
    def done(self) -> bool:
        """True once the verdict is final."""
        return self.status is not Status.PENDING

    @property
    def passed(self) -> bool:
        """True when the check is satisfied."""
        return self.status is Status.MATCHED


PENDING: Final = Outcome(Status.PENDING)


@dataclass(frozen=True)
class Step:
    """One matched element (or counted change) and the entry it matched.

    >>> from kwait.matchers import Matcher
    >>> from kwait.states import phase
    >>> from kwait.watch import Recorder
    >>> recorder, matcher = Recorder(clock=None), Matcher(phase(), ["Pending", "Running"])
    >>> def pod(rv, phase):
    ...     return {"kind": "Pod", "metadata": {"name": "web-0", "uid": "u1",
    ...             "resourceVersion": rv}, "status": {"phase": phase}}
    >>> _ = matcher.feed(recorder.add_observation("ADDED", pod("1", "Pending")))
    >>> step = matcher.progress().steps[0]
    >>> step.element, step.entry.resource_version
    ("'Pending'", '1')
    """

    element: str
    entry: Observation | Gap


@dataclass(frozen=True)
class Progress:
    """How far a check got, for failure reports.

    Attributes:
        summary: One line, e.g. ``2 of 4 steps matched``.
        steps: The elements matched so far on the most advanced path, with the
            observations that matched them (a Gap where a step may have happened
            unseen inside it).
        waiting_for: What the check waits for next.
        constraints: Span constraints in force and their counts so far.
        lost: When an earlier attempt got further than `steps` and broke off:
            what it had matched and the state that broke it ("" otherwise).
        step_name: What a step is called in reports (``step``, ``change``).

    >>> from kwait.matchers import Matcher
    >>> from kwait.states import phase
    >>> from kwait.watch import Recorder
    >>> recorder, matcher = Recorder(clock=None), Matcher(phase(), ["Pending", "Running"])
    >>> def pod(rv, phase):
    ...     return {"kind": "Pod", "metadata": {"name": "web-0", "uid": "u1",
    ...             "resourceVersion": rv}, "status": {"phase": phase}}
    >>> _ = matcher.feed(recorder.add_observation("ADDED", pod("1", "Pending")))
    >>> progress = matcher.progress()
    >>> progress.summary, progress.waiting_for
    ('1 of 2 steps matched', ("'Running'",))
    """

    summary: str
    steps: tuple[Step, ...] = ()
    waiting_for: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    lost: str = ""
    step_name: str = "step"

    def notes(self) -> dict[int, str]:
        """Return notes for report rows, by entry sequence number."""
        notes: dict[int, str] = {}
        for i, step in enumerate(self.steps, 1):
            text = f"{self.step_name} {i}: {step.element}"
            seq = step.entry.seq
            notes[seq] = f"{notes[seq]}; {text}" if seq in notes else text
        return notes


@runtime_checkable
class Check(Protocol):
    """What report rendering and the waiting code need from `Matcher` and `CountMatcher`.

    >>> from kwait import Changes
    >>> from kwait.matchers import Check, CountMatcher, Matcher
    >>> from kwait.states import phase
    >>> isinstance(Matcher(phase(), ["Running"]), Check)
    True
    >>> isinstance(CountMatcher(Changes.restarts(), at_most=0), Check)
    True
    """

    @property
    def state(self) -> State:
        """The state function whose values the report's table shows."""
        ...

    @property
    def outcome(self) -> Outcome:
        """The verdict so far."""
        ...

    def describe(self) -> str:
        """Return the expectation as text (a pattern's repr, a count's bounds)."""
        ...

    def progress(self) -> Progress:
        """Return how far the check got."""
        ...

    def feed(self, entry: Entry) -> Outcome:
        """Take the next timeline entry and return the verdict so far."""
        ...

    def close(self) -> Outcome:
        """End the observation window and return the final verdict."""
        ...


def locate(entry: Observation | Gap) -> str:
    if isinstance(entry, Gap):
        return f"gap #{entry.seq} (rv {entry.from_rv}..{entry.to_rv})"
    return f"#{entry.seq} {entry.type} rv {entry.resource_version}"


def unknown_text(unknown: Sequence[Gap | Observation], limit: int = 3) -> str:
    parts = []
    for u in unknown[:limit]:
        if isinstance(u, Gap):
            parts.append(f"gap #{u.seq} rv {u.from_rv}..{u.to_rv} ({u.reason})")
        else:
            parts.append(f"evicted observation #{u.seq} rv {u.resource_version}")
    more = len(unknown) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


NONE: Final[Any] = object()
"""No value yet (distinct from None, which is a state value)."""
