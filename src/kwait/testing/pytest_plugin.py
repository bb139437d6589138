"""pytest fixtures for kwait users: an in-process API server, or a real cluster with namespaces.

Installing kwait registers this plugin with pytest (the ``pytest11`` entry
point), so in any test suite:

- ``kwait_api_server`` is a started `kwait.testing.FakeApiServer` with its
  scripted kubelet, stopped (every thread joined) after the test (or the
  module, or the session: ``--kwait-fake-server-scope``);
- ``kwait_api_client`` is a ``kubernetes.client.ApiClient`` pointed at it;
- ``kwait_cluster_api_client`` (session) is an ApiClient for a real cluster,
  from ``--kubeconfig`` / ``--kube-context`` or ``KUBECONFIG``;
- ``kwait_namespace`` is a temporary namespace on that cluster (its name),
  unique per test and per pytest-xdist worker, deleted after the test;
- ``--kwait-fail-fast`` turns ``fail_fast`` on for every wait of the run (the
  same as ``KWAIT_FAIL_FAST=1``): waits stop at the first failure sign that
  cannot clear by itself (see `kwait.signs`).

::

    def test_pod_starts(kwait_api_client):
        with kwait.track("pods", "web", api_client=kwait_api_client) as tracker:
            create_pod(kwait_api_client, "web")
            tracker.wait_for("condition=Ready", timeout=10)

Where pytest-asyncio is installed, async fixtures come next to them (kwait
does not depend on pytest-asyncio):

- ``kwait_async_track`` is a factory: ``await kwait_async_track("pods", "web")``
  returns a started `kwait.asyncio.AsyncTracker` (on ``kwait_api_client`` unless
  ``api_client=`` says otherwise), stopped after the test;
- ``kwait_async_api_client`` is a kubernetes_asyncio ``ApiClient`` for
  ``kwait_api_server`` (the test is skipped where kubernetes_asyncio is not
  installed), closed after the test.

::

    @pytest.mark.asyncio
    async def test_pod_starts(kwait_async_track, kwait_api_client):
        tracker = await kwait_async_track("pods", "web")
        await asyncio.to_thread(create_pod, kwait_api_client, "web")
        await tracker.wait_for("condition=Ready", timeout=10)

When a test fails with a `kwait.ExpectationError`, the plugin draws the
report's timelines (`kwait.reports.to_svg`) and attaches the picture to the
test's report: inline in the HTML report when pytest-html is installed, else
as a file next to the JUnit XML (``--junitxml``), in a ``kwait-timelines``
folder, named after the test and listed as the ``kwait_timeline_svg``
property. ``--kwait-svg-dir DIR`` writes the pictures to DIR in any case.

The page "The pytest plugin" of the documentation describes every option.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kwait._match.signs import set_fail_fast_default
from kwait._verdict.failures import ExpectationError
from kwait.testing._namespace import TemporaryNamespace, namespace_name
from kwait.testing._server import FakeApiServer

if TYPE_CHECKING:
    from kwait.asyncio import AsyncTracker

__all__ = [
    "kwait_api_client",
    "kwait_api_server",
    "kwait_cluster_api_client",
    "kwait_namespace",
    "svg_path_for",
]
# The pytest hooks (pytest_addoption, pytest_configure, ...) are found by pytest by name;
# they are not part of the importable API.


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add kwait's options (each block adds its own group of options)."""
    _add_cluster_options(parser)
    _add_run_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register kwait's report hooks; apply ``--kwait-fail-fast`` to the process default."""
    _configure_cluster(config)
    if config.getoption("--kwait-fail-fast", default=False):
        set_fail_fast_default(True)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave the fail-fast default as it was before the run."""
    if config.getoption("--kwait-fail-fast", default=False):
        set_fail_fast_default(None)


# ====================================================================== fail fast, pictures


def _add_run_options(parser: pytest.Parser) -> None:
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


# ====================================================================== fake API server


def _fake_server_scope(fixture_name: str, config: pytest.Config) -> Any:
    """The scope of the fake-server fixtures: ``--kwait-fake-server-scope`` or the ini value."""
    del fixture_name
    scope = config.getoption("kwait_fake_server_scope", None) or config.getini(
        "kwait_fake_server_scope"
    )
    return scope or "function"


@pytest.fixture(scope=_fake_server_scope)
def kwait_api_server() -> Iterator[FakeApiServer]:
    """A started in-process API server (with its scripted kubelet), stopped after its scope."""
    with FakeApiServer() as server:
        yield server


@pytest.fixture(scope=_fake_server_scope)
def kwait_api_client(kwait_api_server: FakeApiServer) -> Iterator[Any]:
    """A ``kubernetes.client.ApiClient`` for `kwait_api_server`."""
    from kwait._watch.kube import api_client_from  # noqa: PLC0415 - the client loads on use

    client = api_client_from(kwait_api_server.kubeconfig_dict())
    try:
        yield client
    finally:
        client.close()


# ====================================================================== real cluster: namespaces

_KEPT = "kwait_namespace_kept"
_LEFT = "kwait_namespace_left"
_CALL_FAILED = pytest.StashKey[bool]()


def _add_cluster_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("kwait", "kwait: Kubernetes waits and test namespaces")
    group.addoption(
        "--kubeconfig",
        dest="kwait_kubeconfig",
        default=None,
        help="kubeconfig file of the cluster for kwait_cluster_api_client "
        "(default: $KUBECONFIG, then ~/.kube/config, then in-cluster)",
    )
    group.addoption(
        "--kube-context",
        dest="kwait_kube_context",
        default=None,
        help="kubeconfig context to use (default: the current context)",
    )
    group.addoption(
        "--kwait-keep-namespace-on-failure",
        dest="kwait_keep_namespace_on_failure",
        action="store_true",
        default=False,
        help="keep a failed test's kwait_namespace for inspection (listed at the end)",
    )
    group.addoption(
        "--kwait-namespace-timeout",
        dest="kwait_namespace_timeout",
        type=float,
        default=None,
        help="seconds to wait for a temporary namespace to be gone (default 120)",
    )
    group.addoption(
        "--kwait-fake-server-scope",
        dest="kwait_fake_server_scope",
        choices=("function", "class", "module", "package", "session"),
        default=None,
        help="scope of kwait_api_server and kwait_api_client (default: function)",
    )
    parser.addini(
        "kwait_fake_server_scope", "scope of kwait_api_server/kwait_api_client", default=""
    )
    parser.addini(
        "kwait_namespace_prefix", "prefix of kwait_namespace names (default kwait)", default=""
    )
    parser.addini(
        "kwait_namespace_service_account",
        "wait for the default service account of each kwait_namespace (default true; "
        "false for servers without controllers)",
        type="bool",
        default=True,
    )
    parser.addini(
        "kwait_namespace_timeout",
        "seconds to wait for a temporary namespace to be gone (default 120)",
        default="",
    )


def _configure_cluster(config: pytest.Config) -> None:
    config.pluginmanager.register(_NamespaceReport(), "kwait-namespace-report")


class _NamespaceReport:
    """Notes which tests failed, and lists the namespaces left behind at the end."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.left: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.failed and report.when in {"setup", "call"}:
            item.stash[_CALL_FAILED] = True
            try:
                report.sections.extend(_failure_sections(item, call))
            except Exception as error:  # noqa: BLE001 - collecting must never hide the failure
                report.sections.append(("kwait: collectors", f"could not collect: {error!r}"))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Under pytest-xdist this runs in the controller, with the workers' user_properties.
        if report.when != "teardown":
            return
        for key, value in report.user_properties:
            if key == _KEPT:
                self.kept.append(str(value))
            elif key == _LEFT:
                self.left.append(str(value))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not (self.kept or self.left):
            return
        terminalreporter.section("kwait namespaces")
        for line in self.kept:
            terminalreporter.write_line(f"kept (the test failed): {line}")
        for line in self.left:
            terminalreporter.write_line(f"NOT REMOVED: {line}")
        terminalreporter.write_line(
            f"remove them with: kubectl delete namespace -l {_namespace_label()}=true"
        )


def _failure_sections(item: pytest.Item, call: pytest.CallInfo[None]) -> list[tuple[str, str]]:
    """Collect what explains a failure, as pytest report sections.

    The Events and container logs of the objects a kwait expectation concerned,
    and every Event of the test's kwait_namespace.
    """
    sections: list[tuple[str, str]] = []
    error = call.excinfo.value if call.excinfo is not None else None
    report = getattr(error, "report", None)
    events: list[str] = []
    logs: list[str] = []
    for obj in getattr(report, "objects", ()):
        events.extend(
            f"{obj.identity}: {e.time or '-'}  {e.type or '-'}  {e.reason or '-'}"
            f"{f' (x{e.count})' if e.count > 1 else ''}: {e.message}"
            for e in obj.events
        )
        for log in obj.logs:
            run = "previous run" if log.get("previous") else "current run"
            logs.append(f"--- {obj.identity} container {log.get('container')} ({run})")
            logs.append(str(log.get("text") or "").rstrip("\n"))
    if events:
        sections.append(("kwait: Events of the objects involved", "\n".join(events)))
    if logs:
        sections.append(("kwait: container logs (last lines)", "\n".join(logs)))
    funcargs = getattr(item, "funcargs", {})
    namespace = funcargs.get("kwait_namespace")
    client = funcargs.get("kwait_cluster_api_client")
    if isinstance(namespace, str) and client is not None:
        from kwait._verdict.report import EventRow  # noqa: PLC0415 - keeps this block apart
        from kwait._watch.kube import KubeHttp, namespace_events  # noqa: PLC0415

        rows = sorted(
            ((EventRow.of(e), e) for e in namespace_events(KubeHttp(client), namespace)),
            key=lambda pair: pair[0].time,
        )
        lines = []
        for e, raw in rows:
            involved = raw.get("involvedObject") or {}
            who = f"{str(involved.get('kind') or '').lower()}/{involved.get('name') or ''}"
            count = f" (x{e.count})" if e.count > 1 else ""
            lines.append(
                f"{e.time or '-'}  {e.type or '-'}  {who}  {e.reason or '-'}{count}: {e.message}"
            )
        text = "\n".join(lines)
        sections.append((f"kwait: Events in namespace {namespace}", text or "(none)"))
    return sections


def _namespace_label() -> str:
    from kwait.testing._namespace import NAMESPACE_LABEL  # noqa: PLC0415 - keeps this block apart

    return NAMESPACE_LABEL


@pytest.fixture(scope="session")
def kwait_cluster_api_client(pytestconfig: pytest.Config) -> Iterator[Any]:
    """A ``kubernetes.client.ApiClient`` for the cluster the tests run on (session-wide).

    The configuration comes from ``--kubeconfig`` (else ``KUBECONFIG`` as it
    is when the fixture runs, else ``~/.kube/config``, else the in-cluster
    service account), with ``--kube-context`` picking a context. Override this
    fixture in a ``conftest.py`` to hand kwait a client of your own.
    """
    from kwait._watch.kube import api_client_for  # noqa: PLC0415 - the client loads on use

    client = api_client_for(
        pytestconfig.getoption("kwait_kubeconfig") or os.environ.get("KUBECONFIG") or None,
        context=pytestconfig.getoption("kwait_kube_context"),
    )
    try:
        yield client
    finally:
        client.close()


def _worker_id(config: pytest.Config) -> str:
    # pytest-xdist gives each worker's config its id; the environment variable would leak
    # into pytest runs nested in a worker (pytester).
    workerinput = getattr(config, "workerinput", None) or {}
    return str(workerinput.get("workerid", "main"))


@pytest.fixture
def kwait_namespace(request: pytest.FixtureRequest, kwait_cluster_api_client: Any) -> Iterator[str]:
    """A temporary namespace for this test (its name), deleted afterwards.

    The name is ``<prefix>-<xdist worker>-<test name>-<random>`` (valid and
    unique across parallel workers). It carries the labels
    ``kwait.dev/temporary=true`` and ``kwait.dev/worker=<worker>`` and the
    test's node id as the annotation ``kwait.dev/test``. Once its default
    service account exists (pods are refused before), the test runs; then the
    namespace is deleted, even when the test failed, and the fixture waits
    until it is gone (``--kwait-namespace-timeout``, 120 s by default). With
    ``--kwait-keep-namespace-on-failure`` a failed test's namespace stays.
    Namespaces kept or not removed are listed at the end of the session.
    """
    config = request.config
    prefix = config.getini("kwait_namespace_prefix") or "kwait"
    timeout = config.getoption("kwait_namespace_timeout") or float(
        config.getini("kwait_namespace_timeout") or 120.0
    )
    worker = _worker_id(config)
    namespace = TemporaryNamespace(
        kwait_cluster_api_client,
        namespace_name(prefix, worker, request.node.name),
        labels={"kwait.dev/worker": worker},
        annotations={"kwait.dev/test": request.node.nodeid},
        timeout=timeout,
        wait_for_service_account=bool(config.getini("kwait_namespace_service_account")),
    )
    namespace.create()
    try:
        yield namespace.name
    finally:
        failed = request.node.stash.get(_CALL_FAILED, False)
        if failed and config.getoption("kwait_keep_namespace_on_failure"):
            request.node.user_properties.append((_KEPT, namespace.name))
        else:
            problem = namespace.delete()
            if problem is not None:
                request.node.user_properties.append((_LEFT, f"{namespace.name}: {problem}"))


# ====================================================================== async fixtures

AsyncTrack = Callable[..., Awaitable["AsyncTracker"]]
"""The type of the ``kwait_async_track`` fixture: ``await track(resource, name, **options)``."""


_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _pytest_asyncio_fixture() -> _Decorator | None:
    """pytest-asyncio's fixture decorator, or None where it is not installed."""
    try:
        module = importlib.import_module("pytest_asyncio")
    except ImportError:
        return None
    fixture: _Decorator = module.fixture
    return fixture


_async_fixture = _pytest_asyncio_fixture()

if _async_fixture is not None:
    __all__ += ["kwait_async_api_client", "kwait_async_track"]

    @_async_fixture
    async def kwait_async_track(kwait_api_client: Any) -> AsyncIterator[AsyncTrack]:
        """Start async trackers for the test, and stop them after it.

        Takes the arguments of `kwait.Tracker`; ``api_client`` defaults to
        ``kwait_api_client``: ``tracker = await kwait_async_track("pods", "web")``.
        """
        from kwait.asyncio import AsyncTracker  # noqa: PLC0415 - only for async suites

        started: list[AsyncTracker] = []

        async def track(
            resource: str | Mapping[str, Any] | None = None,
            name: str | None = None,
            **options: Any,
        ) -> AsyncTracker:
            options.setdefault("api_client", kwait_api_client)
            tracker = AsyncTracker(resource, name, **options)
            await tracker.start()
            started.append(tracker)
            return tracker

        try:
            yield track
        finally:
            for tracker in reversed(started):
                await tracker.stop()

    @_async_fixture
    async def kwait_async_api_client(kwait_api_server: FakeApiServer) -> AsyncIterator[Any]:
        """A kubernetes_asyncio ``ApiClient`` for `kwait_api_server` (skips without the package)."""
        config = pytest.importorskip("kubernetes_asyncio.config")
        client = await config.new_client_from_config_dict(kwait_api_server.kubeconfig_dict())
        try:
            yield client
        finally:
            await client.close()
