"""Backoff: how long to wait before the next try, reproducibly.

A backoff is an immutable description of a schedule of delays
(`ExponentialBackoff`, `ConstantBackoff`, `ApimachineryBackoff`). Calling
`Backoff.start` gives a `BackoffState`: the mutable cursor a reconnect or
retry loop asks for `next_delay()` and `reset()`s after a success.

Jitter is drawn from a `random.Random` seeded by the backoff's ``seed`` (or
one the caller passes), never from the global `random` module, so the same
seed gives the same schedule on every run.

Formulas (n = 0, 1, 2 ... counts the delays handed out since the last reset,
u_n is drawn uniformly from [0, 1) by the seeded generator):

- `ExponentialBackoff`: ``b_n = min(initial * factor**n, cap)`` and
  ``delay_n = b_n * (1 - jitter * u_n)``, so
  ``b_n * (1 - jitter) < delay_n <= b_n <= cap``. After ``max_steps`` delays
  the schedule is exhausted.
- `ConstantBackoff`: the same with ``factor = 1``.
- `ApimachineryBackoff`: exactly Kubernetes' ``wait.Backoff.Step()``.

How `ExponentialBackoff` differs from apimachinery's ``wait.Backoff{Duration,
Factor, Jitter, Steps, Cap}``, whose ``Step()`` returns ``Jitter(d, f) = d +
rand[0,1) * f * d`` and then grows ``d`` by ``Factor``:

1. Jitter *shortens* a delay instead of lengthening it, so ``cap`` is a hard
   upper bound on every delay. apimachinery caps the duration before jitter,
   so its delays reach ``Cap * (1 + Jitter)``. ``jitter=1`` is "full jitter".
2. ``max_steps`` counts delays and ends the schedule (`next_delay` raises
   `BackoffExhaustedError`). apimachinery's ``Steps`` counts how many more
   times the duration may grow; when it reaches 0, ``Step()`` keeps returning
   the last duration forever (``ExponentialBackoff(...)`` loops use ``Steps``
   as their attempt budget instead).
3. Reaching ``cap`` only clamps. In apimachinery, growing past ``Cap`` sets the
   duration to ``Cap`` *and* ``Steps`` to 0: the steps end there.
4. ``cap`` also clamps the first delay; apimachinery returns ``Duration`` as
   the first step even when it exceeds ``Cap``.
5. Delays are float seconds; apimachinery truncates to integer nanoseconds.
6. The random numbers come from a seeded `random.Random`; apimachinery uses
   Go's global generator.
"""

from __future__ import annotations

import dataclasses
import math
import random
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from typing_extensions import Self

from kwait._errors import KwaitError
from kwait._time.deadline import format_seconds

__all__ = [
    "ApimachineryBackoff",
    "Backoff",
    "BackoffExhaustedError",
    "BackoffState",
    "ConstantBackoff",
    "ExponentialBackoff",
]

_NS = 1_000_000_000


class BackoffExhaustedError(KwaitError):
    """A backoff with ``max_steps`` was asked for one delay more than it has.

    >>> from kwait.retry import ConstantBackoff
    >>> state = ConstantBackoff(1.0, max_steps=1).start()
    >>> state.next_delay()
    1.0
    >>> state.next_delay()
    Traceback (most recent call last):
    ...
    kwait.errors.BackoffExhaustedError: no delay left after 1 of ...
    """


def _finite(name: str, value: float, *, low: float, inclusive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    ok = math.isfinite(number) and (number >= low if inclusive else number > low)
    if not ok:
        bound = f">= {low:g}" if inclusive else f"> {low:g}"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return number


def _steps(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_steps must be None or an integer >= 0, got {value!r}")
    return value


def _rng(rng: random.Random | int | None, seed: int) -> random.Random:
    if rng is None:
        return random.Random(seed)  # noqa: S311 - jitter, not cryptography
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)  # noqa: S311
    raise TypeError(f"rng must be a random.Random, an integer seed or None, not {rng!r}")


class Backoff(ABC):
    """A schedule of delays between tries; immutable, so one can be shared freely.

    Subclasses define the un-jittered delays and how jitter applies; this
    class turns them into `BackoffState` cursors and previews.

    >>> from kwait.retry import Backoff, ExponentialBackoff
    >>> backoff: Backoff = ExponentialBackoff(initial=0.5, factor=2, cap=4, jitter=0)
    >>> state = backoff.start()
    >>> [state.next_delay() for _ in range(5)]
    [0.5, 1.0, 2.0, 4.0, 4.0]
    """

    @property
    @abstractmethod
    def max_steps(self) -> int | None:
        """How many delays the schedule has, or None when it never ends."""

    @property
    @abstractmethod
    def seed(self) -> int:
        """The seed of the jitter generator `start` makes when given none."""

    @abstractmethod
    def _bases(self) -> Iterator[float]:
        """Yield the un-jittered delays, forever."""

    @abstractmethod
    def _jitter(self, base: float, rng: random.Random) -> float:
        """Apply jitter to one un-jittered delay."""

    @abstractmethod
    def _range(self, base: float) -> tuple[float, float]:
        """The smallest and largest delay jitter can make of `base`."""

    @abstractmethod
    def describe(self) -> str:
        """Say in words what the schedule does."""

    def start(self, rng: random.Random | int | None = None) -> BackoffState:
        """Return a fresh cursor over this schedule.

        Args:
            rng: The jitter generator: a `random.Random` (used as is, so the
                caller can share one seeded generator), an integer seed, or
                None for ``random.Random(self.seed)``.
        """
        return BackoffState(self, _rng(rng, self.seed))

    def delays(
        self, count: int | None = None, *, rng: random.Random | int | None = None
    ) -> list[float]:
        """Preview the first `count` delays of a fresh `start(rng)` (all of them if None).

        >>> ExponentialBackoff(initial=1, factor=3, cap=20).delays(5)
        [1.0, 3.0, 9.0, 20.0, 20.0]
        """
        if count is None:
            if self.max_steps is None:
                raise ValueError("this schedule is unlimited; say how many delays to preview")
            count = self.max_steps
        return list(islice(self.start(rng), count))

    def bounds(self, step: int) -> tuple[float, float]:
        """The smallest and largest value delay number `step` (from 0) can take, jitter included.

        >>> ExponentialBackoff(initial=2, jitter=0.5).bounds(1)
        (2.0, 4.0)
        """
        if step < 0 or (self.max_steps is not None and step >= self.max_steps):
            raise IndexError(f"this schedule has no delay number {step}: {self.describe()}")
        base = next(islice(self._bases(), step, None))
        return self._range(base)

    def with_seed(self, seed: int) -> Self:
        """Return a copy whose jitter comes from `seed`."""
        return dataclasses.replace(self, seed=seed)  # type: ignore[type-var]


class BackoffState:
    """A cursor over a `Backoff` schedule: ask `next_delay`, `reset` after a success.

    Not thread-safe: one loop owns it. Resetting restarts the schedule at its
    first delay but keeps drawing from the same generator, so the whole
    sequence is determined by the seed and the order of calls.

    >>> state = ExponentialBackoff(initial=0.5, factor=2, max_steps=3).start()
    >>> state.next_delay(), state.next_delay(), state.next_delay()
    (0.5, 1.0, 2.0)
    >>> state.exhausted
    True
    >>> state.reset()
    >>> state.next_delay()
    0.5
    """

    def __init__(self, backoff: Backoff, rng: random.Random) -> None:
        """Start at the first delay of `backoff`, drawing jitter from `rng`."""
        self.backoff: Backoff = backoff
        self.rng: random.Random = rng
        self.steps: int = 0
        self.last_delay: float | None = None
        self._bases = backoff._bases()  # noqa: SLF001

    @property
    def exhausted(self) -> bool:
        """True when `next_delay` has no delay left to give."""
        limit = self.backoff.max_steps
        return limit is not None and self.steps >= limit

    def next_delay(self) -> float:
        """Return the next delay in seconds and move past it.

        Raises:
            BackoffExhaustedError: The schedule's ``max_steps`` delays are used up.
        """
        if self.exhausted:
            raise BackoffExhaustedError(
                f"no delay left after {self.steps} of {self.backoff.describe()}"
            )
        base = next(self._bases)
        delay = self.backoff._jitter(base, self.rng)  # noqa: SLF001
        self.steps += 1
        self.last_delay = delay
        return delay

    def reset(self) -> None:
        """Go back to the first delay (after a success)."""
        self.steps = 0
        self.last_delay = None
        self._bases = self.backoff._bases()  # noqa: SLF001

    def __iter__(self) -> Iterator[float]:
        """Iterate over the remaining delays (forever if the schedule is unlimited)."""
        return self

    def __next__(self) -> float:
        """Return `next_delay()`, or stop when exhausted."""
        if self.exhausted:
            raise StopIteration
        return self.next_delay()

    def __repr__(self) -> str:
        """Show the schedule and where the cursor is."""
        last = "none" if self.last_delay is None else format_seconds(self.last_delay)
        return f"<BackoffState {self.backoff!r}: {self.steps} delays given, last {last}>"


@dataclass(frozen=True)
class ExponentialBackoff(Backoff):
    """Delays that grow by `factor` from `initial` up to `cap`, shortened by seeded jitter.

    ``delay_n = min(initial * factor**n, cap) * (1 - jitter * u_n)``, with
    ``u_n`` uniform in [0, 1) from ``random.Random(seed)``; so every delay
    lies in ``(b_n * (1 - jitter), b_n]`` and never exceeds `cap`.

    Args:
        initial: The first (un-jittered) delay, seconds, > 0.
        factor: Growth per delay, >= 1.
        cap: The largest delay, or None for no limit.
        max_steps: How many delays in all (None: unlimited; 0: none).
        jitter: The fraction in [0, 1] a delay may be shortened by at random.
        seed: Seeds the jitter generator.

    >>> ExponentialBackoff(initial=0.1, factor=2.0, cap=10.0, jitter=0.1, seed=0)
    ExponentialBackoff(initial=0.1, factor=2.0, cap=10.0, max_steps=None, jitter=0.1, seed=0)
    >>> [round(d, 3) for d in ExponentialBackoff(cap=5, jitter=0.5, seed=7).delays(4)]
    [0.838, 1.849, 2.698, 4.819]
    """

    initial: float = 1.0
    factor: float = 2.0
    cap: float | None = None
    max_steps: int | None = None
    jitter: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        """Validate the parameters."""
        _check(self, "initial", _finite("initial", self.initial, low=0, inclusive=False))
        _check(self, "factor", _finite("factor", self.factor, low=1))
        if self.cap is not None:
            _check(self, "cap", _finite("cap", self.cap, low=0, inclusive=False))
        _check(self, "jitter", _finite("jitter", self.jitter, low=0))
        if self.jitter > 1:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter!r}")
        _check(self, "max_steps", _steps(self.max_steps))

    def _bases(self) -> Iterator[float]:
        base = self.initial
        cap = math.inf if self.cap is None else self.cap
        while True:
            base = min(base, cap)
            yield base
            base *= self.factor

    def _jitter(self, base: float, rng: random.Random) -> float:
        if self.jitter == 0:
            return base
        return base * (1.0 - self.jitter * rng.random())

    def _range(self, base: float) -> tuple[float, float]:
        return (base * (1.0 - self.jitter), base)

    def describe(self) -> str:
        """Say in words what the schedule does.

        >>> print(ExponentialBackoff(initial=0.5, cap=30, jitter=0.2, max_steps=6).describe())
        exponential backoff: 0.5 s, x2 per step, capped at 30 s, up to 20% shorter (jitter, seed 0),
        6 delays at most
        """
        parts = [f"exponential backoff: {format_seconds(self.initial)}, x{self.factor:g} per step"]
        if self.cap is not None:
            parts.append(f"capped at {format_seconds(self.cap)}")
        if self.jitter:
            parts.append(f"up to {self.jitter:.0%} shorter (jitter, seed {self.seed})")
        if self.max_steps is not None:
            parts.append(f"{self.max_steps} delays at most")
        return ", ".join(parts)


@dataclass(frozen=True)
class ConstantBackoff(Backoff):
    """The same delay every time, optionally shortened by seeded jitter.

    ``delay_n = delay * (1 - jitter * u_n)``.

    >>> ConstantBackoff(2.0, max_steps=3).delays()
    [2.0, 2.0, 2.0]
    """

    delay: float = 1.0
    max_steps: int | None = None
    jitter: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        """Validate the parameters."""
        _check(self, "delay", _finite("delay", self.delay, low=0))
        _check(self, "jitter", _finite("jitter", self.jitter, low=0))
        if self.jitter > 1:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter!r}")
        _check(self, "max_steps", _steps(self.max_steps))

    def _bases(self) -> Iterator[float]:
        while True:
            yield self.delay

    def _jitter(self, base: float, rng: random.Random) -> float:
        if self.jitter == 0:
            return base
        return base * (1.0 - self.jitter * rng.random())

    def _range(self, base: float) -> tuple[float, float]:
        return (base * (1.0 - self.jitter), base)

    def describe(self) -> str:
        """Say in words what the schedule does."""
        parts = [f"constant backoff: {format_seconds(self.delay)}"]
        if self.jitter:
            parts.append(f"up to {self.jitter:.0%} shorter (jitter, seed {self.seed})")
        if self.max_steps is not None:
            parts.append(f"{self.max_steps} delays at most")
        return ", ".join(parts)


class _Nanos(float):
    """Seconds that remember the exact integer nanoseconds they came from."""

    nanos: int

    @classmethod
    def of(cls, nanos: int) -> _Nanos:
        seconds = cls(nanos / _NS)
        seconds.nanos = nanos
        return seconds


@dataclass(frozen=True)
class ApimachineryBackoff(Backoff):
    """Kubernetes apimachinery's ``wait.Backoff`` and its ``Step()``, to the nanosecond.

    For porting Go tests, or comparing: the fields mean what they mean in Go,
    zero values included (``factor=0``: no growth; ``cap=0``: no cap;
    ``steps=0``: the duration never changes). Each `BackoffState.next_delay`
    is one ``Step()``::

        if steps < 1: return Jitter(duration, jitter)   # duration stays
        steps -= 1; current = duration
        if factor != 0:
            duration = duration * factor                 # in integer nanoseconds
            if cap > 0 and duration > cap: duration = cap; steps = 0
        return Jitter(current, jitter)                   # d + rand[0,1) * jitter * d

    The schedule never ends (``max_steps`` is None); ``Jitter`` reads the
    seeded generator instead of Go's global one.

    >>> ApimachineryBackoff(duration=1, factor=2, steps=4, cap=5).delays(6)
    [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    """

    duration: float = 0.0
    factor: float = 0.0
    jitter: float = 0.0
    steps: int = 0
    cap: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        """Validate the parameters (Go accepts anything; negative values make no sense)."""
        _finite("duration", self.duration, low=0)
        _finite("factor", self.factor, low=0)
        _finite("jitter", self.jitter, low=0)
        _finite("cap", self.cap, low=0)
        if isinstance(self.steps, bool) or not isinstance(self.steps, int):
            raise TypeError(f"steps must be an integer, got {self.steps!r}")

    @property
    def max_steps(self) -> int | None:
        """None: ``Step()`` can always be called again."""
        return None

    def _bases(self) -> Iterator[float]:
        duration = round(self.duration * _NS)
        cap = round(self.cap * _NS)
        steps = self.steps
        while True:
            if steps < 1:
                yield _Nanos.of(duration)
                continue
            steps -= 1
            current = duration
            if self.factor != 0:
                duration = int(duration * self.factor)
                if cap > 0 and duration > cap:
                    duration = cap
                    steps = 0
            yield _Nanos.of(current)

    def _jitter(self, base: float, rng: random.Random) -> float:
        nanos = base.nanos if isinstance(base, _Nanos) else round(base * _NS)
        if self.jitter > 0:
            nanos += int(rng.random() * self.jitter * nanos)
        return nanos / _NS

    def _range(self, base: float) -> tuple[float, float]:
        return (float(base), base * (1.0 + self.jitter))

    def describe(self) -> str:
        """Say in words what the schedule does."""
        return (
            f"apimachinery wait.Backoff{{Duration: {format_seconds(self.duration)}, "
            f"Factor: {self.factor:g}, Jitter: {self.jitter:g}, Steps: {self.steps}, "
            f"Cap: {format_seconds(self.cap)}}} (seed {self.seed})"
        )


def _check(obj: object, name: str, value: object) -> None:
    """Store a normalised field value on a frozen dataclass."""
    object.__setattr__(obj, name, value)
