"""The package's import structure: the layer contracts hold and no kwait module imports in a cycle.

The contracts live in pyproject.toml (``[tool.importlinter]``) and ``.ci/run`` checks them
with ``lint-imports``; these tests run them too and show they catch what they are meant to.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

import kwait

SRC = Path(kwait.__file__).parent
PYPROJECT = SRC.parent.parent / "pyproject.toml"


def import_graph(package: str) -> dict[str, set[str]]:
    """Return, for each module of `package`, the modules of `package` it imports (at any depth)."""
    graph = grimp.build_graph(package, cache_dir=None)
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def reachable(graph: Mapping[str, Iterable[str]], start: str) -> set[str]:
    """Return every module that `start` imports, directly or through other modules."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Return every import cycle in `graph` as a sorted list of the modules that form it."""
    reach = {node: reachable(graph, node) for node in graph}
    found: set[tuple[str, ...]] = set()
    for node in graph:
        if node in reach[node]:
            found.add(tuple(sorted(m for m in reach[node] if node in reach[m])))
    return sorted(list(c) for c in found)


def test_kwait_has_no_import_cycle() -> None:
    """No kwait module imports itself back, through any chain, even from inside a function."""
    graph = import_graph("kwait")
    assert "kwait._watch.kube" in graph["kwait._demo"]  # function-level imports are seen
    assert cycles(graph) == []


def test_a_planted_cycle_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cycle closed by an import inside a function is reported, with every module in it."""
    pkg = tmp_path / "plantedcycle"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f() -> None:\n    from plantedcycle import high\n")
    (pkg / "mid.py").write_text("from plantedcycle import low\n")
    (pkg / "high.py").write_text("import plantedcycle.mid\n")
    (pkg / "side.py").write_text("from plantedcycle import high\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = cycles(import_graph("plantedcycle"))
    assert found == [["plantedcycle.high", "plantedcycle.low", "plantedcycle.mid"]]


def test_the_contracts_hold() -> None:
    """Every import-linter contract in pyproject.toml is kept by the package as it is."""
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True) == 0


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("_watch/timeline.py", "import time\n", "Only the clock reads time BROKEN"),
        (
            "_match/nfa.py",
            "def f() -> None:\n    import kubernetes.watch\n",
            "Only the adapter talks to the Kubernetes client BROKEN",
        ),
        (
            "_match/pattern.py",
            "def f() -> None:\n    from kwait import _tracker\n",
            "Private layers import only downwards BROKEN",
        ),
        ("_watch/engine.py", "import kwait.retry\n", "Private layers never import the public"),
    ],
)
def test_the_contracts_catch_a_violation(
    tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    """A copy of the package with one bad import (even inside a function) breaks its contract."""
    copy = tmp_path / "kwait"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / module).open("a", encoding="utf-8") as f:
        f.write("\n" + planted)
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-c",
            (
                "import sys; from importlinter.cli import lint_imports;"
                "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))"
            ),
            str(PYPROJECT),
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
    assert result.stdout.count("BROKEN") == 1, result.stdout


TESTS = Path(__file__).resolve().parents[1]


def private_imports(source: str) -> list[str]:
    """The private kwait modules (``kwait._x``, ``kwait.testing._x``) that `source` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            # `python -m kwait` is the public command line, so `kwait.__main__` is public.
            if parts[0] == "kwait" and any(
                p.startswith("_") and p != "__main__" for p in parts[1:]
            ):
                found.append(name)
    return found


def undeclared_internal_tests(root: Path) -> list[str]:
    """Test modules that import private kwait modules without saying they test internals."""
    out = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        private = private_imports(source)
        doc = ast.get_docstring(ast.parse(source)) or ""
        if private and "Tests of internals:" not in doc:
            out.append(f"{path.relative_to(root)}: {min(private)}")
    return out


def test_tests_of_internals_say_so() -> None:
    """A test that imports a private module says so up front; the rest use public names only."""
    assert undeclared_internal_tests(TESTS) == []


def test_the_internals_check_sees_a_private_import(tmp_path: Path) -> None:
    """A test module importing ``kwait._...`` without the note is reported; with it, it is not."""
    (tmp_path / "test_a.py").write_text('"""Behaviour."""\nfrom kwait._errors import KwaitError\n')
    (tmp_path / "test_b.py").write_text('"""Tests of internals: x."""\nimport kwait._time.clock\n')
    (tmp_path / "test_c.py").write_text('"""CLI."""\nfrom kwait.__main__ import main\n')
    (tmp_path / "test_d.py").write_text('"""Fake."""\nfrom kwait.testing import _server\n')
    assert undeclared_internal_tests(tmp_path) == [
        "test_a.py: kwait._errors",
        "test_d.py: kwait.testing._server",
    ]
