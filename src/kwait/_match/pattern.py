"""Patterns over the distinct states an object passes through, matched online.

A state function (see `kwait.states.State`) turns every observation of one object
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

Elements are plain values (compared with ``==``; `kwait.states.DELETED` matches the
object's deletion) or predicates over values (`one_of`, `matches`, any
callable, combinable with ``&``, ``|``, ``~``).

`Matcher` is fed one timeline entry at a time and says after each one whether
the pattern is still pending, matched, impossible (a forbidden state, the
object deleted or in a terminal state with the pattern incomplete), or
undecidable because of a gap. `CountMatcher` counts changes ("updated exactly
once"). Both have `close()` for the end of the observation window, and both
expose their `progress()` for failure reports.

>>> in_order("Pending", at_least(1, "Running")).without("Failed")
in_order('Pending', at_least(1, 'Running')).without('Failed')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kwait._check import check_int, shown
from kwait._match.states import (
    DeletedType,
    Predicate,
    State,
    as_predicate,
    deleted,
    same_value,
)

# ====================================================================== elements


_NO_VALUE: Any = object()


@dataclass(frozen=True, eq=False)
class ElementTest:
    """One element test: a value to compare with, or a predicate over values."""

    fn: Callable[[Any], Any]
    text: str
    deletion_only: bool  # can match nothing but DELETED, so never inside a gap
    value: Any = _NO_VALUE  # the plain value compared with, if that is what this tests

    def __call__(self, value: Any) -> bool:
        return bool(self.fn(value))


def _test(item: Any) -> ElementTest:
    if isinstance(item, tuple | set | frozenset):
        kind = type(item).__name__
        raise TypeError(
            f"{shown(item)} is a {kind}: a pattern is a list (or in_order(...)) and one element is "
            "one state value; write a list for a sequence, one_of(...) for alternatives, or "
            f"`lambda v: v == {shown(item)}` to match a {kind}-valued state"
        )
    if isinstance(item, Predicate):
        if item.reads_objects:
            raise TypeError(
                f"{item!r} tests whole objects, but pattern elements test the values of the "
                "state function: make it the state function (and match True), or test values "
                "with a plain value, one_of(...), matches(...) or a callable"
            )
        return ElementTest(item, repr(item), deletion_only=item is deleted())
    if isinstance(item, State):
        raise TypeError(
            f"{item!r} is a state function, not a pattern element; compare values instead"
        )
    if isinstance(item, Pattern):
        raise TypeError(f"{item!r} is a pattern, not a single element")
    if callable(item) and not isinstance(item, type):
        pred = as_predicate(item)
        return ElementTest(pred, repr(pred), deletion_only=False)
    return ElementTest(
        lambda value: same_value(value, item),
        repr(item),
        deletion_only=isinstance(item, DeletedType),
        value=item,
    )


def one_of(*values: Any) -> Predicate:
    """A pattern element matching any of `values`.

    >>> one_of("ErrImagePull", "ImagePullBackOff")("ImagePullBackOff")
    True
    """
    if not values:
        raise ValueError("one_of() needs at least one value: one_of('ErrImagePull', ...)")
    text = ", ".join(repr(v) for v in values)
    return Predicate(
        lambda value: any(same_value(value, v) for v in values),
        f"one of {text}",
        name=f"one_of({text})",
        on_deleted=any(isinstance(v, DeletedType) for v in values),
    )


def matches(regex: str) -> Predicate:
    """A pattern element matching string states that `regex` matches (``re.search``).

    >>> matches("^Err")("ErrImagePull"), matches("^Err")(None)
    (True, False)
    """
    if not isinstance(regex, str):
        raise TypeError(f"matches() takes a regular expression string, got {shown(regex)}")
    try:
        compiled = re.compile(regex)
    except re.error as error:
        raise ValueError(f"matches({regex!r}): not a valid regular expression: {error}") from None
    return Predicate(
        lambda value: isinstance(value, str) and compiled.search(value) is not None,
        f"matching /{regex}/",
        name=f"matches({regex!r})",
    )


# ====================================================================== the language


class Pattern:
    """A pattern over distinct states. Build one with `in_order`, `consecutive`...

    Patterns are immutable and reusable; ``p | q`` is `any_of` ``(p, q)``.

    >>> import kwait
    >>> pattern = kwait.in_order("Pending", "Running") | "Succeeded"
    >>> isinstance(pattern, kwait.Pattern), pattern
    (True, any_of(in_order('Pending', 'Running'), 'Succeeded'))
    """

    __slots__ = ("__weakref__", "_nfa")

    def __init__(self) -> None:
        self._nfa: object | None = None  # the compiled automaton, cached by kwait._match.nfa

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
        return WithoutPattern(self, tuple(_test(f) for f in forbidden))


class ElementPattern(Pattern):
    __slots__ = ("test",)

    def __init__(self, test: ElementTest) -> None:
        super().__init__()
        self.test = test

    def __repr__(self) -> str:
        return self.test.text


class SequencePattern(Pattern):
    __slots__ = ("items", "strict")

    def __init__(self, items: tuple[Pattern, ...], *, strict: bool) -> None:
        super().__init__()
        if not items:
            raise ValueError("a sequence needs at least one element")
        if strict:
            for item in items:
                if isinstance(item, ConstraintPattern):
                    raise TypeError(
                        f"{item!r} inside consecutive() has no span to apply to; "
                        "put it in an in_order()"
                    )
        self.items = items
        self.strict = strict
        if strict:
            _check_consecutive(items)

    def __repr__(self) -> str:
        name = "consecutive" if self.strict else "in_order"
        return f"{name}({', '.join(repr(i) for i in self.items)})"


class ChoicePattern(Pattern):
    __slots__ = ("options",)

    def __init__(self, options: tuple[Pattern, ...]) -> None:
        super().__init__()
        if len(options) < 2:  # noqa: PLR2004
            raise ValueError("any_of() needs at least two alternatives")
        for option in options:
            if isinstance(option, ConstraintPattern):
                raise TypeError(f"{option!r} cannot be an alternative; use it in an in_order()")
        self.options = options

    def __repr__(self) -> str:
        return f"any_of({', '.join(repr(o) for o in self.options)})"


class RepeatPattern(Pattern):
    __slots__ = ("body", "high", "low")

    def __init__(self, body: Pattern, low: int, high: int | None) -> None:
        super().__init__()
        check_int("n", low)
        if high is not None:
            check_int("m", high)
        if low < 0 or (high is not None and (high < low or high < 1)):
            raise ValueError(f"bad repetition bounds {low}..{high}")
        if isinstance(body, ConstraintPattern):
            raise TypeError(f"{body!r} cannot be repeated; use exactly() to count occurrences")
        self.body, self.low, self.high = body, low, high

    def __repr__(self) -> str:
        if self.high is None:
            return f"at_least({self.low}, {self.body!r})"
        if (self.low, self.high) == (0, 1):
            return f"optional({self.body!r})"
        return f"between({self.low}, {self.high}, {self.body!r})"


class ConstraintPattern(Pattern):
    __slots__ = ("high", "low", "test")

    def __init__(self, test: ElementTest, low: int, high: int) -> None:
        super().__init__()
        check_int("n", low)
        check_int("n", high)
        if low < 0 or high < low:
            raise ValueError(f"bad count bounds {low}..{high}")
        self.test, self.low, self.high = test, low, high

    def __repr__(self) -> str:
        if self.high == 0:
            return f"never({self.test.text})"
        if self.low == self.high:
            return f"exactly({self.low}, {self.test.text})"
        return f"at_most({self.high}, {self.test.text})"


class WithoutPattern(Pattern):
    __slots__ = ("body", "forbidden")

    def __init__(self, body: Pattern, forbidden: tuple[ElementTest, ...]) -> None:
        super().__init__()
        self.body, self.forbidden = body, forbidden

    def __repr__(self) -> str:
        return f"{self.body!r}.without({', '.join(t.text for t in self.forbidden)})"


PatternLike = Pattern | list[Any] | Any


def _plain_value(pattern: Pattern) -> tuple[bool, Any]:
    """(True, value) for an element that compares with a plain value, else (False, None)."""
    if isinstance(pattern, ElementPattern) and pattern.test.value is not _NO_VALUE:
        return True, pattern.test.value
    return False, None


def _check_consecutive(items: tuple[Pattern, ...]) -> None:
    """Refuse what `consecutive` can never match: states are distinct, so no value repeats."""
    previous: tuple[bool, Any] = (False, None)
    for item in items:
        if isinstance(item, RepeatPattern) and item.low >= 2:  # noqa: PLR2004
            plain, value = _plain_value(item.body)
            if plain:
                raise ValueError(
                    f"{item!r} inside consecutive() can never match: consecutive equal states "
                    f"collapse into one distinct state, so {value!r} cannot follow itself"
                )
        current = _plain_value(item)
        if current[0] and previous[0] and same_value(current[1], previous[1]):
            raise ValueError(
                f"consecutive(..., {current[1]!r}, {current[1]!r}, ...) can never match: "
                "consecutive equal states collapse into one distinct state; write it once, or "
                "use in_order() to allow other states between the two"
            )
        previous = current


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
        return SequencePattern(tuple(_part(i) for i in item), strict=False)
    return ElementPattern(_test(item))


def _part(item: PatternLike) -> Pattern:
    pattern = as_pattern(item)
    if isinstance(pattern, WithoutPattern):
        raise TypeError(f"{pattern!r} can only be a whole pattern, not part of one")
    return pattern


def in_order(*items: PatternLike) -> Pattern:
    """These states in this order, any other states allowed before, between and after.

    >>> in_order("ErrImagePull", "ImagePullBackOff", never("Running"), "ErrImagePull")
    in_order('ErrImagePull', 'ImagePullBackOff', never('Running'), 'ErrImagePull')
    """
    return SequencePattern(tuple(_part(i) for i in items), strict=False)


def consecutive(*items: PatternLike) -> Pattern:
    """These states one right after the other (other states allowed before the first).

    >>> consecutive("ErrImagePull", "ImagePullBackOff")
    consecutive('ErrImagePull', 'ImagePullBackOff')
    """
    return SequencePattern(tuple(_part(i) for i in items), strict=True)


def at_least(n: int, item: PatternLike) -> Pattern:
    """`item` at least `n` times (apart in `in_order`, back to back in `consecutive`).

    >>> at_least(2, consecutive("ErrImagePull", "ImagePullBackOff"))
    at_least(2, consecutive('ErrImagePull', 'ImagePullBackOff'))
    """
    return RepeatPattern(_part(item), n, None)


def between(n: int, m: int, item: PatternLike) -> Pattern:
    """`item` from `n` to `m` times.

    The upper bound only bites where repetitions must be adjacent (in
    `consecutive`); in `in_order`, extra occurrences count as "other states".
    To cap how often a state occurs, use `at_most` or `exactly`.

    >>> between(1, 3, consecutive("ErrImagePull", "ImagePullBackOff"))
    between(1, 3, consecutive('ErrImagePull', 'ImagePullBackOff'))
    """
    return RepeatPattern(_part(item), n, m)


def optional(item: PatternLike) -> Pattern:
    """`item` zero or one time.

    >>> in_order("Pending", optional("ContainerCreating"), "Running")
    in_order('Pending', optional('ContainerCreating'), 'Running')
    """
    return RepeatPattern(_part(item), 0, 1)


def any_of(*items: PatternLike) -> Pattern:
    """One of several sub-patterns (for one of several *states*, `one_of` is simpler).

    >>> any_of(["Pending", "Running"], "Succeeded")
    any_of(in_order('Pending', 'Running'), 'Succeeded')
    """
    return ChoicePattern(tuple(_part(i) for i in items))


def never(item: Any) -> Pattern:
    """A state that must not occur in the span where this stands (alone: ever).

    Alone, the pattern can only pass when the observation window closes; it
    fails on the first occurrence.

    >>> never(one_of("Failed", "Unknown"))
    never(one_of('Failed', 'Unknown'))
    """
    return ConstraintPattern(_test(item), 0, 0)


def exactly(n: int, item: Any) -> Pattern:
    """A state that occurs exactly `n` times (as distinct states) in its span.

    It fails as soon as there is one too many, and passes only when its span
    ends (alone: when the window closes).

    >>> exactly(2, "ErrImagePull")
    exactly(2, 'ErrImagePull')
    """
    return ConstraintPattern(_test(item), n, n)


def at_most(n: int, item: Any) -> Pattern:
    """A state that occurs at most `n` times in its span.

    >>> in_order("Pending", at_most(1, "CrashLoopBackOff"), "Running")
    in_order('Pending', at_most(1, 'CrashLoopBackOff'), 'Running')
    """
    return ConstraintPattern(_test(item), 0, n)
