"""Patterns over distinct states, matched online: pass and fail at the right entry, and say why."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kwait import (
    Changes,
    Gap,
    Observation,
    Pattern,
    any_of,
    at_least,
    at_most,
    between,
    consecutive,
    exactly,
    in_order,
    matches,
    never,
    one_of,
    optional,
)
from kwait.matchers import CountMatcher, Matcher, Outcome, Status
from kwait.states import DELETED, condition, deleted, field, phase, restart_count
from kwait.typing import Entry
from kwait.watch import Recorder

GAP = "<gap>"
DEL = "<delete>"
S = field("s")


class Script:
    """One object's timeline, built in a Recorder: states, gaps, deletion."""

    def __init__(self, uid: str = "u1", *, max_bytes: int = 256 * 1024 * 1024) -> None:
        """Start an empty recorder for the object with `uid`."""
        self.rec = Recorder(clock=None, max_bytes=max_bytes)
        self.uid = uid
        self.rv = 100
        self.entries: list[Entry] = []

    def obj(self, value: Any, **extra: Any) -> dict[str, Any]:
        """Return the next version of the object, with state `value`."""
        self.rv += 1
        meta = {"name": "p", "namespace": "ci", "uid": self.uid, "resourceVersion": str(self.rv)}
        return {"kind": "Pod", "metadata": {**meta, **extra}, "s": value}

    def add(self, item: Any) -> Entry:
        """Record a state, GAP or DEL and return the entry."""
        entry: Entry
        if item == GAP:
            self.rv += 5
            ident = self.rec.identities()[0] if self.rec.identities() else None
            entry = self.rec.add_gap(
                str(self.rv - 5), str(self.rv), "too old resource version", [ident] if ident else []
            )
        elif item == DEL:
            entry = self.rec.add_observation("DELETED", self.obj("gone"))
        else:
            entry = self.rec.add_observation("MODIFIED", self.obj(item))
        self.entries.append(entry)
        return entry


def run(
    pattern: Any, items: Sequence[Any], *, state: Any = S, close: bool = True
) -> tuple[Matcher, list[Status]]:
    """Feed `items` to a fresh matcher; return it and the status after each entry."""
    script = Script()
    m = Matcher(state, pattern)
    statuses = [m.feed(script.add(item)).status for item in items]
    if close:
        m.close()
    return m, statuses


P, M, X, U = Status.PENDING, Status.MATCHED, Status.IMPOSSIBLE, Status.UNDECIDABLE


# ---------------------------------------------------------------- operators


def test_in_order_allows_other_states_between() -> None:
    """A plain list matches its states in order, skipping others, the moment the last is seen."""
    m, statuses = run(["a", "c"], ["x", "a", "b", "c", "d"])
    assert statuses == [P, P, P, M, M]
    assert [o.resource_version for o in m.matched()] == ["102", "104"]


def test_in_order_out_of_order_is_unmet_at_close() -> None:
    """States in the wrong order leave the pattern pending; close() says what it waited for."""
    m, statuses = run(["a", "c"], ["c", "a", "b"])
    assert statuses == [P, P, P]
    assert m.outcome.status is Status.UNMET
    assert m.outcome.reason == "the window closed while waiting for 'c'"


def test_consecutive_requires_adjacent_states() -> None:
    """consecutive() fails to match when another state comes between, and matches when none does."""
    _, statuses = run(consecutive("a", "b"), ["a", "x", "b"])
    assert statuses == [P, P, P]
    _, statuses = run(consecutive("a", "b"), ["a", "x", "a", "b"])
    assert statuses == [P, P, P, M]


def test_repeated_states_collapse() -> None:
    """Consecutive equal states are one distinct state: a a b b is the sequence a b."""
    _, statuses = run(consecutive("a", "b"), ["a", "a", "b", "b"])
    assert statuses == [P, P, M, M]
    m, _ = run(exactly(1, "a"), ["a", "a", "a", "b"])
    assert m.outcome.status is Status.MATCHED


def test_at_least_counts_separate_occurrences() -> None:
    """at_least(2, ...) needs two occurrences; one is not enough."""
    cycle = consecutive("ErrImagePull", "ImagePullBackOff")
    _, statuses = run(
        at_least(2, cycle),
        [
            "ContainerCreating",
            "ErrImagePull",
            "ImagePullBackOff",
            "ErrImagePull",
            "ImagePullBackOff",
        ],
    )
    assert statuses == [P, P, P, P, M]
    m, _ = run(at_least(2, cycle), ["ErrImagePull", "ImagePullBackOff", "Running"])
    assert m.outcome.status is Status.UNMET


def test_between_bounds_adjacent_repetitions() -> None:
    """Inside consecutive(), between(n, m) allows n to m adjacent repetitions, not more."""
    pattern = consecutive("start", between(1, 2, one_of("b", "c")), "end")
    assert run(pattern, ["start", "b", "c", "end"])[1][-1] is M
    assert run(pattern, ["start", "end"])[0].outcome.status is Status.UNMET
    assert run(pattern, ["start", "b", "c", "b", "end"])[0].outcome.status is Status.UNMET


def test_optional_element() -> None:
    """optional() matches with or without its element."""
    pattern = consecutive("a", optional("b"), "c")
    assert run(pattern, ["a", "c"])[1][-1] is M
    assert run(pattern, ["a", "b", "c"])[1][-1] is M
    assert run(pattern, ["a", "x", "c"])[0].outcome.status is Status.UNMET


def test_any_of_and_the_bar_operator() -> None:
    """any_of() (or |) matches whichever alternative happens."""
    pattern = any_of(["Pending", "Running"], "Failed")
    assert run(pattern, ["Pending", "Running"])[1] == [P, M]
    assert run(pattern, ["Pending", "Failed"])[1] == [P, M]
    assert run(in_order("a", "b") | "c", ["c"])[1] == [M]
    assert repr(in_order("a", "b") | "c") == "any_of(in_order('a', 'b'), 'c')"


def test_predicate_elements() -> None:
    """one_of, matches and plain callables test state values; deleted matches the deletion."""
    assert run([matches("^Err"), "Running"], ["ErrImagePull", "Running"])[1] == [P, M]
    assert run([lambda v: v.endswith("BackOff")], ["ErrImagePull", "ImagePullBackOff"])[1] == [P, M]
    assert run(["Running", deleted()], ["Running", DEL])[1] == [P, M]
    assert run([~one_of("a", "b")], ["a", "b", "c"])[1] == [P, P, M]


# ---------------------------------------------------------------- never, exactly, at_most


def test_never_fails_on_the_first_violation_not_at_the_end() -> None:
    """never() alone fails on the entry with the forbidden state; later entries change nothing."""
    m, statuses = run(never("CrashLoopBackOff"), ["Running", "CrashLoopBackOff", "Running"])
    assert statuses == [P, X, X]
    assert isinstance(m.outcome.entry, Observation)
    assert m.outcome.entry.resource_version == "102"
    assert m.outcome.reason == (
        "state 'CrashLoopBackOff' at #1 MODIFIED rv 102 violates never('CrashLoopBackOff')"
    )


def test_never_passes_only_when_the_window_closes() -> None:
    """Without a violation, never() stays pending until close(), then holds."""
    m, statuses = run(never("Failed"), ["Pending", "Running"], close=False)
    assert statuses == [P, P]
    assert m.close().status is Status.MATCHED


def test_never_inside_in_order_guards_only_its_span() -> None:
    """in_order(a, never(x), b) forbids x between a and b, not before a or after b."""
    pattern = in_order("a", never("x"), "b")
    assert run(pattern, ["x", "a", "b", "x"])[1] == [P, P, M, M]
    m, statuses = run(pattern, ["a", "x", "b"])
    assert statuses == [P, P, P]
    assert m.outcome.status is Status.UNMET
    assert m.progress().lost == (
        "matched 'a' at #0; broken off by state 'x' at #1 MODIFIED rv 102 violates never('x')"
    )


def test_leading_never_fails_fast() -> None:
    """A never() before the first element is violated before that element: impossible at once."""
    _, statuses = run(in_order(never("Failed"), "Running"), ["Pending", "Failed", "Running"])
    assert statuses == [P, X, X]


def test_without_forbids_over_the_whole_pattern() -> None:
    """Pattern.without() fails on a forbidden state anywhere before the match."""
    pattern = in_order("Pending", "Running", "Succeeded").without("Unknown")
    assert run(pattern, ["Pending", "Running", "Unknown"])[1] == [P, P, X]
    assert run(pattern, ["Pending", "Running", "Succeeded", "Unknown"])[1] == [P, P, M, M]


def test_exactly_passes_at_close_and_fails_fast_on_one_too_many() -> None:
    """exactly(2, x): two passes at close, a third fails at once, one is unmet at close."""
    pulls = ["ErrImagePull", "ImagePullBackOff"]
    m, statuses = run(exactly(2, "ErrImagePull"), pulls * 2, close=False)
    assert statuses == [P, P, P, P]
    assert m.close().status is Status.MATCHED
    m, statuses = run(exactly(2, "ErrImagePull"), [*pulls * 2, "ErrImagePull", "Running"])
    assert statuses == [P, P, P, P, X, X]
    m, _ = run(exactly(2, "ErrImagePull"), pulls)
    assert m.outcome.status is Status.UNMET
    assert m.outcome.reason == "the window closed with exactly(2, 'ErrImagePull'): 1 so far"


def test_at_most() -> None:
    """at_most(1, x) allows zero or one x and fails on the second."""
    assert run(at_most(1, "x"), ["a"])[0].outcome.status is Status.MATCHED
    assert run(at_most(1, "x"), ["x", "a", "x"])[1] == [P, P, X]


# ---------------------------------------------------------------- deletion, terminal states


def test_deletion_while_states_are_still_needed_is_impossible() -> None:
    """The object deleted before the pattern completes fails at the DELETED entry."""
    m, statuses = run(["Pending", "Running"], ["Pending", DEL])
    assert statuses == [P, X]
    assert m.outcome.reason == (
        "the object was deleted at #1 DELETED rv 102 while waiting for 'Running'"
    )


def test_deletion_can_be_part_of_the_pattern() -> None:
    """DELETED in a pattern matches the object's deletion."""
    assert run(["Running", DELETED], ["Running", DEL])[1] == [P, M]


def test_deletion_ends_a_never_window_successfully() -> None:
    """An object deleted without a violation can no longer violate: never() holds."""
    _, statuses = run(never("Failed"), ["Running", DEL], close=False)
    assert statuses == [P, M]


def test_terminal_state_fails_fast() -> None:
    """Failed is terminal for the pod phase: Running can never follow, so it fails at Failed."""
    script = Script()
    m = Matcher(phase(), ["Pending", "Running"])

    def pod(value: str) -> dict[str, Any]:
        obj = script.obj(value)
        obj["status"] = {"phase": obj.pop("s")}
        return obj

    assert m.feed(script.rec.add_observation("ADDED", pod("Pending"))).status is P
    out = m.feed(script.rec.add_observation("MODIFIED", pod("Failed")))
    assert out.status is Status.IMPOSSIBLE
    assert out.reason == (
        "'Failed' at #1 MODIFIED rv 102 is terminal for pod phase; 'Running' can never follow"
    )


def test_terminal_state_that_keeps_a_never_clean_passes_early() -> None:
    """never(Failed) on a Succeeded pod can no longer be violated: it passes at once."""
    script = Script()
    m = Matcher(phase(), never("Failed"))
    obj = script.obj("x")
    obj["status"] = {"phase": "Succeeded"}
    out = m.feed(script.rec.add_observation("MODIFIED", obj))
    assert out.status is Status.MATCHED
    assert (
        out.reason == "'Succeeded' is terminal for pod phase: no later change can break the pattern"
    )


def test_terminal_state_waiting_for_deletion_stays_pending() -> None:
    """After a terminal state, a pattern that still expects the deletion keeps waiting."""
    script = Script()
    m = Matcher(phase(), ["Succeeded", DELETED])
    obj = script.obj("x")
    obj["status"] = {"phase": "Succeeded"}
    assert m.feed(script.rec.add_observation("MODIFIED", obj)).status is P
    assert m.feed(script.add(GAP)).status is P  # nothing can change unseen after a terminal state
    assert m.feed(script.rec.add_observation("DELETED", obj)).status is M


# ---------------------------------------------------------------- gaps


def test_gap_that_does_not_matter_does_not_block() -> None:
    """Pending, gap, Running: whatever the gap hid, Running after Pending was observed."""
    m, statuses = run(["Pending", "Running"], ["Pending", GAP, "Running"])
    assert statuses == [P, P, M]
    assert m.outcome.unknown == ()


def test_gap_after_the_match_changes_nothing() -> None:
    """Once matched, later gaps are ignored."""
    assert run(["a"], ["a", GAP, "b"])[1] == [M, M, M]


def test_gap_where_the_answer_depends_on_it_is_undecidable_at_close() -> None:
    """consecutive(a, b) across a gap: b may not have followed a directly; it says so by name."""
    m, statuses = run(consecutive("a", "b"), ["a", GAP, "b"], close=False)
    assert statuses == [P, P, P]
    out = m.close()
    assert out.status is Status.UNDECIDABLE
    assert isinstance(out.unknown[0], Gap)
    assert out.reason == (
        "the window closed; the answer depends on what happened inside "
        "gap #1 rv 101..106 (too old resource version)"
    )


def test_gap_in_a_never_window_is_undecidable_at_once() -> None:
    """A never() window with a gap can no longer be confirmed: undecidable right at the gap."""
    m, statuses = run(never("Failed"), ["Running", GAP, "Running"])
    assert statuses == [P, U, U]
    assert m.outcome.entry is not None
    assert isinstance(m.outcome.entry, Gap)


def test_pattern_confirmed_after_a_gap_is_matched() -> None:
    """A gap may have hidden a match, but a match observed afterwards is certain."""
    _, statuses = run(["a", "b"], ["x", GAP, "y", "a", "b"])
    assert statuses == [P, P, P, P, M]


def test_same_state_on_both_sides_of_a_gap() -> None:
    """a, gap, a: nothing happened, or b came and went unseen; a pattern that needs b can't tell."""
    m, _ = run(["b", "c"], ["a", GAP, "a", "c"])
    assert m.outcome.status is Status.UNDECIDABLE
    m, _ = run(["a", "c"], ["a", GAP, "a", "c"])
    assert m.outcome.status is Status.MATCHED


def test_evicted_observations_count_as_unknown() -> None:
    """Observations whose objects were evicted are unknown states, reported like a gap."""
    script = Script(max_bytes=0)
    for v in ("a", "b", "c"):
        script.add(v)
    entries = script.rec.entries()
    assert [isinstance(e, Observation) and e.evicted for e in entries] == [True, True, False]
    m = Matcher(S, consecutive("a", "b", "c"))
    assert m.feed_all(entries).status is P
    out = m.close()
    assert out.status is Status.UNDECIDABLE
    assert "evicted observation #0 rv 101" in out.reason


def test_deleted_element_cannot_hide_in_a_gap() -> None:
    """A deletion is always observed, so a gap cannot have completed [Running, DELETED]."""
    m, statuses = run(["Running", DELETED], ["Pending", GAP, "Running"])
    assert statuses == [P, P, P]
    assert m.outcome.status is Status.UNMET


# ---------------------------------------------------------------- progress and words


def test_progress_names_matched_observations_and_what_is_next() -> None:
    """Progress lists each matched element with its observation, and the next element awaited."""
    m, _ = run(
        ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"],
        ["ContainerCreating", "ErrImagePull", "ImagePullBackOff", "ErrImagePull"],
        close=False,
    )
    progress = m.progress()
    assert progress.summary == "3 of 4 steps matched"
    assert [(s.element, s.entry.seq) for s in progress.steps] == [
        ("'ErrImagePull'", 1),
        ("'ImagePullBackOff'", 2),
        ("'ErrImagePull'", 3),
    ]
    assert progress.waiting_for == ("'ImagePullBackOff'",)
    assert progress.notes() == {
        1: "step 1: 'ErrImagePull'",
        2: "step 2: 'ImagePullBackOff'",
        3: "step 3: 'ErrImagePull'",
    }


def test_progress_of_a_span_constraint() -> None:
    """An exactly() in force shows its count so far."""
    m, _ = run(in_order("a", exactly(2, "x")), ["a", "x", "y"], close=False)
    assert m.progress().constraints == ("exactly(2, 'x'): 1 so far",)
    assert m.progress().waiting_for == ("the window to close",)


def test_pattern_reprs_read_like_code() -> None:
    """Patterns print as the calls that build them (they appear in failure reports)."""
    pattern = in_order(
        "ContainerCreating",
        never(one_of("Running", "Failed")),
        at_least(2, consecutive("ErrImagePull", "ImagePullBackOff")),
        between(1, 3, matches("^Err")),
        optional(DELETED),
        exactly(0, "x"),
        at_most(2, "y"),
    )
    assert repr(pattern) == (
        "in_order('ContainerCreating', never(one_of('Running', 'Failed')), "
        "at_least(2, consecutive('ErrImagePull', 'ImagePullBackOff')), "
        "between(1, 3, matches('^Err')), optional(DELETED), never('x'), at_most(2, 'y'))"
    )


def test_malformed_patterns_are_refused() -> None:
    """Object predicates, states, constraints without a span and nested without() are errors."""
    with pytest.raises(TypeError, match="tests whole objects"):
        in_order(condition("Ready"))
    with pytest.raises(TypeError, match="is a state function"):
        in_order(phase())
    with pytest.raises(TypeError, match="no span to apply to"):
        consecutive("a", never("b"), "c")
    with pytest.raises(TypeError, match="cannot be repeated"):
        at_least(1, never("a"))
    with pytest.raises(TypeError, match="cannot be an alternative"):
        any_of(never("a"), "b")
    with pytest.raises(TypeError, match="whole pattern"):
        in_order(in_order("a").without("b"), "c")
    with pytest.raises(ValueError, match="at least one element"):
        in_order()
    with pytest.raises(ValueError, match="bad repetition bounds"):
        between(3, 2, "a")


def test_matcher_follows_one_identity() -> None:
    """Feeding an observation of another object is an error, not a silent mix-up."""
    m = Matcher(S, ["a"])
    m.feed(Script("u1").add("x"))
    with pytest.raises(ValueError, match="this matcher follows"):
        m.feed(Script("u2").add("a"))


def test_reconnects_are_ignored() -> None:
    """A lossless reconnect is not a state and not a gap."""
    script = Script()
    m = Matcher(S, consecutive("a", "b"))
    m.feed(script.add("a"))
    m.feed(script.rec.add_reconnect("101", "watch stream ended"))
    assert m.feed(script.add("b")).status is M


def test_matching_stays_small_over_long_timelines() -> None:
    """20,000 distinct states keep the live thread set bounded (linear time overall)."""
    script = Script()
    m = Matcher(S, in_order("start", at_least(2, consecutive("E", "B")), never("x"), "end"))
    sizes = []
    for i in range(20_000):
        m.feed(script.add(("E", "B", "C")[i % 3]))
        sizes.append(len(m._lo))
    assert m.outcome.status is P
    assert max(sizes) <= 6
    assert m.feed(script.add("start")).status is P


# ---------------------------------------------------------------- counting changes


def versions(script: Script, generations: Sequence[int]) -> list[Observation]:
    """Record one observation per generation value."""
    out = []
    for gen in generations:
        obs = script.rec.add_observation("MODIFIED", script.obj("x", generation=gen))
        script.entries.append(obs)
        out.append(obs)
    return out


def test_each_pod_updated_exactly_once_passes() -> None:
    """CloudNativePG's rolling change: every instance's generation moves once, all pass at close."""
    results = []
    for uid in ("db-1", "db-2", "db-3"):
        counter = CountMatcher(Changes.generation(), exactly=1)
        for obs in versions(Script(uid), [1, 1, 2, 2]):
            counter.feed(obs)
        results.append(counter.close().status)
    assert results == [M, M, M]


def test_a_pod_updated_twice_fails_at_the_second_update() -> None:
    """The second update of the same instance fails at once, and both updates are listed."""
    counter = CountMatcher(Changes.generation(), exactly=1)
    statuses = [counter.feed(obs).status for obs in versions(Script(), [1, 2, 2, 3, 3])]
    assert statuses == [P, P, P, X, X]
    assert counter.outcome.reason == (
        "generation changes: counted 2 by #3 MODIFIED rv 104; expected exactly 1"
    )
    progress = counter.progress()
    assert [(s.element, s.entry.seq) for s in progress.steps] == [("1 → 2", 1), ("2 → 3", 3)]
    assert progress.notes() == {1: "change 1: 1 → 2", 3: "change 2: 2 → 3"}


def test_generation_count_is_exact_across_a_gap() -> None:
    """A generation jump from 1 to 3 across a gap is exactly two changes."""
    script = Script()
    counter = CountMatcher(Changes.generation(), exactly=1)
    counter.feed(versions(script, [1])[0])
    counter.feed(script.add(GAP))
    out = counter.feed(versions(script, [3])[0])
    assert out.status is X
    assert counter.counted[0].amount == 2


def test_deletion_start_is_not_an_update() -> None:
    """The generation bump that comes with deletionTimestamp is not counted as a spec change."""
    script = Script()
    counter = CountMatcher(Changes.generation(), at_most=0)
    counter.feed(versions(script, [1])[0])
    marked = script.obj("x", generation=2, deletionTimestamp="2025-01-01T00:00:09Z")
    assert counter.feed(script.rec.add_observation("MODIFIED", marked)).status is P
    assert counter.close().status is M


def test_value_changes_across_a_gap_are_undecidable_when_they_matter() -> None:
    """A field that differs across a gap changed once or more: exactly(1) cannot tell which."""
    script = Script()
    counter = CountMatcher("s", exactly=1)
    for item in ("a", GAP, "b"):
        counter.feed(script.add(item))
    out = counter.close()
    assert out.status is Status.UNDECIDABLE
    assert "gap #1 rv 101..106" in out.reason
    assert counter.describe() == "changes of s: exactly 1"


def test_at_least_count_passes_the_moment_it_is_reached() -> None:
    """A lower bound alone is satisfied at once, without waiting for the window to close."""
    script = Script()
    counter = CountMatcher(Changes.of(S), at_least=2)
    statuses = [counter.feed(script.add(v)).status for v in ("a", "b", "b", "a", "c")]
    assert statuses == [P, P, P, M, M]


def test_restart_count_changes() -> None:
    """Restarts count restartCount increments, summed over containers."""
    script = Script()
    counter = CountMatcher(Changes.restarts(), at_most=1)
    for n in (0, 1, 1, 3):
        obj = script.obj("x")
        obj["status"] = {"containerStatuses": [{"name": "app", "restartCount": n}]}
        out = counter.feed(script.rec.add_observation("MODIFIED", obj))
    assert out.status is X
    assert counter.low == 3
    assert repr(Changes.restarts("app")) == "Changes.restarts('app')"
    assert Changes.restarts("app").state.description == restart_count("app").description


def test_count_too_low_at_deletion_is_impossible() -> None:
    """An object deleted before reaching the count cannot reach it any more."""
    script = Script()
    counter = CountMatcher(Changes.generation(), exactly=1)
    counter.feed(versions(script, [1])[0])
    out = counter.feed(script.add(DEL))
    assert out.status is X
    assert out.reason.startswith("the object was deleted at #1 DELETED rv 102; generation changes")


def test_count_bounds_are_checked() -> None:
    """Contradictory or missing bounds are errors."""
    with pytest.raises(ValueError, match="give exactly"):
        CountMatcher(Changes.generation())
    with pytest.raises(ValueError, match="not both"):
        CountMatcher(Changes.generation(), exactly=1, at_most=2)
    with pytest.raises(ValueError, match="below"):
        CountMatcher(Changes.generation(), at_least=3, at_most=2)


# ---------------------------------------------------------------- properties


def collapse(seq: Sequence[str]) -> list[str]:
    """Return `seq` with consecutive duplicates removed."""
    return [k for k, _ in itertools.groupby(seq)]


LETTERS = "abc"
leaf = st.one_of(
    st.sampled_from(LETTERS),
    st.sets(st.sampled_from(LETTERS), min_size=2, max_size=2).map(lambda s: "".join(sorted(s))),
)


def _valid_repeat(t: tuple[int, int | None, Any]) -> bool:
    low, high, _ = t
    return high is None or (high >= max(low, 1))


ast: st.SearchStrategy[Any] = st.recursive(
    leaf,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda xs: ("in_order", xs)),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: ("consecutive", xs)),
        st.tuples(children, children).map(lambda xs: ("any_of", list(xs))),
        st.tuples(st.integers(0, 2), st.one_of(st.none(), st.integers(1, 3)), children)
        .filter(_valid_repeat)
        .map(lambda t: ("repeat", t)),
    ),
    max_leaves=5,
)


def build(node: Any) -> Any:
    """Turn a generated AST into a kwait pattern."""
    if isinstance(node, str):
        return node if len(node) == 1 else one_of(*node)
    kind, arg = node
    if kind == "in_order":
        return in_order(*(build(a) for a in arg))
    if kind == "consecutive":
        return consecutive(*(build(a) for a in arg))
    if kind == "any_of":
        return any_of(*(build(a) for a in arg))
    low, high, body = arg
    return at_least(low, build(body)) if high is None else between(low, high, build(body))


def regex(node: Any, *, gap: bool, loose: bool, span: str = ".*") -> str:
    """Translate an AST into a regular expression over collapsed state strings (the reference)."""
    if isinstance(node, str):
        cls = node if len(node) == 1 else f"[{node}]"
        return (span if gap else "") + cls
    kind, arg = node
    if kind in ("in_order", "consecutive"):
        strict = kind == "consecutive"
        return "".join(
            regex(
                a,
                gap=gap if i == 0 else not strict,
                loose=not strict,
                span=span if i == 0 else ".*",
            )
            for i, a in enumerate(arg)
        )
    if kind == "any_of":
        return "(?:" + "|".join(regex(a, gap=gap, loose=loose, span=span) for a in arg) + ")"
    low, high, body = arg
    first = regex(body, gap=gap, loose=loose, span=span)
    later = regex(body, gap=loose, loose=loose)
    rest = f"(?:{later})*" if high is None else f"(?:{later}){{0,{high - max(low, 1)}}}"
    if low == 0:
        return f"(?:{first}{rest})?"
    return f"{first}(?:{later}){{{low - 1}}}{rest}"


constraint = st.tuples(st.sampled_from(["never", "exactly"]), leaf, st.integers(1, 2))


@st.composite
def top_patterns(draw: st.DrawFn) -> tuple[Pattern, str, bool]:
    """Draw a top-level in_order with at most one span constraint.

    Returns the pattern, its reference regex, and whether the constraint trails (then the
    pattern can only pass when the window closes).
    """
    items = draw(st.lists(ast, min_size=1, max_size=3))
    con = draw(st.one_of(st.none(), constraint))
    spots = [i for i in range(len(items) + 1) if i == len(items) or isinstance(items[i], str)]
    where = draw(st.sampled_from(spots))
    try:
        parts: list[Any] = [build(a) for a in items]
    except ValueError as error:  # refused at construction: it could never match
        refused = "can never match" in str(error)
        assume(not refused)
        raise
    spans = [".*"] * len(items)
    trailing = ""
    if con is not None:
        kind, what, n = con
        cls = what if len(what) == 1 else f"[{what}]"
        neg = f"[^{what}]"
        span = f"{neg}*" if kind == "never" else f"(?:{neg}*{cls}){{{n}}}{neg}*"
        element = what if len(what) == 1 else one_of(*what)
        parts.insert(where, never(element) if kind == "never" else exactly(n, element))
        if where == len(items):
            trailing = span
        else:
            spans[where] = span
    body = "".join(regex(a, gap=True, loose=True, span=spans[i]) for i, a in enumerate(items))
    return in_order(*parts), body + trailing, bool(trailing)


def feed_states(pattern: Pattern, states: Sequence[str]) -> tuple[Matcher, int | None]:
    """Feed raw states; return the matcher and the index of the distinct state that decided."""
    script = Script()
    m = Matcher(S, pattern)
    if m.outcome.done:  # a pattern that matches the empty sequence
        return m, None
    distinct = -1
    last = None
    for value in states:
        if value != last:
            distinct += 1
            last = value
        if m.feed(script.add(value)).done:
            return m, distinct
    return m, None


@settings(max_examples=300, deadline=None)
@given(top_patterns(), st.lists(st.sampled_from("abcd"), max_size=8))
def test_matcher_agrees_with_a_regex_reference(
    drawn: tuple[Pattern, str, bool], states: list[str]
) -> None:
    """On random patterns and state sequences, the online verdict equals a brute-force regex one."""
    pattern, rx, trailing = drawn
    seq = "".join(collapse(states))
    m, decided_at = feed_states(pattern, states)
    outcome = m.outcome
    if outcome.status is Status.IMPOSSIBLE:
        assert decided_at is not None
        prefix = seq[: decided_at + 1]
        for n in range(4):  # no continuation of up to 3 distinct states can still match
            for tail in itertools.product("abcd", repeat=n):
                candidate = "".join(collapse(prefix + "".join(tail)))
                full = [candidate[:k] for k in range(len(prefix), len(candidate) + 1)]
                assert not any(re.fullmatch(rx, c) for c in (full if not trailing else [candidate]))
        return
    if trailing:
        assert outcome.status is Status.PENDING
        assert (m.close().status is Status.MATCHED) == bool(re.fullmatch(rx, seq))
        return
    first = next((k for k in range(len(seq) + 1) if re.fullmatch(rx, seq[:k])), None)
    if first is None:
        assert outcome.status is Status.PENDING
    else:
        assert outcome.status is Status.MATCHED
        assert decided_at == (first - 1 if first else None)


@settings(max_examples=200, deadline=None)
@given(top_patterns(), st.lists(st.sampled_from("abcd"), max_size=10))
def test_repeats_collapse(drawn: tuple[Pattern, str, bool], states: list[str]) -> None:
    """Feeding a sequence with repeated states gives the verdict of the collapsed sequence."""
    pattern = drawn[0]
    raw, _ = feed_states(pattern, states)
    collapsed, _ = feed_states(pattern, collapse(states))
    assert raw.close().status is collapsed.close().status


def outcome_of(pattern: Any, items: Sequence[Any]) -> Outcome:
    """Return the final outcome of `pattern` over `items`."""
    return run(pattern, items)[0].outcome


@settings(max_examples=200, deadline=None)
@given(
    top_patterns(),
    st.lists(st.sampled_from("abcd"), max_size=6),
    st.lists(st.sampled_from("abcd"), max_size=6),
)
def test_a_gap_never_turns_a_verdict_around(
    drawn: tuple[Pattern, str, bool], before: list[str], after: list[str]
) -> None:
    """With a gap inserted the verdict stays the same or becomes undecidable, never the opposite."""
    pattern = drawn[0]
    plain = outcome_of(pattern, before + after).status
    gapped = outcome_of(pattern, [*before, GAP, *after]).status
    assert (
        gapped in (plain, Status.UNDECIDABLE)
        or (plain is Status.UNMET and gapped is Status.IMPOSSIBLE)
        or (plain is Status.IMPOSSIBLE and gapped is Status.UNMET)
    )
    if plain is Status.MATCHED:
        assert gapped in (Status.MATCHED, Status.UNDECIDABLE)


def test_waits_are_true_over_a_predicate() -> None:
    """A wait is [True] over a predicate: met on the first True, failed on deletion or finality."""
    script = Script()

    def pod(value: str) -> dict[str, Any]:
        obj = script.obj("x")
        obj["status"] = {"phase": value}
        return obj

    running = phase().equals("Running")
    wait = Matcher(running, [True])
    assert wait.feed(script.rec.add_observation("ADDED", pod("Pending"))).status is P
    assert wait.feed(script.rec.add_observation("MODIFIED", pod("Running"))).status is M
    gone = Matcher(running, [True])
    gone.feed(script.rec.add_observation("MODIFIED", pod("Pending")))
    assert gone.feed(script.rec.add_observation("DELETED", pod("Pending"))).status is X
    final = Matcher(running, [True])
    assert final.feed(script.rec.add_observation("MODIFIED", pod("Succeeded"))).status is X
    removal = Matcher(deleted(), [True])
    removal.feed(script.rec.add_observation("MODIFIED", pod("Running")))
    assert removal.feed(script.rec.add_observation("DELETED", pod("Running"))).status is M


def test_consistently_is_never_false_or_deleted() -> None:
    """consistently(p) is never(one_of(False, DELETED)) over p: a deletion violates it too."""
    script = Script()
    ok = Matcher(S.equals("up"), never(one_of(False, DELETED)))  # noqa: FBT003
    assert ok.feed(script.add("up")).status is P
    assert ok.feed(script.add(DEL)).status is X
