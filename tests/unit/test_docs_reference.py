"""The reference pages document every public name, each on its own module's page.

A name is public when it is in the ``__all__`` of a public module (one with no
underscore-led part in its dotted name). The reference has one page per public
module, ``docs/reference/<module>.md`` (``kwait.md`` for the top level); a
public module inside a package (``kwait.testing.pytest_plugin``) is documented on
its package's page. Names are documented with explicit autodoc directives
(``.. autofunction:: kwait.states.phase``), which the ``-W`` docs build checks
resolve; this test checks the lists are complete and hold no stale names.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import kwait

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference"

_DIRECTIVE = re.compile(
    r"""^\s*(?:\.\.\s+auto(?:function|class|exception|data|attribute|decorator)::
            |```\{auto(?:function|class|exception|data|attribute|decorator)\})
        \s+(?P<name>\S+)""",
    re.MULTILINE | re.VERBOSE,
)


def public_modules() -> list[str]:
    """Every importable kwait module whose dotted name has no underscore-led part."""
    walked = [info.name for info in pkgutil.walk_packages(kwait.__path__, prefix="kwait.")]
    found = ["kwait", *(n for n in walked if not any(p.startswith("_") for p in n.split(".")))]
    return sorted(found)


def page_for(module: str) -> Path:
    """The reference page that documents `module`."""
    parts = module.split(".")
    return REFERENCE / (f"{parts[1]}.md" if len(parts) > 1 else "kwait.md")


def documented(page: Path) -> list[str]:
    """The dotted names the page's autodoc directives document, in order."""
    return [match["name"] for match in _DIRECTIVE.finditer(page.read_text(encoding="utf-8"))]


def exported(module: ModuleType) -> set[str]:
    """The dotted public names of `module`."""
    names: list[str] = list(getattr(module, "__all__", ()))
    return {f"{module.__name__}.{name}" for name in names}


def test_the_public_modules_are_found() -> None:
    """The walk sees the modules users import, and not the private layers."""
    modules = public_modules()
    assert {"kwait", "kwait.states", "kwait.testing", "kwait.testing.pytest_plugin"} <= set(modules)
    assert not [m for m in modules if "._" in m]


@pytest.mark.parametrize("module_name", public_modules())
def test_every_public_name_is_on_its_module_page(module_name: str) -> None:
    """Each name in a public module's ``__all__`` has a directive on that module's page."""
    module = importlib.import_module(module_name)
    assert getattr(module, "__all__", None), f"{module_name} declares no __all__"
    page = page_for(module_name)
    assert page.exists(), f"{module_name} has no reference page ({page.name})"
    missing = sorted(exported(module) - set(documented(page)))
    assert not missing, f"{page.name} does not document: {', '.join(missing)}"


def test_every_documented_name_is_public_and_documented_once() -> None:
    """No page documents a stale, private or misplaced name, or one name twice."""
    public = {
        name: module
        for module in public_modules()
        for name in exported(importlib.import_module(module))
    }
    pages = sorted(p for p in REFERENCE.glob("*.md") if p.name != "index.md")
    assert pages
    seen: list[str] = []
    for page in pages:
        for name in documented(page):
            assert name in public, f"{page.name} documents {name}, which is not public"
            assert page_for(public[name]) == page, (
                f"{name} belongs on {page_for(public[name]).name}"
            )
            seen.append(name)
    assert len(seen) == len(set(seen)), "a name is documented twice"
    assert set(seen) == set(public)


def test_every_reference_page_is_a_public_module() -> None:
    """A page for a module that no longer exists is caught too."""
    pages = {p.name for p in REFERENCE.glob("*.md")} - {"index.md"}
    assert pages == {page_for(module).name for module in public_modules()}
