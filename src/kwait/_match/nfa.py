"""The pattern compiler: a `Pattern` becomes a small NFA run online over distinct states."""

from __future__ import annotations

from collections import deque
from typing import Any, Final

from kwait._match.pattern import (
    ChoicePattern,
    ConstraintPattern,
    ElementPattern,
    ElementTest,
    Pattern,
    RepeatPattern,
    SequencePattern,
    WithoutPattern,
)
from kwait._watch.timeline import Gap, Observation

# ====================================================================== compilation

# Node kinds of the automaton.
CONSUME, SKIP, SPLIT, CONSTRAIN, ACCEPT = range(5)


class _Builder:
    def __init__(self) -> None:
        self.kinds: list[int] = []
        self.nexts: list[int] = []
        self.alts: list[tuple[int, ...]] = []
        self.leaves: list[int] = []
        self.constraints: list[int] = []
        self.tests: list[ElementTest] = []
        self._leaf_ids: dict[int, int] = {}
        self.counts: list[ConstraintPattern] = []
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

    def leaf(self, element: ElementPattern) -> int:
        key = id(element)
        if key not in self._leaf_ids:
            self._leaf_ids[key] = len(self.tests)
            self.tests.append(element.test)
        return self._leaf_ids[key]

    def constraint(self, item: ConstraintPattern) -> int:
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
    if isinstance(p, ElementPattern):
        node = b.node(CONSUME, nxt, leaf=b.leaf(p))
        return b.node(SKIP, node) if gap else node
    if isinstance(p, SequencePattern):
        items = p.items
        first = next(
            (i for i, it in enumerate(items) if not isinstance(it, ConstraintPattern)), len(items)
        )
        current = nxt
        for i in reversed(range(len(items))):
            item_gap = gap if i <= first else not p.strict
            current = _compile(items[i], b, current, gap=item_gap, loose=not p.strict)
        return current
    if isinstance(p, ChoicePattern):
        entries = tuple(_compile(o, b, nxt, gap=gap, loose=loose) for o in p.options)
        return b.node(SPLIT, alts=entries)
    if isinstance(p, RepeatPattern):
        return _compile_repeat(p, b, nxt, gap=gap, loose=loose)
    if isinstance(p, ConstraintPattern):
        return b.node(CONSTRAIN, nxt, constraint=b.constraint(p))
    raise TypeError(f"{p!r} can only be a whole pattern, not part of one")


def _compile_repeat(p: RepeatPattern, b: _Builder, nxt: int, *, gap: bool, loose: bool) -> int:
    body, low, high = p.body, p.low, p.high
    # Copies after the first are separated as the enclosing sequence says.
    if high is None:
        loop = b.node(SPLIT)
        b.alts[loop] = (_compile(body, b, loop, gap=loose, loose=loose), nxt)
        tail = loop
    else:
        tail = nxt
        for _ in range(high - max(low, 1)):
            entry = _compile(body, b, tail, gap=loose, loose=loose)
            tail = b.node(SPLIT, alts=(entry, nxt))
    if low == 0:
        return b.node(SPLIT, alts=(_compile(body, b, tail, gap=gap, loose=loose), nxt))
    current = tail
    for k in reversed(range(low)):
        current = _compile(body, b, current, gap=gap if k == 0 else loose, loose=loose)
    return current


# A thread's constraint counts: sorted (constraint, low, high) triples. Exact
# counts have low == high; after a gap, high is what hidden states could add.
Counts = tuple[tuple[int, int, int], ...]
Key = tuple[int, Counts]


class Hist:
    """One matched step on a thread's path (a persistent linked list)."""

    __slots__ = ("entry", "leaf", "prev", "size")

    def __init__(self, leaf: int, entry: Observation | Gap, prev: Hist | None) -> None:
        self.leaf, self.entry, self.prev = leaf, entry, prev
        self.size: int = 1 + (prev.size if prev is not None else 0)

    def items(self) -> list[tuple[int, Observation | Gap]]:
        out: list[tuple[int, Observation | Gap]] = []
        node: Hist | None = self
        while node is not None:
            out.append((node.leaf, node.entry))
            node = node.prev
        out.reverse()
        return out


def size(hist: Hist | None) -> int:
    return 0 if hist is None else hist.size


Threads = dict[Key, Hist | None]


class NFA:
    def __init__(
        self, b: _Builder, start: int, accept: int, forbid: tuple[ElementTest, ...]
    ) -> None:
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
    def of(cls, pattern: Pattern) -> NFA:
        """Return the automaton of `pattern`, built once and cached on the pattern."""
        cached = pattern._nfa  # noqa: SLF001 - the cache slot belongs to this compiler
        if isinstance(cached, NFA):
            return cached
        built = cls.build(pattern)
        pattern._nfa = built  # noqa: SLF001
        return built

    @classmethod
    def build(cls, pattern: Pattern) -> NFA:
        b = _Builder()
        accept = b.node(ACCEPT)
        forbid: tuple[ElementTest, ...] = ()
        if isinstance(pattern, WithoutPattern):
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
            if kind == SPLIT:
                stack.extend((a, adds) for a in reversed(self.alts[n]))
            elif kind == CONSTRAIN:
                c = self.constraints[n]
                stack.append((self.nexts[n], adds if c in adds else tuple(sorted((*adds, c)))))
            else:
                out.append((n, adds))
                if kind == SKIP:
                    stack.append((self.nexts[n], adds))
        return out

    def _remaining(self) -> list[int]:
        """Fewest states still to consume from each node to the accepting one (0-1 BFS)."""
        size = len(self.kinds)
        back: list[list[tuple[int, int]]] = [[] for _ in range(size)]
        for n, kind in enumerate(self.kinds):
            if kind == CONSUME:
                back[self.nexts[n]].append((n, 1))
            elif kind in (SKIP, CONSTRAIN):
                back[self.nexts[n]].append((n, 0))
            elif kind == SPLIT:
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


def merge(counts: Counts, adds: tuple[int, ...]) -> Counts:
    if not adds:
        return counts
    have = {c for c, _, _ in counts}
    new = [(c, 0, 0) for c in adds if c not in have]
    return tuple(sorted((*counts, *new))) if new else counts


def put(out: Threads, key: Key, hist: Hist | None) -> None:
    old = out.get(key, ABSENT)
    if old is ABSENT or size(hist) > size(old):
        out[key] = hist


ABSENT: Final[Any] = object()
