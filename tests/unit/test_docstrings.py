"""Every `>>>` example in kwait's docstrings runs and shows what it claims."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import kwait

PUBLISHED = {
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
}


class _Finder(doctest.DocTestFinder):
    """Find examples of objects re-exported under a public module name in their home module."""

    def _from_module(self, module: ModuleType | None, obj: object) -> bool:
        if getattr(obj, "__module__", None) in PUBLISHED and module is not None:
            return _home_file(obj) == module.__file__
        return bool(super()._from_module(module, obj))  # type: ignore[misc]


def _home_file(obj: object) -> str | None:
    """The file that defines `obj` (for a class, the file of its methods' code)."""
    if inspect.isclass(obj):
        for member in vars(obj).values():
            code = getattr(member, "__code__", None) or getattr(
                getattr(member, "fget", None), "__code__", None
            )
            if code is not None:
                return str(code.co_filename)
        return None
    code = getattr(obj, "__code__", None)
    return str(code.co_filename) if code is not None else None


def _modules() -> list[str]:
    names = [kwait.__name__]
    names += [m.name for m in pkgutil.walk_packages(kwait.__path__, prefix="kwait.")]
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    """The module's docstring examples (including re-exported objects') all pass."""
    module = importlib.import_module(name)
    finder = _Finder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    for test in finder.find(module, name, globs=dict(vars(module))):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_finder_sees_re_exported_examples() -> None:
    """Examples of published objects are found in their home module, not skipped."""
    module = importlib.import_module("kwait._watch.resources")
    names = {t.name for t in _Finder(exclude_empty=True).find(module, module.__name__)}
    assert "kwait._watch.resources.resolve_resource" in names
