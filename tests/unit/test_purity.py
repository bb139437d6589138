"""The core stays pure: only the clock touches `time`, only the adapter touches the client.

Only the asyncio face (kwait.asyncio and the two modules under it) imports `asyncio`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kwait

SRC = Path(kwait.__file__).parent

# module prefix -> the only kwait modules allowed to import it
RULES: dict[str, frozenset[str]] = {
    "time": frozenset({"kwait._time.clock"}),
    "kubernetes": frozenset({"kwait._watch.kube"}),
    "urllib3": frozenset({"kwait._watch.kube"}),
    # The asyncio face is its own modules: sync users never import the event loop machinery.
    "asyncio": frozenset({"kwait._time.aio", "kwait._verdict.aio", "kwait.asyncio"}),
}


def module_name(root: Path, path: Path) -> str:
    """Return the dotted module name of `path` inside the package at `root`."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Return every absolute module name that `path` imports, at any depth."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def violations(root: Path) -> list[str]:
    """List the imports under `root` that break `RULES`, as readable lines."""
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(root, path)
        for imported in sorted(imported_modules(path)):
            for banned, allowed in RULES.items():
                if (imported == banned or imported.startswith(banned + ".")) and (
                    name not in allowed
                ):
                    out.append(f"{name} imports {imported} (only {sorted(allowed)} may)")
    return out


def test_package_respects_import_rules() -> None:
    """No kwait module outside the clock imports time, none outside the adapter the client."""
    assert violations(SRC) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import time\n", "kwait._watch.timeline imports time"),
        ("from time import monotonic\n", "kwait._watch.timeline imports time"),
        (
            "def f():\n    import kubernetes.watch\n",
            "kwait._watch.timeline imports kubernetes.watch",
        ),
        ("from urllib3 import PoolManager\n", "kwait._watch.timeline imports urllib3"),
    ],
)
def test_checker_catches_a_violation(tmp_path: Path, source: str, expected: str) -> None:
    """The check fails when a core module imports what it must not, even inside a function."""
    pkg = tmp_path / "kwait"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for sub in ("_time", "_watch"):
        (pkg / sub).mkdir()
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "_time" / "clock.py").write_text("import time\n")
    (pkg / "_watch" / "timeline.py").write_text(source)
    found = violations(pkg)
    assert len(found) == 1
    assert found[0].startswith(expected)
