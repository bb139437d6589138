"""`Matcher`: a transition pattern matched online, one timeline entry at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from kwait._match.nfa import (
    ABSENT,
    ACCEPT,
    CONSUME,
    NFA,
    SKIP,
    Counts,
    Hist,
    Key,
    Threads,
    merge,
    put,
    size,
)
from kwait._match.pattern import Pattern, PatternLike, as_pattern
from kwait._match.states import (
    DELETED,
    State,
    as_state,
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
    plural,
    unknown_text,
)
from kwait._watch.timeline import Entry, Gap, Identity, Observation, Reconnect

# ====================================================================== the matcher


class Matcher:
    """Match one object's timeline against a pattern, one entry at a time.

    Args:
        state: The state function (a `kwait.states.State` or any callable on raw objects).
        pattern: A `Pattern`, a list (`in_order`), or a single element.
        identity: The object to expect; by default the first observation's.

    Feed it the entries of one identity's timeline (`Observation` and `Gap`;
    `Reconnect` is ignored). After each, `feed` returns an `Outcome`:

    * MATCHED the moment the pattern is satisfied;
    * IMPOSSIBLE the moment it no longer can be: a forbidden state, the object
      deleted while more states are needed, a terminal state (see
      `kwait.states.State.is_terminal`) from which the rest cannot follow;
    * UNDECIDABLE when the answer depends on states hidden in a gap (or an
      evicted observation): never a silent pass or fail. A gap the answer does
      not depend on changes nothing;
    * PENDING otherwise. Patterns with `never`/`exactly`/`at_most` at their end
      can only pass at `close()`, which also turns PENDING into UNMET.

    The verdict is final once decided: later entries are ignored. Cost is
    linear in the number of entries.

    >>> from kwait._watch.timeline import Recorder
    >>> rec = Recorder(clock=None)
    >>> def pod(rv, reason):
    ...     waiting = {"waiting": {"reason": reason}}
    ...     return {"kind": "Pod", "metadata": {"name": "vm", "uid": "u1", "resourceVersion": rv},
    ...             "status": {"containerStatuses": [{"name": "app", "state": waiting}]}}
    >>> from kwait._match.states import waiting_reason
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
        self.pattern: Pattern = as_pattern(pattern)
        self.identity = identity
        self._nfa = NFA.of(self.pattern)
        self._lo: Threads = {}
        self._add_closure(self._lo, self._nfa.start, (), None)
        self._hi: Threads | None = None  # None until the first gap: then lo != hi
        self._maybe: tuple[Gap | Observation, ...] = ()  # gaps in which it may have matched
        self._unknown: list[Gap | Observation] = []
        self._last: Any = NONE
        self._after_gap = False
        self._terminal = False
        self._match: Any = ABSENT  # the accepting path, once matched
        self._last_alive: Threads = {}
        self._killers: list[str] = []
        self._outcome = PENDING
        self._last_value: Any = NONE
        self._furthest: Hist | None = None
        self._lost = ""
        accept = self._accepting(self._lo)
        if accept is not ABSENT:
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
        if self._outcome.status is not Status.MATCHED or not isinstance(self._match, Hist):
            return []
        return [e for _, e in self._match.items() if isinstance(e, Observation)]

    def progress(self) -> Progress:
        """Return how far the pattern got and what it waits for."""
        nfa = self._nfa
        hist: Hist | None
        node: int
        counts: Counts
        if self._match is not ABSENT:
            hist, node, counts = self._match, nfa.accept, ()
        else:
            pool = self._lo or self._last_alive or (self._hi or {})
            if not pool:
                return Progress("nothing matched")
            (node, counts), hist = min(
                pool.items(), key=lambda kv: (nfa.remaining[kv[0][0]], -size(kv[1]))
            )
        steps = tuple(
            Step(nfa.tests[leaf].text, entry) for leaf, entry in (hist.items() if hist else [])
        )
        needed = nfa.remaining[node]
        total = len(steps) + needed
        matched = self._outcome.status is Status.MATCHED
        if matched:
            summary = f"matched ({plural(len(steps), 'step')})" if steps else "held"
        elif needed:
            least = "at least " if total != nfa.remaining[nfa.start] else ""
            summary = f"{len(steps)} of {least}{total} steps matched"
        elif steps:
            summary = f"{plural(len(steps), 'step')} matched; the rest must hold until the end"
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

    def _add_closure(self, out: Threads, node: int, counts: Counts, hist: Hist | None) -> None:
        for stable, adds in self._nfa.eps[node]:
            put(out, (stable, merge(counts, adds)), hist)

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
            if kind == CONSUME:
                leaf = nfa.leaves[node]
                ok = results.get(leaf)
                if ok is None:
                    ok = results[leaf] = nfa.tests[leaf](value)
                if ok and all(high >= nfa.cmin[c] for c, _, high in counts):
                    self._add_closure(out, nfa.nexts[node], (), Hist(leaf, entry, hist))
            else:  # a skip, or an accept waiting for its span to end: both loop on any state
                new = self._count(counts, value, hits)
                if new is None:
                    continue
                put(out, (node, new), hist)
                if kind == SKIP:
                    self._add_closure(out, nfa.nexts[node], new, hist)
        return out

    def _observe(self, value: Any, entry: Observation) -> None:
        """Advance on a known state (collapsing repeats)."""
        self._last_value = value
        if self._after_gap:
            self._after_gap = False
            if self._last is not NONE and same_value(value, self._last):
                # Seen: nothing changed. Unseen: a hidden run ended in another state, then this.
                if self._hi is not None:
                    stepped = self._step(self._hi, value, entry)
                    self._hi = {**stepped, **self._hi}
                    self._harvest_hi()
                return
        elif self._last is not NONE and same_value(value, self._last):
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
        if accept is not ABSENT:
            self._match = accept

    def _track_furthest(self, value: Any, entry: Observation | Gap) -> None:
        """Remember the most advanced path, and where it broke off if the best now is behind it."""
        best = max(self._lo.values(), key=size, default=None)
        if size(best) >= size(self._furthest):
            self._furthest, self._lost = best, ""
        elif not self._lost and self._furthest is not None:
            done = ", ".join(
                f"{self._nfa.tests[leaf].text} at #{e.seq}" for leaf, e in self._furthest.items()
            )
            why = f" violates {', '.join(dict.fromkeys(self._killers))}" if self._killers else ""
            cause = "unseen states in" if value is NONE else f"state {value!r} at"
            self._lost = f"matched {done}; broken off by {cause} {locate(entry)}{why}"

    def _accepting(self, threads: Threads) -> Any:
        best: Any = ABSENT
        for (node, counts), hist in threads.items():
            if (
                node == self._nfa.accept
                and not counts
                and (best is ABSENT or size(hist) > size(best))
            ):
                best = hist
        return best

    def _harvest_hi(self) -> None:
        """Move possible matches out of hi (they are done) and remember where they happened."""
        assert self._hi is not None  # noqa: S101 - only called once hi exists
        if self._accepting(self._hi) is not ABSENT:
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
            if kind == CONSUME:
                leaf = nfa.leaves[node]
                if nfa.tests[leaf].deletion_only or any(
                    high < nfa.cmin[c] for c, _, high in counts
                ):
                    continue
                step = Hist(leaf, entry, hist)
                stack.extend(((s, merge((), a)), step) for s, a in nfa.eps[nfa.nexts[node]])
            elif kind == SKIP:
                stack.extend(((s, merge(counts, a)), hist) for s, a in nfa.eps[nfa.nexts[node]])
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
                if self._nfa.kinds[node] == SKIP and not counts:
                    self._add_closure(survivors, node, (), hist)
        if not survivors and self._lo:
            self._last_alive = self._lo
        self._lo = survivors
        self._killers = []
        self._track_furthest(NONE, entry)
        self._after_gap = True

    # -------------------------------------------------------------- verdicts
    def _decide(self, entry: Observation | Gap) -> Outcome:
        if self._outcome.done:
            return self._outcome
        if self._match is not ABSENT:
            where = locate(entry)
            return self._set(Outcome(Status.MATCHED, f"matched at {where}", entry))
        if self._lo:
            return self._outcome
        if self._hi is None or (not self._hi and not self._maybe):
            return self._set(Outcome(Status.IMPOSSIBLE, self._impossible_text(entry), entry))
        return self._set(self._undecidable(entry, "observed states can no longer confirm it"))

    def _impossible_text(self, entry: Observation | Gap) -> str:
        value = repr(self._last_value) if self._last_value is not NONE else "this state"
        where = locate(entry)
        if self._killers:
            return f"state {value} at {where} violates {', '.join(dict.fromkeys(self._killers))}"
        return f"state {value} at {where} leaves no way to complete the pattern"

    def _undecidable(self, entry: Observation | Gap | None, why: str) -> Outcome:
        unknown = self._maybe or tuple(self._unknown)
        return Outcome(
            Status.UNDECIDABLE,
            f"{why}; the answer depends on what happened inside {unknown_text(unknown)}",
            entry,
            tuple(unknown),
        )

    def _close_verdict(self) -> tuple[Status, Hist | None]:
        """The verdict if no further state came (used at close, deletion and terminal states)."""
        m, nfa = self, self._nfa

        def at_close(key: Key) -> bool:
            node, counts = key
            return node == nfa.accept and all(high >= nfa.cmin[c] for c, _, high in counts)

        if m._match is not ABSENT:
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
            return Outcome(Status.MATCHED, f"the object was deleted at {locate(entry)}", entry)
        if status is Status.UNDECIDABLE:
            return self._undecidable(entry, f"the object was deleted at {locate(entry)}")
        return Outcome(
            Status.IMPOSSIBLE,
            f"the object was deleted at {locate(entry)} while waiting for {self._waiting_text()}",
            entry,
        )

    def _at_terminal(self, entry: Observation, value: Any) -> Outcome:
        """A terminal state: only the end of the window or a deletion can follow."""
        stays, _ = self._close_verdict()
        sim = copy.copy(self)
        sim._observe(self._state(DELETED), entry)  # noqa: SLF001 - a clone of self
        goes = Status.MATCHED if sim._match is not ABSENT else sim._close_verdict()[0]  # noqa: SLF001
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
            f"{value!r} at {locate(entry)} is terminal for {desc}; "
            f"{self._waiting_text()} can never follow",
            entry,
        )

    # -------------------------------------------------------------- words
    def _waiting(self, node: int) -> tuple[str, ...]:
        nfa = self._nfa
        kind = nfa.kinds[node]
        if kind == ACCEPT:
            return ("the window to close",)
        targets = [node] if kind == CONSUME else [s for s, _ in nfa.eps[node]]
        texts = [nfa.tests[nfa.leaves[t]].text for t in targets if nfa.kinds[t] == CONSUME]
        if any(nfa.kinds[t] == ACCEPT for t in targets):
            texts.append("the window to close")
        return tuple(dict.fromkeys(texts))

    def _waiting_text(self) -> str:
        waiting = self.progress().waiting_for
        return " or ".join(waiting) if waiting else "nothing"

    def _constraint_text(self, c: tuple[int, int, int]) -> str:
        idx, low, high = c
        seen = f"{low}" if low == high else f"{low} to {high}"
        return f"{self._nfa.counts[idx]!r}: {seen} so far"
