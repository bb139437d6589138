"""The pytest fixtures kwait installs give a working API server and client."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client as k8s

import kwait
from kwait.testing import FakeApiServer, pytest_plugin

pytest_plugins = ["pytester"]


def test_the_fixtures_give_a_server_the_official_client_and_kwait_use(
    kwait_api_server: FakeApiServer, kwait_api_client: Any
) -> None:
    """A pod created through the fixture's client is tracked until its kubelet makes it Ready."""
    assert kwait_api_client.configuration.host == kwait_api_server.url
    core = k8s.CoreV1Api(kwait_api_client)
    with kwait.track("pods", "web", namespace="default", api_client=kwait_api_client) as tracker:
        body = k8s.V1Pod(
            metadata=k8s.V1ObjectMeta(name="web"),
            spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="app", image="app:1")]),
        )
        core.create_namespaced_pod("default", body)
        [timeline] = tracker.wait_for("condition=Ready", timeout=10)
    assert timeline.identity.name == "web"


class _Options:
    """A pytest config that answers ``--kwait-fail-fast`` as given."""

    def __init__(self, *, fail_fast: bool) -> None:
        self.fail_fast = fail_fast
        # pytest_configure also registers the namespace report; a stand-in takes it.
        self.pluginmanager = SimpleNamespace(register=lambda *_args: None)

    def getoption(self, name: str, default: object = None) -> object:
        """Answer the one option the plugin reads."""
        return self.fail_fast if name == "--kwait-fail-fast" else default


def test_kwait_fail_fast_option_turns_fail_fast_on_for_the_run(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The option is registered (off here) and, when given, is every wait's default."""
    monkeypatch.delenv("KWAIT_FAIL_FAST", raising=False)
    assert request.config.getoption("--kwait-fail-fast") is False
    assert not kwait.signs.fail_fast_default()
    config: Any = _Options(fail_fast=True)
    pytest_plugin.pytest_configure(config)
    try:
        assert kwait.signs.fail_fast_default()
    finally:
        pytest_plugin.pytest_unconfigure(config)
    assert not kwait.signs.fail_fast_default()


# ---------------------------------------------------------------- kwait_namespace

_INNER_TESTS = """
import pathlib

import pytest
from kubernetes import client as k8s


def _note(name):
    with pathlib.Path("namespaces.txt").open("a") as f:
        f.write(name + "\\n")


def test_fails(kwait_namespace, kwait_cluster_api_client):
    _note(kwait_namespace)
    core = k8s.CoreV1Api(kwait_cluster_api_client)
    core.create_namespaced_config_map(
        kwait_namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="left"))
    )
    assert False, "the test fails"


def test_passes(kwait_namespace):
    _note(kwait_namespace)
"""

_INI = """
[pytest]
kwait_namespace_service_account = false
kwait_namespace_timeout = 10
"""


def _temporary(server: FakeApiServer) -> set[str]:
    return {
        o["metadata"]["name"]
        for o in server.objects("namespaces")
        if (o["metadata"].get("labels") or {}).get("kwait.dev/temporary") == "true"
    }


def _run_inner(
    pytester: pytest.Pytester, server: FakeApiServer, *args: str
) -> tuple[pytest.RunResult, list[str]]:
    pytester.makeini(_INI)
    pytester.makepyfile(test_inner=_INNER_TESTS)
    kubeconfig = server.write_kubeconfig(pytester.path / "kubeconfig.json")
    result = pytester.runpytest("-p", "no:cacheprovider", "--kubeconfig", str(kubeconfig), *args)
    names = (pytester.path / "namespaces.txt").read_text().split()
    return result, names


def test_kwait_namespace_is_deleted_even_when_the_test_fails(pytester: pytest.Pytester) -> None:
    """A failing test's namespace (and what it created there) is gone after the run."""
    with FakeApiServer(kubelet=False) as server:
        result, names = _run_inner(pytester, server)
        result.assert_outcomes(passed=1, failed=1)
        assert len(names) == 2
        assert len(set(names)) == 2
        assert all(n.startswith("kwait-main-test-") for n in names)
        assert _temporary(server) == set()
        assert server.objects("configmaps") == []
    assert "kwait namespaces" not in result.stdout.str()


def test_kwait_namespace_is_kept_on_failure_when_asked(pytester: pytest.Pytester) -> None:
    """With --kwait-keep-namespace-on-failure the failed test's namespace stays, and is listed."""
    with FakeApiServer(kubelet=False) as server:
        result, names = _run_inner(pytester, server, "--kwait-keep-namespace-on-failure")
        failed = next(n for n in names if "test-fails" in n)
        assert _temporary(server) == {failed}
        namespace = next(o for o in server.objects("namespaces") if o["metadata"]["name"] == failed)
        assert namespace["metadata"]["annotations"]["kwait.dev/test"] == "test_inner.py::test_fails"
        assert namespace["metadata"]["labels"]["kwait.dev/worker"] == "main"
    result.stdout.fnmatch_lines(
        [
            "*kwait namespaces*",
            f"kept (the test failed): {failed}",
            "remove them with: kubectl delete namespace -l kwait.dev/temporary=true",
        ]
    )


def test_a_namespace_that_cannot_be_removed_is_reported_at_the_end(
    pytester: pytest.Pytester,
) -> None:
    """When the API server refuses the DELETE, the session summary names the namespace and why."""
    with FakeApiServer(kubelet=False) as server:
        server.faults.fail_next(1, status=500, verb="DELETE", path="/namespaces/")
        result, names = _run_inner(pytester, server)
        assert len(_temporary(server)) == 1
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*kwait namespaces*", f"NOT REMOVED: {names[0]}: could not be deleted: *500*"]
    )


def test_the_fake_server_fixtures_take_a_scope(pytester: pytest.Pytester) -> None:
    """--kwait-fake-server-scope=module gives the tests of a module one server."""
    pytester.makepyfile(
        test_scope="""
        seen = []

        def test_one(kwait_api_server):
            seen.append(kwait_api_server)

        def test_two(kwait_api_server):
            seen.append(kwait_api_server)
            assert seen[0] is seen[1]
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--kwait-fake-server-scope=module")
    result.assert_outcomes(passed=2)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)


_FAILING_ON_THE_TEST_GROUND = """
import kwait
from kwait import states
from kubernetes import client as k8s


def test_crash_loop(kwait_namespace, kwait_cluster_api_client):
    pod = {
        "metadata": {
            "name": "crasher",
            "labels": {"kwait.dev/lifecycle": "crash-loop"},
            "annotations": {"kwait.dev/step-delay-ms": "0", "kwait.dev/backoff-ms": "0"},
        },
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }
    api = kwait_cluster_api_client
    with kwait.track("pods", "crasher", namespace=kwait_namespace, api_client=api) as tracker:
        k8s.CoreV1Api(api).create_namespaced_pod(kwait_namespace, pod)
        tracker.wait_for(states.restart_count().equals(2), timeout=30)
        tracker.wait_for(states.phase().equals("Succeeded"), timeout=0)
"""


def test_a_failing_test_gets_events_and_logs_as_report_sections(
    pytester: pytest.Pytester,
) -> None:
    """The pytest report of a failed expectation carries Events, namespace Events and logs."""
    pytester.makeini(_INI)
    pytester.makepyfile(test_ground=_FAILING_ON_THE_TEST_GROUND)
    with FakeApiServer() as server:
        kubeconfig = server.write_kubeconfig(pytester.path / "kubeconfig.json")
        result = pytester.runpytest("-p", "no:cacheprovider", "--kubeconfig", str(kubeconfig))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- kwait: Events of the objects involved -*",
            "pod/kwait-main-test-crash-loop-*/crasher (uid *): *Normal  Scheduled: *",
            "*Warning  BackOff: Back-off restarting failed container app in pod crasher_*",
            "*- kwait: container logs (last lines) -*",
            "--- pod/*/crasher (uid *) container app (current run)",
            "app: run 2 *",
            "--- pod/*/crasher (uid *) container app (previous run)",
            "app: run 1 exiting with code 1 (Error)",
            "*- kwait: Events in namespace kwait-main-test-crash-loop-* -*",
            "*Normal  pod/crasher  Started (x3): Started container app",
        ]
    )


def test_the_cluster_client_follows_kube_context_and_kubeconfig_at_fixture_time(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--kube-context picks a context; KUBECONFIG is read when the fixture runs, not earlier."""
    with FakeApiServer(kubelet=False) as server:
        config = server.kubeconfig_dict()
        other = json.loads(json.dumps(config))
        other["clusters"][0]["name"] = "elsewhere"
        other["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:9"
        other["contexts"][0]["name"] = "elsewhere"
        other["contexts"][0]["context"]["cluster"] = "elsewhere"
        config["clusters"].append(other["clusters"][0])
        config["contexts"].append(other["contexts"][0])
        config["current-context"] = "elsewhere"
        path = pytester.path / "kubeconfig.json"
        path.write_text(json.dumps(config))
        pytester.makepyfile(
            test_host=f"""
            def test_host(kwait_cluster_api_client):
                assert kwait_cluster_api_client.configuration.host == {server.url!r}
            """
        )
        context = config["contexts"][0]["name"]
        result = pytester.runpytest(
            "-p", "no:cacheprovider", "--kubeconfig", str(path), "--kube-context", context
        )
        result.assert_outcomes(passed=1)
        result = pytester.runpytest("-p", "no:cacheprovider", "--kubeconfig", str(path))
        result.assert_outcomes(failed=1)  # the current context points elsewhere
        second = str(server.write_kubeconfig(pytester.path / "k2.json"))
        pytester.makeconftest(
            f"""
            import os

            def pytest_configure(config):
                os.environ["KUBECONFIG"] = {second!r}
            """
        )
        monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
        result = pytester.runpytest("-p", "no:cacheprovider")
        result.assert_outcomes(passed=1)
