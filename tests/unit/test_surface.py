"""The public surface: where each name lives, what its signatures mention, and its examples.

In the style of trio's ``test_exports.py``: every public name is exported from exactly one
public module, no private type leaks into a public signature, and every public class and
function carries an example that runs.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import sys
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import kwait

PUBLIC_MODULES = [
    "kwait",
    "kwait.asyncio",
    "kwait.compare",
    "kwait.errors",
    "kwait.matchers",
    "kwait.reports",
    "kwait.retry",
    "kwait.signs",
    "kwait.states",
    "kwait.testing",
    "kwait.typing",
    "kwait.watch",
]


def exports() -> Iterator[tuple[str, str, object]]:
    """Yield (module, name, object) for every name in a public module's ``__all__``."""
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            yield module_name, name, getattr(module, name)


def is_private(module: str) -> bool:
    """Whether a dotted module name is private (has a ``_``-prefixed part)."""
    return any(part.startswith("_") for part in module.split(".") if part != "__main__")


def exported_ids() -> dict[int, list[str]]:
    """Map each exported object's id to the public places (``module.name``) exporting it."""
    places: dict[int, list[str]] = {}
    for module, name, obj in exports():
        if isinstance(obj, (str, int, float, bool)):  # interned values are not "the same name"
            continue
        places.setdefault(id(obj), []).append(f"{module}.{name}")
    return places


def documented() -> list[tuple[str, object]]:
    """Every exported class and function, by its public place."""
    return [
        (f"{module}.{name}", obj)
        for module, name, obj in exports()
        if inspect.isclass(obj) or inspect.isfunction(obj)
    ]


def _id(value: object) -> str:
    """Name a parametrized case by its public place only."""
    return value if isinstance(value, str) else "-"


# ------------------------------------------------------------------ where names live


def test_every_public_name_has_one_public_home() -> None:
    """No object is exported from two public modules: one name, one place to import it."""
    doubles = [places for places in exported_ids().values() if len(places) > 1]
    assert doubles == []


def test_the_home_check_sees_a_name_exported_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exporting a testing double from the top level too is reported as two homes."""
    from kwait.testing import FakeClock  # noqa: PLC0415 - the double being re-exported

    monkeypatch.setattr(kwait, "FakeClock", FakeClock, raising=False)
    monkeypatch.setattr(kwait, "__all__", [*kwait.__all__, "FakeClock"])
    doubles = [places for places in exported_ids().values() if len(places) > 1]
    assert doubles == [["kwait.FakeClock", "kwait.testing.FakeClock"]]


def test_fake_clock_lives_only_in_testing() -> None:
    """`FakeClock` is a test double: `kwait.testing` exports it, the top level does not."""
    homes = [f"{m}.{n}" for m, n, _ in exports() if n == "FakeClock"]
    assert homes == ["kwait.testing.FakeClock"]
    assert not hasattr(kwait, "FakeClock")


def test_the_top_level_stays_small() -> None:
    """The top level holds the everyday names only: at most 50 of them."""
    assert len(kwait.__all__) <= 50
    assert sorted(kwait.__all__) == kwait.__all__


@pytest.mark.parametrize(("place", "obj"), documented(), ids=_id)
def test_objects_name_their_public_module(place: str, obj: object) -> None:
    """Reprs, docs and pickles show where users import an object from, not a private module."""
    module = place.rsplit(".", 1)[0]
    assert getattr(obj, "__module__", None) == module


@pytest.mark.parametrize("name", [*PUBLIC_MODULES, "kwait.testing.pytest_plugin"])
def test_public_modules_have_docstrings(name: str) -> None:
    """Each public module says what it is for."""
    doc = importlib.import_module(name).__doc__
    assert doc
    assert doc.strip()


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_lists_only_what_exists(name: str) -> None:
    """Every name in ``__all__`` is importable, with no duplicates."""
    module = importlib.import_module(name)
    assert len(set(module.__all__)) == len(module.__all__)
    for item in module.__all__:
        assert hasattr(module, item), item


# ------------------------------------------------------------------ signatures


def public_callables() -> Iterator[tuple[str, Callable[..., object]]]:
    """Every public function, and every public method and property of public classes."""
    for place, obj in documented():
        if inspect.isfunction(obj):
            yield place, obj
            continue
        assert isinstance(obj, type)
        for attr, member in vars(obj).items():
            if attr.startswith("_") and attr != "__init__":
                continue
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__  # noqa: PLW2901
            elif isinstance(member, property) and member.fget is not None:
                member = member.fget  # noqa: PLW2901
            if inspect.isfunction(member):
                yield f"{place}.{attr}", member
        yield place, obj  # the class's own annotations (dataclass fields, attributes)


def classes_in(hint: object) -> Iterator[type]:
    """Every class a type hint refers to, at any depth."""
    if isinstance(hint, type) and typing.get_origin(hint) is None:
        yield hint
    origin = typing.get_origin(hint)
    if isinstance(origin, type):
        yield origin
    if origin is typing.Literal:
        return
    for arg in typing.get_args(hint):
        if isinstance(arg, list):
            for item in arg:
                yield from classes_in(item)
        else:
            yield from classes_in(arg)


def home_globals(obj: object) -> dict[str, Any]:
    """The namespace `obj` was defined in (a published class's ``__module__`` is public)."""
    if inspect.isfunction(obj):
        return obj.__globals__
    for member in vars(obj).values():
        func = getattr(member, "__func__", None) or getattr(member, "fget", None) or member
        if inspect.isfunction(func) and func.__qualname__.startswith(obj.__qualname__ + "."):  # type: ignore[attr-defined]
            return func.__globals__
    return vars(sys.modules[obj.__module__])


def type_hints(obj: Callable[..., object]) -> dict[str, object]:
    """The evaluated annotations of a function, or of a class and its kwait bases."""
    if inspect.isfunction(obj):
        return typing.get_type_hints(obj)
    hints: dict[str, object] = {}
    for base in reversed(obj.__mro__):  # type: ignore[attr-defined]
        if not base.__module__.startswith("kwait"):
            continue
        own = {k: v for k, v in vars(base).get("__annotations__", {}).items() if k[0] != "_"}
        namespace = home_globals(base)
        for key, value in own.items():
            hints[key] = eval(value, namespace) if isinstance(value, str) else value  # noqa: S307
    return hints


# Plumbing handed out for hooks that need the fake server's private storage: users get the
# kubelet as ``server.kubelet`` and never build one, and ``server.store`` is documented as
# "direct access" to internals. Everything else must name only public types.
PLUMBING = {"kwait.testing.FakeApiServer.store", "kwait.testing.FakeKubelet.__init__"}


def leaks(place: str, obj: Callable[..., object]) -> list[str]:
    """The private or unreachable kwait classes that `obj`'s annotations mention."""
    public = {id(o) for _, _, o in exports()}
    hints = type_hints(obj)
    out = []
    for where, hint in hints.items():
        for cls in classes_in(hint):
            module = cls.__module__
            if not module.startswith("kwait"):
                continue
            if is_private(module) or id(cls) not in public:
                out.append(f"{place} ({where}): {module}.{cls.__qualname__}")
    return out


@pytest.mark.parametrize(("place", "obj"), list(public_callables()), ids=_id)
def test_no_private_type_in_a_public_signature(place: str, obj: Callable[..., object]) -> None:
    """A user can import every kwait type a public signature mentions, from a public module."""
    if place in PLUMBING:
        assert leaks(place, obj) != [], f"{place} no longer leaks: drop it from PLUMBING"
    else:
        assert leaks(place, obj) == []


def test_the_leak_check_sees_a_private_type() -> None:
    """A signature naming a class that no public module exports is reported."""

    class Hidden:
        __module__ = "kwait._tracker"

    def api(x: list[Hidden] | None) -> kwait.Tracker: ...  # type: ignore[empty-body]

    api.__annotations__["x"] = list[Hidden] | None
    assert leaks("api", api) == [
        "api (x): kwait._tracker.test_the_leak_check_sees_a_private_type.<locals>.Hidden"
    ]


# ------------------------------------------------------------------ examples


@pytest.mark.parametrize(("place", "obj"), documented(), ids=_id)
def test_every_public_object_has_a_running_example(place: str, obj: object) -> None:
    """Each public class and function shows a ``>>>`` example in its docstring, and it passes."""
    tests = doctest.DocTestFinder(recurse=False).find(obj, place)
    examples = [t for t in tests if t.examples]
    assert examples, f"{place} has no >>> example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    home = home_globals(obj)
    for test in examples:
        test.globs = dict(home)
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
