"""pytest fixtures for kwait users: an in-process Kubernetes API server per test.

Installing kwait registers this plugin with pytest (the ``pytest11`` entry
point), so in any test suite:

- ``kwait_api_server`` is a started `kwait.testing.FakeApiServer` with its
  scripted kubelet, stopped (every thread joined) after the test;
- ``kwait_api_client`` is a ``kubernetes.client.ApiClient`` pointed at it;
- ``--kwait-fail-fast`` turns ``fail_fast`` on for every wait of the run (the
  same as ``KWAIT_FAIL_FAST=1``): waits stop at the first failure sign that
  cannot clear by itself (see `kwait.signs`).

::

    def test_pod_starts(kwait_api_client):
        with kwait.track("pods", "web", api_client=kwait_api_client) as tracker:
            create_pod(kwait_api_client, "web")
            tracker.wait_for("condition=Ready", timeout=10)

When a test fails with a `kwait.ExpectationError`, the plugin draws the
report's timelines (`kwait.reports.to_svg`) and attaches the picture to the
test's report: inline in the HTML report when pytest-html is installed, else
as a file next to the JUnit XML (``--junitxml``), in a ``kwait-timelines``
folder, named after the test and listed as the ``kwait_timeline_svg``
property. ``--kwait-svg-dir DIR`` writes the pictures to DIR in any case.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kwait._match.signs import set_fail_fast_default
from kwait._verdict.failures import ExpectationError
from kwait.testing._server import FakeApiServer

__all__ = [
    "kwait_api_client",
    "kwait_api_server",
    "svg_path_for",
]
# The pytest hooks (pytest_addoption, pytest_configure, ...) are found by pytest by name;
# they are not part of the importable API.


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--kwait-fail-fast`` and ``--kwait-svg-dir``."""
    group = parser.getgroup("kwait")
    group.addoption(
        "--kwait-fail-fast",
        action="store_true",
        default=False,
        help="stop every kwait wait at the first failure sign that cannot clear by itself "
        "(job Failed, pod Failed, InvalidImageName ...); same as KWAIT_FAIL_FAST=1",
    )
    group.addoption(
        "--kwait-svg-dir",
        default=None,
        help="write a timeline picture (SVG) of each failed kwait expectation to this folder",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Apply ``--kwait-fail-fast`` to the process default."""
    if config.getoption("--kwait-fail-fast", default=False):
        set_fail_fast_default(True)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave the process default as it was before the run."""
    if config.getoption("--kwait-fail-fast", default=False):
        set_fail_fast_default(None)


def svg_path_for(config: pytest.Config, nodeid: str) -> Path | None:
    """Where the picture of a failed test goes, or None when there is nowhere to put it.

    >>> from types import SimpleNamespace
    >>> config = SimpleNamespace(getoption=lambda name, default=None: None,
    ...                          option=SimpleNamespace(xmlpath="out/junit.xml"))
    >>> svg_path_for(config, "tests/test_x.py::test_y[a/b]").as_posix()
    'out/kwait-timelines/tests_test_x.py_test_y_a_b_.svg'
    """
    folder = config.getoption("kwait_svg_dir", None)
    if folder:
        base = Path(folder)
    else:
        xmlpath = getattr(config.option, "xmlpath", None)
        if not xmlpath:
            return None
        base = Path(xmlpath).parent / "kwait-timelines"
    return base / (re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid) + ".svg")


def _html_extras(config: pytest.Config) -> Any:
    """pytest-html's ``extras`` module when its plugin is active, else None."""
    if config.pluginmanager.getplugin("html") is None:
        return None
    try:
        return importlib.import_module("pytest_html.extras")
    except ImportError:  # pragma: no cover - a plugin called "html" that is not pytest-html
        return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Attach a picture of the timelines to the report of a failed kwait expectation."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    excinfo = call.excinfo
    if excinfo is None or not isinstance(excinfo.value, ExpectationError):
        return
    failure = excinfo.value.report
    if not failure.objects:
        return
    from kwait._verdict.svg import to_svg  # noqa: PLC0415 - only drawn on failure

    picture = to_svg(failure)
    config = item.config
    extras_module = _html_extras(config)
    if extras_module is not None:
        extras = list(getattr(report, "extras", []))
        extras.append(extras_module.html(f'<div class="kwait-timeline">{picture}</div>'))
        report.extras = extras  # type: ignore[attr-defined]
    path = svg_path_for(config, item.nodeid)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(picture, encoding="utf-8")
    item.user_properties.append(("kwait_timeline_svg", str(path)))  # JUnit XML reads these
    report.sections.append(("kwait timeline picture", str(path)))


@pytest.fixture
def kwait_api_server() -> Iterator[FakeApiServer]:
    """A started in-process API server (with its scripted kubelet), stopped after the test."""
    with FakeApiServer() as server:
        yield server


@pytest.fixture
def kwait_api_client(kwait_api_server: FakeApiServer) -> Iterator[Any]:
    """A ``kubernetes.client.ApiClient`` for `kwait_api_server`."""
    from kwait._watch.kube import api_client_from  # noqa: PLC0415 - the client loads on use

    client = api_client_from(kwait_api_server.kubeconfig_dict())
    try:
        yield client
    finally:
        client.close()
