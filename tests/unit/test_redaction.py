"""Secrets stay out of failures: env values and Secret data never appear in what kwait prints.

Each wait checks once (``timeout=0``): the failure, and its report, come at once.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as _k8s
from kubernetes import config as _k8s_config

import kwait
from kwait.testing import FakeApiServer, FakeClock

k8s: Any = _k8s
k8s_config: Any = _k8s_config

ENV_VALUE = "env-s3cr3t-4f9a"
SECRET_VALUE = "hunter2-db-password"  # noqa: S105 - a test value that must not leak
ENCODED = base64.b64encode(SECRET_VALUE.encode()).decode()


@pytest.fixture
def api() -> Iterator[Any]:
    """A client for a fake API server (no kubelet) holding a pod with an env value and a Secret."""
    with FakeApiServer(clock=FakeClock(), kubelet=False, bookmarks=False, seed=3) as server:
        client = k8s_config.new_client_from_config_dict(server.kubeconfig_dict())
        core = k8s.CoreV1Api(client)
        env = [{"name": "DB_PASSWORD", "value": ENV_VALUE}]
        pod = {
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "app", "image": "nginx", "env": env}]},
        }
        core.create_namespaced_pod("default", pod)
        secret = {"metadata": {"name": "db"}, "data": {"password": ENCODED}}
        core.create_namespaced_secret("default", secret)
        yield client
        client.close()


def assert_nowhere(error: kwait.ExpectationError, caplog: pytest.LogCaptureFixture) -> None:
    """Neither secret (plain or base64) appears in the error, its report, its JSON or the logs."""
    places = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "text": error.report.to_text(max_rows=1000),
        "json": json.dumps(error.report.to_json()),
        "logs": caplog.text,
    }
    for where, text in places.items():
        for secret in (ENV_VALUE, SECRET_VALUE, ENCODED):
            assert secret not in text, f"{secret!r} leaked in {where}"


def test_a_failing_wait_on_a_pod_never_shows_its_env_values(
    api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The last state of a pod with an env value is printed with the value redacted."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(kwait.WaitTimeoutError) as failed:
        kwait.wait_for(
            "pods", "web", until="jsonpath={.status.phase}=Running", api_client=api,
            timeout=0,
        )  # fmt: skip
    assert "<redacted>" in str(failed.value)
    assert "DB_PASSWORD" in str(failed.value)  # the name stays: only the value is secret
    assert_nowhere(failed.value, caplog)


def test_a_state_reading_the_env_value_shows_redacted_in_the_timeline(
    api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A state function that returns an env value is rendered as <redacted>, text and JSON."""
    caplog.set_level(logging.DEBUG)
    state = kwait.states.field("spec.containers[0].env[0].value")
    with pytest.raises(kwait.ExpectationError) as failed:
        kwait.expect_transitions(
            "pods", "web", state=state, pattern=["something else"], api_client=api,
            timeout=0,
        )  # fmt: skip
    [row] = failed.value.report.objects[0].rows[:1]
    assert row.state == "<redacted>"
    assert_nowhere(failed.value, caplog)


def test_a_state_read_from_a_secrets_data_never_shows_the_value(
    api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A jsonpath on a Secret's data: neither the base64 nor the decoded value is printed."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(kwait.ExpectationError) as failed:
        kwait.expect_transitions(
            "secrets", "db", state=kwait.states.jsonpath_value("{.data.password}"),
            pattern=["x"], api_client=api, timeout=0,
        )  # fmt: skip
    assert "<redacted>" in str(failed.value)
    assert_nowhere(failed.value, caplog)


def test_the_opt_in_shows_secrets_for_local_debugging(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KWAIT_SHOW_SECRETS=1 turns redaction off (documented, for local debugging only)."""
    monkeypatch.setenv("KWAIT_SHOW_SECRETS", "1")
    with pytest.raises(kwait.WaitTimeoutError) as failed:
        kwait.wait_for(
            "pods", "web", until="jsonpath={.status.phase}=Running", api_client=api,
            timeout=0,
        )  # fmt: skip
    assert ENV_VALUE in str(failed.value)
