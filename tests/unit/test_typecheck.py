"""mypy rejects wrong argument types and unknown keywords anywhere in kwait's calling surface.

``tests/typecheck/bad_calls.py`` marks each line that must fail with ``# E: <code>``; this
runs mypy (strict, the project's configuration) on it and compares, line by line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]
BAD_CALLS = ROOT / "tests" / "typecheck" / "bad_calls.py"
MARK = re.compile(r"#\s*E:\s*(?P<codes>[a-z-]+(?:\s*,\s*[a-z-]+)*)\s*$")
ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


def expected_errors(source: str) -> dict[int, set[str]]:
    """The error codes each marked line must produce, by line number."""
    out: dict[int, set[str]] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = MARK.search(line)
        if match:
            out[number] = {c.strip() for c in match["codes"].split(",")}
    return out


def reported_errors(report: str) -> dict[int, set[str]]:
    """The error codes mypy reported, by line number (notes are ignored)."""
    out: dict[int, set[str]] = {}
    for line in report.splitlines():
        match = ERROR.match(line)
        if match:
            out.setdefault(int(match["line"]), set()).add(match["code"])
    return out


def test_mypy_flags_exactly_the_marked_bad_calls() -> None:
    """Every marked call is an error of the marked kind, and every unmarked call type-checks."""
    expected = expected_errors(BAD_CALLS.read_text(encoding="utf-8"))
    assert len(expected) >= 40  # the file covers the whole calling surface
    stdout, stderr, _ = mypy_api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--no-error-summary", str(BAD_CALLS)]
    )
    assert stderr == ""
    reported = reported_errors(stdout)
    missing = {n: codes for n, codes in expected.items() if not codes <= reported.get(n, set())}
    unexpected = {n: codes for n, codes in reported.items() if n not in expected}
    assert missing == {}, f"not flagged by mypy:\n{stdout}"
    assert unexpected == {}, f"flagged but not marked:\n{stdout}"


def test_the_comparison_sees_an_unflagged_bad_call() -> None:
    """A marked line mypy accepts, or an error on an unmarked line, is told apart."""
    source = "x = 1  # E: arg-type\ny = 2\n"
    report = "bad_calls.py:2: error: Name 'z' is not defined  [name-defined]\n"
    assert expected_errors(source) == {1: {"arg-type"}}
    assert reported_errors(report) == {2: {"name-defined"}}
