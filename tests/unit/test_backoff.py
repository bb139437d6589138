"""Backoff schedules: documented formulas, hard bounds, seeded jitter, apimachinery's Step()."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kwait.errors import BackoffExhaustedError
from kwait.retry import ApimachineryBackoff, Backoff, ConstantBackoff, ExponentialBackoff


def seeded(seed: int) -> random.Random:
    """A generator seeded like the backoffs seed theirs."""
    return random.Random(seed)  # noqa: S311 - jitter, not cryptography


exponentials = st.builds(
    ExponentialBackoff,
    initial=st.floats(min_value=1e-3, max_value=100),
    factor=st.floats(min_value=1, max_value=10),
    cap=st.none() | st.floats(min_value=1e-3, max_value=1000),
    max_steps=st.none() | st.integers(min_value=0, max_value=40),
    jitter=st.floats(min_value=0, max_value=1),
    seed=st.integers(min_value=0, max_value=2**32),
)
apimachineries = st.builds(
    ApimachineryBackoff,
    duration=st.floats(min_value=0, max_value=100),
    factor=st.floats(min_value=0, max_value=10),
    jitter=st.floats(min_value=0, max_value=2),
    steps=st.integers(min_value=-2, max_value=20),
    cap=st.floats(min_value=0, max_value=1000),
    seed=st.integers(min_value=0, max_value=2**32),
)
backoffs: st.SearchStrategy[Backoff] = (
    exponentials
    | apimachineries
    | st.builds(
        ConstantBackoff,
        delay=st.floats(min_value=0, max_value=100),
        max_steps=st.none() | st.integers(min_value=0, max_value=40),
        jitter=st.floats(min_value=0, max_value=1),
        seed=st.integers(min_value=0, max_value=2**32),
    )
)


# --------------------------------------------------------------------------- exponential


def test_exponential_without_jitter_follows_the_formula() -> None:
    """Without jitter, delay n is exactly min(initial * factor**n, cap)."""
    backoff = ExponentialBackoff(initial=0.1, factor=2.0, cap=1.0)
    assert backoff.delays(6) == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert ExponentialBackoff(initial=5, cap=2).delays(2) == [2.0, 2.0]


def test_jitter_shortens_delays_by_at_most_the_jitter_fraction() -> None:
    """With jitter j, each delay is base * (1 - j * u) for the seeded generator's next u."""
    backoff = ExponentialBackoff(initial=1, factor=2, cap=8, jitter=0.25, seed=42)
    rng = seeded(42)
    expected = [base * (1 - 0.25 * rng.random()) for base in (1, 2, 4, 8, 8)]
    assert backoff.delays(5) == expected


@given(exponentials, st.integers(min_value=0, max_value=60))
def test_exponential_delays_stay_within_bounds_and_the_cap(
    backoff: ExponentialBackoff, count: int
) -> None:
    """Every delay lies in its documented bounds, never above the cap nor below zero."""
    for step, delay in enumerate(backoff.delays(count)):
        low, high = backoff.bounds(step)
        assert low <= delay <= high
        assert delay > 0 or backoff.jitter == 1
        if backoff.cap is not None:
            assert delay <= backoff.cap
        base = min(backoff.initial * backoff.factor**step, backoff.cap or math.inf)
        assert high == pytest.approx(base)
        assert low == pytest.approx(base * (1 - backoff.jitter))


@given(backoffs, st.integers(min_value=0, max_value=30))
def test_the_same_seed_gives_the_same_schedule(backoff: Backoff, count: int) -> None:
    """Two cursors from one seed (given as the default, an int, or a Random) agree exactly."""
    first = backoff.delays(count)
    assert backoff.delays(count) == first
    assert backoff.delays(count, rng=backoff.seed) == first
    assert backoff.delays(count, rng=seeded(backoff.seed)) == first
    assert backoff.with_seed(backoff.seed).delays(count) == first


def test_different_seeds_give_different_jitter() -> None:
    """Changing the seed changes a jittered schedule."""
    backoff = ExponentialBackoff(jitter=0.5)
    assert backoff.with_seed(1).delays(5) != backoff.with_seed(2).delays(5)


@given(backoffs)
def test_the_global_random_generator_is_never_touched(backoff: Backoff) -> None:
    """Drawing jitter leaves the random module's global state exactly as it was."""
    random.seed(1234)
    before = random.getstate()
    backoff.delays(10 if backoff.max_steps is None else min(10, backoff.max_steps))
    assert random.getstate() == before


def test_max_steps_ends_the_schedule_with_a_clear_error() -> None:
    """After max_steps delays, next_delay raises and iteration stops."""
    state = ExponentialBackoff(initial=1, max_steps=2).start()
    assert list(state) == [1.0, 2.0]
    assert state.exhausted
    with pytest.raises(
        BackoffExhaustedError,
        match=r"no delay left after 2 of exponential backoff: 1 s, x2 per step, 2 delays at most",
    ):
        state.next_delay()
    assert ExponentialBackoff(max_steps=0).start().exhausted
    assert ExponentialBackoff(max_steps=3).delays() == [1.0, 2.0, 4.0]


def test_reset_restarts_the_schedule_and_keeps_drawing() -> None:
    """After reset the bases start over while jitter continues the same seeded sequence."""
    backoff = ExponentialBackoff(initial=1, factor=3, jitter=0.5, seed=9)
    state = backoff.start()
    first = [state.next_delay(), state.next_delay()]
    state.reset()
    again = state.next_delay()
    rng = seeded(9)
    draws = [rng.random() for _ in range(3)]
    assert first == [1 * (1 - 0.5 * draws[0]), 3 * (1 - 0.5 * draws[1])]
    assert again == 1 * (1 - 0.5 * draws[2])
    assert (state.steps, state.last_delay) == (1, again)


def test_a_shared_generator_is_used_as_given() -> None:
    """A caller's Random instance is drawn from directly, so two schedules can share one stream."""
    rng = seeded(5)
    backoff = ConstantBackoff(10, jitter=1)
    a, b = backoff.start(rng), backoff.start(rng)
    values = [a.next_delay(), b.next_delay()]
    check = seeded(5)
    assert values == [10 * (1 - check.random()), 10 * (1 - check.random())]


def test_reprs_and_descriptions_are_readable() -> None:
    """A backoff's repr shows its parameters; the cursor's repr shows its progress."""
    backoff = ExponentialBackoff(initial=0.1, factor=2.0, cap=10.0, jitter=0.1, seed=0)
    assert repr(backoff) == (
        "ExponentialBackoff(initial=0.1, factor=2.0, cap=10.0, max_steps=None, jitter=0.1, seed=0)"
    )
    state = ConstantBackoff(2.5).start()
    state.next_delay()
    assert repr(state) == (
        "<BackoffState ConstantBackoff(delay=2.5, max_steps=None, jitter=0.0, seed=0): "
        "1 delays given, last 2.5 s>"
    )
    assert ConstantBackoff(1, max_steps=4, jitter=0.1, seed=3).describe() == (
        "constant backoff: 1 s, up to 10% shorter (jitter, seed 3), 4 delays at most"
    )
    assert ApimachineryBackoff(duration=0.5, factor=2, jitter=0.1, steps=5, cap=8).describe() == (
        "apimachinery wait.Backoff{Duration: 0.5 s, Factor: 2, Jitter: 0.1, Steps: 5, Cap: 8 s} "
        "(seed 0)"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ExponentialBackoff(initial=0), "initial must be a finite number > 0"),
        (lambda: ExponentialBackoff(factor=0.5), "factor must be a finite number >= 1"),
        (lambda: ExponentialBackoff(cap=0), "cap must be a finite number > 0"),
        (lambda: ExponentialBackoff(cap=math.inf), "cap must be a finite number > 0"),
        (lambda: ExponentialBackoff(jitter=1.5), "jitter must be between 0 and 1"),
        (lambda: ExponentialBackoff(jitter=-0.1), "jitter must be a finite number >= 0"),
        (lambda: ExponentialBackoff(initial=math.nan), "initial must be a finite number"),
        (lambda: ExponentialBackoff(max_steps=-1), "max_steps must be None or an integer >= 0"),
        (lambda: ConstantBackoff(-1), "delay must be a finite number >= 0"),
        (lambda: ApimachineryBackoff(duration=-1), "duration must be a finite number >= 0"),
    ],
)
def test_invalid_parameters_are_refused(make: object, message: str) -> None:
    """Each impossible parameter fails at construction, naming the parameter and the rule."""
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_bounds_refuse_steps_the_schedule_does_not_have() -> None:
    """Asking for the bounds of a delay past max_steps is an IndexError."""
    with pytest.raises(IndexError, match="no delay number 3"):
        ExponentialBackoff(max_steps=3).bounds(3)
    with pytest.raises(ValueError, match="say how many"):
        ExponentialBackoff().delays()


def test_a_bad_generator_is_refused() -> None:
    """Only a Random, an int seed or None can drive jitter."""
    with pytest.raises(TypeError, match=r"rng must be a random\.Random"):
        ExponentialBackoff().start(rng="seed")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- apimachinery


def go_delays(backoff: ApimachineryBackoff, count: int) -> list[float]:
    """A literal port of apimachinery's delay() in integer nanoseconds, for comparison."""
    rng = seeded(backoff.seed)
    duration = round(backoff.duration * 1e9)
    cap = round(backoff.cap * 1e9)
    steps = backoff.steps
    out: list[float] = []
    for _ in range(count):
        if steps < 1:
            nanos = duration
            if backoff.jitter > 0:
                nanos = duration + int(rng.random() * backoff.jitter * duration)
            out.append(nanos / 1_000_000_000)
            continue
        steps -= 1
        if backoff.factor != 0:
            following = int(duration * backoff.factor)
            if cap > 0 and following > cap:
                following = cap
                steps = 0
        else:
            following = duration
        nanos = duration
        if backoff.jitter > 0:
            nanos = duration + int(rng.random() * backoff.jitter * duration)
        out.append(nanos / 1_000_000_000)
        duration = following
    return out


@given(apimachineries, st.integers(min_value=0, max_value=40))
def test_apimachinery_backoff_matches_go_step(backoff: ApimachineryBackoff, count: int) -> None:
    """ApimachineryBackoff returns what wait.Backoff.Step() returns, call after call."""
    assert backoff.delays(count) == go_delays(backoff, count)


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [
        (ApimachineryBackoff(duration=1, factor=2, steps=4, cap=5), [1, 2, 4, 5, 5, 5]),
        (ApimachineryBackoff(duration=1, factor=2, steps=2), [1, 2, 4, 4, 4, 4]),
        (ApimachineryBackoff(duration=1, factor=0, steps=5), [1, 1, 1, 1, 1, 1]),
        (ApimachineryBackoff(duration=1, factor=2, steps=0), [1, 1, 1, 1, 1, 1]),
        (ApimachineryBackoff(duration=10, factor=2, steps=5, cap=3), [10, 3, 3, 3, 3, 3]),
    ],
    ids=["cap-ends-the-steps", "steps-stop-growth", "factor-0", "steps-0", "first-above-cap"],
)
def test_apimachinery_edge_cases(backoff: ApimachineryBackoff, expected: list[float]) -> None:
    """Cap zeroes Steps, Steps only limits growth, and the first Duration is not capped."""
    assert backoff.delays(6) == [float(d) for d in expected]


def test_where_kwait_and_apimachinery_differ_at_the_cap() -> None:
    """With the same cap and jitter, apimachinery exceeds the cap and kwait never does."""
    go = ApimachineryBackoff(duration=1, factor=2, jitter=0.5, steps=100, cap=4, seed=3)
    kw = ExponentialBackoff(initial=1, factor=2, jitter=0.5, cap=4, seed=3)
    go_tail, kw_tail = go.delays(50)[3:], kw.delays(50)[3:]
    assert max(go_tail) > 4.0
    assert all(4.0 <= d < 6.0 for d in go_tail)
    assert all(2.0 < d <= 4.0 for d in kw_tail)
    assert go.bounds(10) == (4.0, 6.0)
    assert kw.bounds(10) == (2.0, 4.0)
    assert go.max_steps is None
