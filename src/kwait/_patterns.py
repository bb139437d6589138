"""Patterns over the distinct states an object passes through, matched online.

A state function (see `kwait.State`) turns every observation of one object
into a value; consecutive equal values collapse into one *distinct state*. A
pattern describes a sequence of distinct states:

* a plain list, or `in_order`: these states in this order, other states
  allowed before, between and after;
* `consecutive`: these states with nothing between them;
* `at_least`, `between`, `optional`: repetition of a state or a sub-pattern
  (separated by anything in `in_order`, adjacent in `consecutive`);
* `any_of` (or ``|``): one of several sub-patterns;
* `never`, `exactly`, `at_most`: inside an `in_order`, how often a state may
  occur in the span between the neighbouring elements (or, at the ends, from
  the first observation / until the window closes); alone, over the whole
  window. `Pattern.without` forbids states over a whole pattern.

Elements are plain values (compared with ``==``; `kwait.DELETED` matches the
object's deletion) or predicates over values (`one_of`, `matches`, any
callable, combinable with ``&``, ``|``, ``~``).

`Matcher` is fed one timeline entry at a time and says after each one whether
the pattern is still pending, matched, impossible (a forbidden state, the
object deleted or in a terminal state with the pattern incomplete), or
undecidable because of a gap. `CountMatcher` counts changes ("updated exactly
once"). Both have `close()` for the end of the observation window, and both
expose their `progress()` for failure reports.

>>> m = Matcher(lambda pod: pod["status"]["phase"], ["Pending", "Running"])
>>> m.pattern
in_order('Pending', 'Running')
"""

from __future__ import annotations

import copy
import enum
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from kwait._states import (
    DELETED,
    DeletedType,
    Predicate,
    State,
    as_predicate,
    as_state,
    deleted,
    field,
    generation,
    restart_count,
    same_value,
)
from kwait._timeline import Entry, Gap, Identity, Observation, Reconnect

__all__ = [
    "Change",
    "Changes",
    "Check",
    "CountMatcher",
    "Matcher",
    "Outcome",
    "Pattern",
    "Progress",
    "Status",
    "Step",
    "any_of",
    "as_pattern",
    "at_least",
    "at_most",
    "between",
    "consecutive",
    "exactly",
    "in_order",
    "matches",
    "never",
    "one_of",
    "optional",
]


# ====================================================================== elements


@dataclass(frozen=True, eq=False)
class _Test:
    """One element test: a value to compare with, or a predicate over values."""

    fn: Callable[[Any], Any]
    text: str
    deletion_only: bool  # can match nothing but DELETED, so never inside a gap

    def __call__(self, value: Any) -> bool:
        return bool(self.fn(value))


def _test(item: Any) -> _Test:
    if isinstance(item, Predicate):
        if item.reads_objects:
            raise TypeError(
                f"{item!r} tests whole objects, but pattern elements test the values of the "
                "state function: make it the state function (and match True), or test values "
                "with a plain value, one_of(...), matches(...) or a callable"
            )
        return _Test(item, repr(item), deletion_only=item is deleted)
    if isinstance(item, State):
        raise TypeError(
            f"{item!r} is a state function, not a pattern element; compare values instead"
        )
    if isinstance(item, Pattern):
        raise TypeError(f"{item!r} is a pattern, not a single element")
    if callable(item) and not isinstance(item, type):
        pred = as_predicate(item)
        return _Test(pred, repr(pred), deletion_only=False)
    return _Test(
        lambda value: same_value(value, item),
        repr(item),
        deletion_only=isinstance(item, DeletedType),
    )


def one_of(*values: Any) -> Predicate:
    """A pattern element matching any of `values`.

    >>> one_of("ErrImagePull", "ImagePullBackOff")("ImagePullBackOff")
    True
    """
    shown = ", ".join(repr(v) for v in values)
    return Predicate(
        lambda value: any(same_value(value, v) for v in values),
        f"one of {shown}",
        name=f"one_of({shown})",
        on_deleted=any(isinstance(v, DeletedType) for v in values),
    )


def matches(regex: str) -> Predicate:
    """A pattern element matching string states that `regex` matches (``re.search``).

    >>> matches("^Err")("ErrImagePull"), matches("^Err")(None)
    (True, False)
    """
    compiled = re.compile(regex)
    return Predicate(
        lambda value: isinstance(value, str) and compiled.search(value) is not None,
        f"matching /{regex}/",
        name=f"matches({regex!r})",
    )


# ====================================================================== the language

_CONSUME, _SKIP, _SPLIT, _CONSTRAIN, _ACCEPT = range(5)


class Pattern:
    """A pattern over distinct states. Build one with `in_order`, `consecutive`...

    Patterns are immutable and reusable; ``p | q`` is `any_of` ``(p, q)``.
    """

    __slots__ = ("__weakref__", "_nfa")

    def __init__(self) -> None:
        self._nfa: _NFA | None = None

    def __or__(self, other: Any) -> Pattern:
        """Either pattern."""
        return any_of(self, other)

    def __ror__(self, other: Any) -> Pattern:
        """Either pattern (with a plain element on the left)."""
        return any_of(other, self)

    def without(self, *forbidden: Any) -> Pattern:
        """Forbid states over the whole pattern: any of them before the match fails it.

        >>> in_order("Pending", "Running").without("Failed")
        in_order('Pending', 'Running').without('Failed')
        """
        if not forbidden:
            raise ValueError("without() needs at least one state")
        return _Without(self, tuple(_test(f) for f in forbidden))

    def matcher(self, state: Callable[[Any], Any]) -> Matcher:
        """Return a fresh `Matcher` of this pattern over `state`."""
        return Matcher(state, self)

    def _compiled(self) -> _NFA:
        """Return the automaton that matchers run (built once per pattern)."""
        if self._nfa is None:
            self._nfa = _NFA.build(self)
        return self._nfa


class _Element(Pattern):
    __slots__ = ("test",)

    def __init__(self, test: _Test) -> None:
        super().__init__()
        self.test = test

    def __repr__(self) -> str:
        return self.test.text


class _Sequence(Pattern):
    __slots__ = ("items", "strict")

    def __init__(self, items: tuple[Pattern, ...], *, strict: bool) -> None:
        super().__init__()
        if not items:
            raise ValueError("a sequence needs at least one element")
        if strict:
            for item in items:
                if isinstance(item, _Constraint):
                    raise TypeError(
                        f"{item!r} inside consecutive() has no span to apply to; "
                        "put it in an in_order()"
                    )
        self.items = items
        self.strict = strict

    def __repr__(self) -> str:
        name = "consecutive" if self.strict else "in_order"
        return f"{name}({', '.join(repr(i) for i in self.items)})"


class _Choice(Pattern):
    __slots__ = ("options",)

    def __init__(self, options: tuple[Pattern, ...]) -> None:
        super().__init__()
        if len(options) < 2:  # noqa: PLR2004
            raise ValueError("any_of() needs at least two alternatives")
        for option in options:
            if isinstance(option, _Constraint):
                raise TypeError(f"{option!r} cannot be an alternative; use it in an in_order()")
        self.options = options

    def __repr__(self) -> str:
        return f"any_of({', '.join(repr(o) for o in self.options)})"


class _Repeat(Pattern):
    __slots__ = ("body", "high", "low")

    def __init__(self, body: Pattern, low: int, high: int | None) -> None:
        super().__init__()
        if low < 0 or (high is not None and (high < low or high < 1)):
            raise ValueError(f"bad repetition bounds {low}..{high}")
        if isinstance(body, _Constraint):
            raise TypeError(f"{body!r} cannot be repeated; use exactly() to count occurrences")
        self.body, self.low, self.high = body, low, high

    def __repr__(self) -> str:
        if self.high is None:
            return f"at_least({self.low}, {self.body!r})"
        if (self.low, self.high) == (0, 1):
            return f"optional({self.body!r})"
        return f"between({self.low}, {self.high}, {self.body!r})"


class _Constraint(Pattern):
    __slots__ = ("high", "low", "test")

    def __init__(self, test: _Test, low: int, high: int) -> None:
        super().__init__()
        if low < 0 or high < low:
            raise ValueError(f"bad count bounds {low}..{high}")
        self.test, self.low, self.high = test, low, high

    def __repr__(self) -> str:
        if self.high == 0:
            return f"never({self.test.text})"
        if self.low == self.high:
            return f"exactly({self.low}, {self.test.text})"
        return f"at_most({self.high}, {self.test.text})"


class _Without(Pattern):
    __slots__ = ("body", "forbidden")

    def __init__(self, body: Pattern, forbidden: tuple[_Test, ...]) -> None:
        super().__init__()
        self.body, self.forbidden = body, forbidden

    def __repr__(self) -> str:
        return f"{self.body!r}.without({', '.join(t.text for t in self.forbidden)})"


PatternLike = Pattern | list[Any] | Any


def as_pattern(item: PatternLike) -> Pattern:
    """Return `item` as a pattern: a list is `in_order`, anything else one element.

    >>> as_pattern(["Pending", "Running"])
    in_order('Pending', 'Running')
    >>> as_pattern("Running")
    'Running'
    """
    if isinstance(item, Pattern):
        return item
    if isinstance(item, list):
        return _Sequence(tuple(_part(i) for i in item), strict=False)
    return _Element(_test(item))


def _part(item: PatternLike) -> Pattern:
    pattern = as_pattern(item)
    if isinstance(pattern, _Without):
        raise TypeError(f"{pattern!r} can only be a whole pattern, not part of one")
    return pattern


def in_order(*items: PatternLike) -> Pattern:
    """These states in this order, any other states allowed before, between and after.

    >>> in_order("ErrImagePull", "ImagePullBackOff", never("Running"), "ErrImagePull")
    in_order('ErrImagePull', 'ImagePullBackOff', never('Running'), 'ErrImagePull')
    """
    return _Sequence(tuple(_part(i) for i in items), strict=False)


def consecutive(*items: PatternLike) -> Pattern:
    """These states one right after the other (other states allowed before the first).

    >>> consecutive("ErrImagePull", "ImagePullBackOff")
    consecutive('ErrImagePull', 'ImagePullBackOff')
    """
    return _Sequence(tuple(_part(i) for i in items), strict=True)


def at_least(n: int, item: PatternLike) -> Pattern:
    """`item` at least `n` times (apart in `in_order`, back to back in `consecutive`).

    >>> at_least(2, consecutive("ErrImagePull", "ImagePullBackOff"))
    at_least(2, consecutive('ErrImagePull', 'ImagePullBackOff'))
    """
    return _Repeat(_part(item), n, None)


def between(n: int, m: int, item: PatternLike) -> Pattern:
    """`item` from `n` to `m` times.

    The upper bound only bites where repetitions must be adjacent (in
    `consecutive`); in `in_order`, extra occurrences count as "other states".
    To cap how often a state occurs, use `at_most` or `exactly`.
    """
    return _Repeat(_part(item), n, m)


def optional(item: PatternLike) -> Pattern:
    """`item` zero or one time."""
    return _Repeat(_part(item), 0, 1)


def any_of(*items: PatternLike) -> Pattern:
    """One of several sub-patterns (for one of several *states*, `one_of` is simpler).

    >>> any_of(["Pending", "Running"], "Succeeded")
    any_of(in_order('Pending', 'Running'), 'Succeeded')
    """
    return _Choice(tuple(_part(i) for i in items))


def never(item: Any) -> Pattern:
    """A state that must not occur in the span where this stands (alone: ever).

    Alone, the pattern can only pass when the observation window closes; it
    fails on the first occurrence.

    >>> never(one_of("Failed", "Unknown"))
    never(one_of('Failed', 'Unknown'))
    """
    return _Constraint(_test(item), 0, 0)


def exactly(n: int, item: Any) -> Pattern:
    """A state that occurs exactly `n` times (as distinct states) in its span.

    It fails as soon as there is one too many, and passes only when its span
    ends (alone: when the window closes).

    >>> exactly(2, "ErrImagePull")
    exactly(2, 'ErrImagePull')
    """
    return _Constraint(_test(item), n, n)


def at_most(n: int, item: Any) -> Pattern:
    """A state that occurs at most `n` times in its span."""
    return _Constraint(_test(item), 0, n)


# ====================================================================== compilation


class _Builder:
    def __init__(self) -> None:
        self.kinds: list[int] = []
        self.nexts: list[int] = []
        self.alts: list[tuple[int, ...]] = []
        self.leaves: list[int] = []
        self.constraints: list[int] = []
        self.tests: list[_Test] = []
        self._leaf_ids: dict[int, int] = {}
        self.counts: list[_Constraint] = []
        self._count_ids: dict[int, int] = {}

    def node(
        self,
        kind: int,
        nxt: int = -1,
        *,
        leaf: int = -1,
        constraint: int = -1,
        alts: tuple[int, ...] = (),
    ) -> int:
        self.kinds.append(kind)
        self.nexts.append(nxt)
        self.alts.append(alts)
        self.leaves.append(leaf)
        self.constraints.append(constraint)
        return len(self.kinds) - 1

    def leaf(self, element: _Element) -> int:
        key = id(element)
        if key not in self._leaf_ids:
            self._leaf_ids[key] = len(self.tests)
            self.tests.append(element.test)
        return self._leaf_ids[key]

    def constraint(self, item: _Constraint) -> int:
        key = id(item)
        if key not in self._count_ids:
            self._count_ids[key] = len(self.counts)
            self.counts.append(item)
        return self._count_ids[key]


def _compile(p: Pattern, b: _Builder, nxt: int, *, gap: bool, loose: bool) -> int:
    """Emit the automaton for `p` in front of node `nxt`; return its entry node.

    `gap`: other states may come before `p`'s first state. `loose`: the
    enclosing sequence allows other states between its parts.
    """
    if isinstance(p, _Element):
        node = b.node(_CONSUME, nxt, leaf=b.leaf(p))
        return b.node(_SKIP, node) if gap else node
    if isinstance(p, _Sequence):
        items = p.items
        first = next(
            (i for i, it in enumerate(items) if not isinstance(it, _Constraint)), len(items)
        )
        current = nxt
        for i in reversed(range(len(items))):
            item_gap = gap if i <= first else not p.strict
            current = _compile(items[i], b, current, gap=item_gap, loose=not p.strict)
        return current
    if isinstance(p, _Choice):
        entries = tuple(_compile(o, b, nxt, gap=gap, loose=loose) for o in p.options)
        return b.node(_SPLIT, alts=entries)
    if isinstance(p, _Repeat):
        return _compile_repeat(p, b, nxt, gap=gap, loose=loose)
    if isinstance(p, _Constraint):
        return b.node(_CONSTRAIN, nxt, constraint=b.constraint(p))
    raise TypeError(f"{p!r} can only be a whole pattern, not part of one")


def _compile_repeat(p: _Repeat, b: _Builder, nxt: int, *, gap: bool, loose: bool) -> int:
    body, low, high = p.body, p.low, p.high
    # Copies after the first are separated as the enclosing sequence says.
    if high is None:
        loop = b.node(_SPLIT)
        b.alts[loop] = (_compile(body, b, loop, gap=loose, loose=loose), nxt)
        tail = loop
    else:
        tail = nxt
        for _ in range(high - max(low, 1)):
            entry = _compile(body, b, tail, gap=loose, loose=loose)
            tail = b.node(_SPLIT, alts=(entry, nxt))
    if low == 0:
        return b.node(_SPLIT, alts=(_compile(body, b, tail, gap=gap, loose=loose), nxt))
    current = tail
    for k in reversed(range(low)):
        current = _compile(body, b, current, gap=gap if k == 0 else loose, loose=loose)
    return current


# A thread's constraint counts: sorted (constraint, low, high) triples. Exact
# counts have low == high; after a gap, high is what hidden states could add.
Counts = tuple[tuple[int, int, int], ...]
Key = tuple[int, Counts]


class _Hist:
    """One matched step on a thread's path (a persistent linked list)."""

    __slots__ = ("entry", "leaf", "prev", "size")

    def __init__(self, leaf: int, entry: Observation | Gap, prev: _Hist | None) -> None:
        self.leaf, self.entry, self.prev = leaf, entry, prev
        self.size: int = 1 + (prev.size if prev is not None else 0)

    def items(self) -> list[tuple[int, Observation | Gap]]:
        out: list[tuple[int, Observation | Gap]] = []
        node: _Hist | None = self
        while node is not None:
            out.append((node.leaf, node.entry))
            node = node.prev
        out.reverse()
        return out


def _size(hist: _Hist | None) -> int:
    return 0 if hist is None else hist.size


Threads = dict[Key, _Hist | None]


class _NFA:
    def __init__(self, b: _Builder, start: int, accept: int, forbid: tuple[_Test, ...]) -> None:
        self.kinds, self.nexts, self.alts = b.kinds, b.nexts, b.alts
        self.leaves, self.constraints, self.tests = b.leaves, b.constraints, b.tests
        self.counts = b.counts
        self.cmin = [c.low for c in b.counts]
        self.cmax = [c.high for c in b.counts]
        self.accept = accept
        self.forbid = forbid
        self.eps = [self._closure(n) for n in range(len(self.kinds))]
        self.remaining = self._remaining()
        self.start = start

    @classmethod
    def build(cls, pattern: Pattern) -> _NFA:
        b = _Builder()
        accept = b.node(_ACCEPT)
        forbid: tuple[_Test, ...] = ()
        if isinstance(pattern, _Without):
            forbid = pattern.forbidden
            pattern = pattern.body
        start = _compile(pattern, b, accept, gap=True, loose=True)
        return cls(b, start, accept, forbid)

    def _closure(self, node: int) -> list[tuple[int, tuple[int, ...]]]:
        """Stable nodes reachable from `node` without consuming, with the constraints added."""
        out: list[tuple[int, tuple[int, ...]]] = []
        seen: set[tuple[int, tuple[int, ...]]] = set()
        stack: list[tuple[int, tuple[int, ...]]] = [(node, ())]
        while stack:
            n, adds = stack.pop()
            if (n, adds) in seen:
                continue
            seen.add((n, adds))
            kind = self.kinds[n]
            if kind == _SPLIT:
                stack.extend((a, adds) for a in reversed(self.alts[n]))
            elif kind == _CONSTRAIN:
                c = self.constraints[n]
                stack.append((self.nexts[n], adds if c in adds else tuple(sorted((*adds, c)))))
            else:
                out.append((n, adds))
                if kind == _SKIP:
                    stack.append((self.nexts[n], adds))
        return out

    def _remaining(self) -> list[int]:
        """Fewest states still to consume from each node to the accepting one (0-1 BFS)."""
        size = len(self.kinds)
        back: list[list[tuple[int, int]]] = [[] for _ in range(size)]
        for n, kind in enumerate(self.kinds):
            if kind == _CONSUME:
                back[self.nexts[n]].append((n, 1))
            elif kind in (_SKIP, _CONSTRAIN):
                back[self.nexts[n]].append((n, 0))
            elif kind == _SPLIT:
                for a in self.alts[n]:
                    back[a].append((n, 0))
        inf = size + 1
        dist = [inf] * size
        dist[self.accept] = 0
        queue: deque[int] = deque([self.accept])
        while queue:
            n = queue.popleft()
            for prev, weight in back[n]:
                if dist[n] + weight < dist[prev]:
                    dist[prev] = dist[n] + weight
                    if weight:
                        queue.append(prev)
                    else:
                        queue.appendleft(prev)
        return dist


def _merge(counts: Counts, adds: tuple[int, ...]) -> Counts:
    if not adds:
        return counts
    have = {c for c, _, _ in counts}
    new = [(c, 0, 0) for c in adds if c not in have]
    return tuple(sorted((*counts, *new))) if new else counts


def _put(out: Threads, key: Key, hist: _Hist | None) -> None:
    old = out.get(key, _ABSENT)
    if old is _ABSENT or _size(hist) > _size(old):
        out[key] = hist


_ABSENT: Final[Any] = object()


# ====================================================================== outcomes


class Status(enum.Enum):
    """Where a check stands."""

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


_PENDING: Final = Outcome(Status.PENDING)


@dataclass(frozen=True)
class Step:
    """One matched element (or counted change) and the entry it matched."""

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
    """What report rendering and the waiting code need from `Matcher` and `CountMatcher`."""

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


def _where(entry: Observation | Gap) -> str:
    if isinstance(entry, Gap):
        return f"gap #{entry.seq} (rv {entry.from_rv}..{entry.to_rv})"
    return f"#{entry.seq} {entry.type} rv {entry.resource_version}"


def _unknown_text(unknown: Sequence[Gap | Observation], limit: int = 3) -> str:
    parts = []
    for u in unknown[:limit]:
        if isinstance(u, Gap):
            parts.append(f"gap #{u.seq} rv {u.from_rv}..{u.to_rv} ({u.reason})")
        else:
            parts.append(f"evicted observation #{u.seq} rv {u.resource_version}")
    more = len(unknown) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


# ====================================================================== the matcher

_NONE: Final[Any] = object()


class Matcher:
    """Match one object's timeline against a pattern, one entry at a time.

    Args:
        state: The state function (a `kwait.State` or any callable on raw objects).
        pattern: A `Pattern`, a list (`in_order`), or a single element.
        identity: The object to expect; by default the first observation's.

    Feed it the entries of one identity's timeline (`Observation` and `Gap`;
    `Reconnect` is ignored). After each, `feed` returns an `Outcome`:

    * MATCHED the moment the pattern is satisfied;
    * IMPOSSIBLE the moment it no longer can be: a forbidden state, the object
      deleted while more states are needed, a terminal state (see
      `kwait.State.is_terminal`) from which the rest cannot follow;
    * UNDECIDABLE when the answer depends on states hidden in a gap (or an
      evicted observation): never a silent pass or fail. A gap the answer does
      not depend on changes nothing;
    * PENDING otherwise. Patterns with `never`/`exactly`/`at_most` at their end
      can only pass at `close()`, which also turns PENDING into UNMET.

    The verdict is final once decided: later entries are ignored. Cost is
    linear in the number of entries.

    >>> from kwait._timeline import Recorder
    >>> rec = Recorder(clock=None)
    >>> def pod(rv, reason):
    ...     waiting = {"waiting": {"reason": reason}}
    ...     return {"kind": "Pod", "metadata": {"name": "vm", "uid": "u1", "resourceVersion": rv},
    ...             "status": {"containerStatuses": [{"name": "app", "state": waiting}]}}
    >>> from kwait._states import waiting_reason
    >>> m = Matcher(waiting_reason(), ["ErrImagePull", "ImagePullBackOff", "ErrImagePull"])
    >>> for rv, reason in [("1", "ContainerCreating"), ("2", "ErrImagePull"),
    ...                    ("3", "ImagePullBackOff"), ("4", "ErrImagePull")]:
    ...     outcome = m.feed(rec.add_observation("MODIFIED", pod(rv, reason)))
    >>> outcome.status, [s.entry.resource_version for s in m.progress().steps]
    (<Status.MATCHED: 'matched'>, ['2', '3', '4'])
    """

    def __init__(
        self,
        state: Callable[[Any], Any],
        pattern: PatternLike,
        *,
        identity: Identity | None = None,
    ) -> None:
        self._state = as_state(state)
        self.pattern = as_pattern(pattern)
        self.identity = identity
        self._nfa = self.pattern._compiled()  # noqa: SLF001 - same module
        self._lo: Threads = {}
        self._add_closure(self._lo, self._nfa.start, (), None)
        self._hi: Threads | None = None  # None until the first gap: then lo != hi
        self._maybe: tuple[Gap | Observation, ...] = ()  # gaps in which it may have matched
        self._unknown: list[Gap | Observation] = []
        self._last: Any = _NONE
        self._after_gap = False
        self._terminal = False
        self._match: Any = _ABSENT  # the accepting path, once matched
        self._last_alive: Threads = {}
        self._killers: list[str] = []
        self._outcome = _PENDING
        self._last_value: Any = _NONE
        self._furthest: _Hist | None = None
        self._lost = ""
        accept = self._accepting(self._lo)
        if accept is not _ABSENT:
            self._match = accept
            self._outcome = Outcome(Status.MATCHED, "the pattern matches before any state")

    # -------------------------------------------------------------- public
    @property
    def state(self) -> State:
        """The state function."""
        return self._state

    @property
    def outcome(self) -> Outcome:
        """The verdict so far."""
        return self._outcome

    def describe(self) -> str:
        """Return the pattern as text."""
        return repr(self.pattern)

    def feed(self, entry: Entry) -> Outcome:
        """Take the next entry of the object's timeline; return the verdict so far."""
        if self._outcome.done or isinstance(entry, Reconnect):
            return self._outcome
        if isinstance(entry, Gap):
            self._unknown_span(entry)
            return self._decide(entry)
        if self.identity is None:
            self.identity = entry.identity
        elif entry.identity.uid != self.identity.uid:
            raise ValueError(f"this matcher follows {self.identity}, not {entry.identity}")
        if entry.type == "DELETED":
            self._observe(self._state(DELETED), entry)
            out = self._decide(entry)
            if not out.done:
                out = self._ended(entry)
            return self._set(out)
        if entry.object is None:
            self._unknown_span(entry)
            return self._decide(entry)
        value = self._state(entry.object)
        self._observe(value, entry)
        out = self._decide(entry)
        self._terminal = self._state.is_terminal(entry.object)
        if self._terminal and not out.done:
            out = self._set(self._at_terminal(entry, value))
        return out

    def feed_all(self, entries: Iterable[Entry]) -> Outcome:
        """Feed entries until the verdict is final; return it."""
        for entry in entries:
            if self.feed(entry).done:
                break
        return self._outcome

    def close(self) -> Outcome:
        """End the observation window and return the final verdict."""
        if self._outcome.done:
            return self._outcome
        status, hist = self._close_verdict()
        if status is Status.MATCHED:
            self._match = hist
            return self._set(Outcome(Status.MATCHED, "the window closed with the pattern held"))
        if status is Status.UNDECIDABLE:
            return self._set(self._undecidable(None, "the window closed"))
        progress = self.progress()
        if progress.waiting_for == ("the window to close",):
            why = f"with {', '.join(progress.constraints)}"
        else:
            why = f"while waiting for {self._waiting_text()}"
        return self._set(Outcome(Status.UNMET, f"the window closed {why}"))

    def matched(self) -> list[Observation]:
        """Return the observations that matched the pattern's elements (empty unless MATCHED)."""
        if self._outcome.status is not Status.MATCHED or not isinstance(self._match, _Hist):
            return []
        return [e for _, e in self._match.items() if isinstance(e, Observation)]

    def progress(self) -> Progress:
        """Return how far the pattern got and what it waits for."""
        nfa = self._nfa
        hist: _Hist | None
        node: int
        counts: Counts
        if self._match is not _ABSENT:
            hist, node, counts = self._match, nfa.accept, ()
        else:
            pool = self._lo or self._last_alive or (self._hi or {})
            if not pool:
                return Progress("nothing matched")
            (node, counts), hist = min(
                pool.items(), key=lambda kv: (nfa.remaining[kv[0][0]], -_size(kv[1]))
            )
        steps = tuple(
            Step(nfa.tests[leaf].text, entry) for leaf, entry in (hist.items() if hist else [])
        )
        needed = nfa.remaining[node]
        total = len(steps) + needed
        matched = self._outcome.status is Status.MATCHED
        if matched:
            summary = f"matched ({_plural(len(steps), 'step')})" if steps else "held"
        elif needed:
            least = "at least " if total != nfa.remaining[nfa.start] else ""
            summary = f"{len(steps)} of {least}{total} steps matched"
        elif steps:
            summary = f"{_plural(len(steps), 'step')} matched; the rest must hold until the end"
        else:
            summary = "must hold until the end"
        return Progress(
            summary,
            steps,
            () if matched else self._waiting(node),
            () if matched else tuple(self._constraint_text(c) for c in counts),
            "" if matched else self._lost,
        )

    # -------------------------------------------------------------- stepping
    def _set(self, outcome: Outcome) -> Outcome:
        self._outcome = outcome
        return outcome

    def _add_closure(self, out: Threads, node: int, counts: Counts, hist: _Hist | None) -> None:
        for stable, adds in self._nfa.eps[node]:
            _put(out, (stable, _merge(counts, adds)), hist)

    def _count(self, counts: Counts, value: Any, hits: dict[int, bool]) -> Counts | None:
        if not counts:
            return counts
        nfa = self._nfa
        new = []
        for c, low, high in counts:
            hit = hits.get(c)
            if hit is None:
                hit = hits[c] = nfa.counts[c].test(value)
            if not hit:
                new.append((c, low, high))
            elif low + 1 > nfa.cmax[c]:
                self._killers.append(repr(nfa.counts[c]))
                return None
            else:
                new.append((c, low + 1, min(high + 1, nfa.cmax[c])))
        return tuple(new)

    def _step(self, threads: Threads, value: Any, entry: Observation) -> Threads:
        nfa = self._nfa
        out: Threads = {}
        results: dict[int, bool] = {}
        hits: dict[int, bool] = {}
        for (node, counts), hist in threads.items():
            kind = nfa.kinds[node]
            if kind == _CONSUME:
                leaf = nfa.leaves[node]
                ok = results.get(leaf)
                if ok is None:
                    ok = results[leaf] = nfa.tests[leaf](value)
                if ok and all(high >= nfa.cmin[c] for c, _, high in counts):
                    self._add_closure(out, nfa.nexts[node], (), _Hist(leaf, entry, hist))
            else:  # a skip, or an accept waiting for its span to end: both loop on any state
                new = self._count(counts, value, hits)
                if new is None:
                    continue
                _put(out, (node, new), hist)
                if kind == _SKIP:
                    self._add_closure(out, nfa.nexts[node], new, hist)
        return out

    def _observe(self, value: Any, entry: Observation) -> None:
        """Advance on a known state (collapsing repeats)."""
        self._last_value = value
        if self._after_gap:
            self._after_gap = False
            if self._last is not _NONE and same_value(value, self._last):
                # Seen: nothing changed. Unseen: a hidden run ended in another state, then this.
                if self._hi is not None:
                    stepped = self._step(self._hi, value, entry)
                    self._hi = {**stepped, **self._hi}
                    self._harvest_hi()
                return
        elif self._last is not _NONE and same_value(value, self._last):
            return
        self._last = value
        self._killers = []
        if any(t(value) for t in self._nfa.forbid):
            self._killers.append(f"without({', '.join(t.text for t in self._nfa.forbid)})")
            if self._lo:
                self._last_alive = self._lo
            self._lo = {}
            self._hi = {} if self._hi is not None else None
            return
        new_lo = self._step(self._lo, value, entry)
        if not new_lo and self._lo:
            self._last_alive = self._lo
        self._lo = new_lo
        self._track_furthest(value, entry)
        if self._hi is not None:
            self._hi = self._step(self._hi, value, entry)
            self._harvest_hi()
        accept = self._accepting(self._lo)
        if accept is not _ABSENT:
            self._match = accept

    def _track_furthest(self, value: Any, entry: Observation | Gap) -> None:
        """Remember the most advanced path, and where it broke off if the best now is behind it."""
        best = max(self._lo.values(), key=_size, default=None)
        if _size(best) >= _size(self._furthest):
            self._furthest, self._lost = best, ""
        elif not self._lost and self._furthest is not None:
            done = ", ".join(
                f"{self._nfa.tests[leaf].text} at #{e.seq}" for leaf, e in self._furthest.items()
            )
            why = f" violates {', '.join(dict.fromkeys(self._killers))}" if self._killers else ""
            cause = "unseen states in" if value is _NONE else f"state {value!r} at"
            self._lost = f"matched {done}; broken off by {cause} {_where(entry)}{why}"

    def _accepting(self, threads: Threads) -> Any:
        best: Any = _ABSENT
        for (node, counts), hist in threads.items():
            if (
                node == self._nfa.accept
                and not counts
                and (best is _ABSENT or _size(hist) > _size(best))
            ):
                best = hist
        return best

    def _harvest_hi(self) -> None:
        """Move possible matches out of hi (they are done) and remember where they happened."""
        assert self._hi is not None  # noqa: S101 - only called once hi exists
        if self._accepting(self._hi) is not _ABSENT:
            self._maybe = self._maybe or tuple(self._unknown)
            self._hi = {k: h for k, h in self._hi.items() if k != (self._nfa.accept, ())}

    def _widen(self, threads: Threads, entry: Gap | Observation) -> Threads:
        """Every thread that some hidden run of states could lead to (counts become ranges)."""
        nfa = self._nfa
        out: Threads = {}
        stack = list(threads.items())
        while stack:
            (node, counts), hist = stack.pop()
            counts = tuple((c, low, nfa.cmax[c]) for c, low, _ in counts)
            if (node, counts) in out:
                continue
            out[node, counts] = hist
            kind = nfa.kinds[node]
            if kind == _CONSUME:
                leaf = nfa.leaves[node]
                if nfa.tests[leaf].deletion_only or any(
                    high < nfa.cmin[c] for c, _, high in counts
                ):
                    continue
                step = _Hist(leaf, entry, hist)
                stack.extend(((s, _merge((), a)), step) for s, a in nfa.eps[nfa.nexts[node]])
            elif kind == _SKIP:
                stack.extend(((s, _merge(counts, a)), hist) for s, a in nfa.eps[nfa.nexts[node]])
        return out

    def _unknown_span(self, entry: Gap | Observation) -> None:
        """States may have passed unseen: widen hi, keep in lo only what survives anything."""
        if self._terminal:
            return  # a terminal state cannot change, and a deletion would be observed after
        self._unknown.append(entry)
        if self._after_gap:
            return  # no state seen since the last unknown span: widening again adds nothing
        self._hi = self._widen(self._hi if self._hi is not None else self._lo, entry)
        self._harvest_hi()
        survivors: Threads = {}
        if not self._nfa.forbid:
            for (node, counts), hist in self._lo.items():
                if self._nfa.kinds[node] == _SKIP and not counts:
                    self._add_closure(survivors, node, (), hist)
        if not survivors and self._lo:
            self._last_alive = self._lo
        self._lo = survivors
        self._killers = []
        self._track_furthest(_NONE, entry)
        self._after_gap = True

    # -------------------------------------------------------------- verdicts
    def _decide(self, entry: Observation | Gap) -> Outcome:
        if self._outcome.done:
            return self._outcome
        if self._match is not _ABSENT:
            where = _where(entry)
            return self._set(Outcome(Status.MATCHED, f"matched at {where}", entry))
        if self._lo:
            return self._outcome
        if self._hi is None or (not self._hi and not self._maybe):
            return self._set(Outcome(Status.IMPOSSIBLE, self._impossible_text(entry), entry))
        return self._set(self._undecidable(entry, "observed states can no longer confirm it"))

    def _impossible_text(self, entry: Observation | Gap) -> str:
        value = repr(self._last_value) if self._last_value is not _NONE else "this state"
        where = _where(entry)
        if self._killers:
            return f"state {value} at {where} violates {', '.join(dict.fromkeys(self._killers))}"
        return f"state {value} at {where} leaves no way to complete the pattern"

    def _undecidable(self, entry: Observation | Gap | None, why: str) -> Outcome:
        unknown = self._maybe or tuple(self._unknown)
        return Outcome(
            Status.UNDECIDABLE,
            f"{why}; the answer depends on what happened inside {_unknown_text(unknown)}",
            entry,
            tuple(unknown),
        )

    def _close_verdict(self) -> tuple[Status, _Hist | None]:
        """The verdict if no further state came (used at close, deletion and terminal states)."""
        m, nfa = self, self._nfa

        def at_close(key: Key) -> bool:
            node, counts = key
            return node == nfa.accept and all(high >= nfa.cmin[c] for c, _, high in counts)

        if m._match is not _ABSENT:
            return Status.MATCHED, m._match
        for key, hist in m._lo.items():
            if at_close(key):
                return Status.MATCHED, hist
        if m._hi is not None and (m._maybe or any(at_close(k) for k in m._hi)):
            return Status.UNDECIDABLE, None
        return Status.UNMET, None

    def _ended(self, entry: Observation) -> Outcome:
        status, hist = self._close_verdict()
        if status is Status.MATCHED:
            self._match = hist
            return Outcome(Status.MATCHED, f"the object was deleted at {_where(entry)}", entry)
        if status is Status.UNDECIDABLE:
            return self._undecidable(entry, f"the object was deleted at {_where(entry)}")
        return Outcome(
            Status.IMPOSSIBLE,
            f"the object was deleted at {_where(entry)} while waiting for {self._waiting_text()}",
            entry,
        )

    def _at_terminal(self, entry: Observation, value: Any) -> Outcome:
        """A terminal state: only the end of the window or a deletion can follow."""
        stays, _ = self._close_verdict()
        sim = copy.copy(self)
        sim._observe(self._state(DELETED), entry)  # noqa: SLF001 - a clone of self
        goes = Status.MATCHED if sim._match is not _ABSENT else sim._close_verdict()[0]  # noqa: SLF001
        desc = self._state.description
        if stays is Status.MATCHED and goes is Status.MATCHED:
            self._match = self._close_verdict()[1]
            return Outcome(
                Status.MATCHED,
                f"{value!r} is terminal for {desc}: no later change can break the pattern",
                entry,
            )
        if Status.MATCHED in (stays, goes):
            return self._outcome
        if Status.UNDECIDABLE in (stays, goes):
            return self._undecidable(entry, f"{value!r} is terminal for {desc}")
        return Outcome(
            Status.IMPOSSIBLE,
            f"{value!r} at {_where(entry)} is terminal for {desc}; "
            f"{self._waiting_text()} can never follow",
            entry,
        )

    # -------------------------------------------------------------- words
    def _waiting(self, node: int) -> tuple[str, ...]:
        nfa = self._nfa
        kind = nfa.kinds[node]
        if kind == _ACCEPT:
            return ("the window to close",)
        targets = [node] if kind == _CONSUME else [s for s, _ in nfa.eps[node]]
        texts = [nfa.tests[nfa.leaves[t]].text for t in targets if nfa.kinds[t] == _CONSUME]
        if any(nfa.kinds[t] == _ACCEPT for t in targets):
            texts.append("the window to close")
        return tuple(dict.fromkeys(texts))

    def _waiting_text(self) -> str:
        waiting = self.progress().waiting_for
        return " or ".join(waiting) if waiting else "nothing"

    def _constraint_text(self, c: tuple[int, int, int]) -> str:
        idx, low, high = c
        seen = f"{low}" if low == high else f"{low} to {high}"
        return f"{self._nfa.counts[idx]!r}: {seen} so far"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


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
        self.noun = noun
        self.state = state

    @classmethod
    def generation(cls) -> Changes:
        """Spec changes: increments of ``metadata.generation``.

        Exact even across gaps, since the server bumps the generation once per
        spec change. The bump that marks the start of a graceful deletion
        (``deletionTimestamp`` appearing) is not counted.
        """
        return cls("generation", "generation changes", generation)

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
        """Return the counted value at `obs` (`_NONE` if unknown: evicted)."""
        if self._kind == "generation":
            return obs.generation
        if obs.object is None:
            return _NONE
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

    >>> from kwait._timeline import Recorder
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
        what: Changes | State | Callable[[Any], Any] | str,
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
        self._prev_value: Any = _NONE
        self._gap: Gap | Observation | None = None
        self._unknown: list[Gap | Observation] = []
        self._outcome = _PENDING

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
        if value is _NONE:
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
                    f"{self.changes.noun}: counted {self._counted()} by {_where(entry)}; "
                    f"expected {self._bounds()}",
                    entry,
                )
            )
        if self.high_bound is None and self.low >= self.low_bound:
            return self._set(
                Outcome(Status.MATCHED, f"counted {self.low} at {_where(entry)}", entry)
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
        when = f"the object was deleted at {_where(entry)}" if entry else "the window closed"
        counted = f"{self.changes.noun}: counted {self._counted()}"
        if verdict is Status.MATCHED:
            return self._set(Outcome(Status.MATCHED, f"{when}; {counted}", entry))
        if verdict is Status.UNDECIDABLE:
            return self._set(
                Outcome(
                    Status.UNDECIDABLE,
                    f"{when}; {counted}, expected {self._bounds()}; the answer depends on "
                    f"what happened inside {_unknown_text(self._unknown)}",
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
