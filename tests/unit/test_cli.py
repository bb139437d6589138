"""The command line the README tells a new user to run.

Tests of internals: a few cases reach the server through the adapter (`kwait._watch.kube`),
and `--timeout` is parsed by the command line's own duration reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import kwait
from kwait.__main__ import main
from kwait._cli.common import CliError, parse_duration
from kwait._watch.kube import KubeHttp, api_client_from
from kwait.testing import FakeApiServer


def test_unknown_command_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand exits with argparse's usage error, not a traceback."""
    with pytest.raises(SystemExit) as exc:
        main(["nonsense"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_demo_shows_the_timeline_a_pass_and_a_fast_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo tracks the image-pull cycle on the embedded server and explains a failure."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "in-process API server" in out
    assert "passed after" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("+")]
    states = [row[3] for row in rows if len(row) > 3]
    assert states.count("ErrImagePull") >= 2
    assert states.count("ImagePullBackOff") >= 2
    assert "TransitionMismatchError" in out
    assert "(at the first ErrImagePull, not at the timeout)" in out
    assert "failed here" in out
    # The failing report carries the kubelet's Events and the container's classification.
    assert "Normal  Scheduled: Successfully assigned default/kwait-demo to kwait-node" in out
    assert "Warning  Failed (x2): Error: ErrImagePull" in out
    assert 'Normal  BackOff (x2): Back-off pulling image "registry.invalid/' in out
    assert "app        image-pull  0" in out
    assert out.rstrip().endswith("Demo finished as expected.")


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """``--version`` prints the version and exits 0."""
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"kwait {kwait.__version__}"


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_a_missing_kubeconfig_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A kubeconfig that is not there: one line naming it, exit 1 (as kubectl)."""
    missing = tmp_path / "nowhere"
    assert main(["demo", "--kubeconfig", str(missing)]) == 1
    assert str(missing) in _one_line_error(capsys)


def test_an_empty_namespace_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """``--namespace ''`` is refused before anything starts."""
    assert main(["demo", "--fake", "--namespace", ""]) == 1
    assert "--namespace='' is empty" in _one_line_error(capsys)


def test_an_unknown_namespace_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A namespace the server does not have: the server's answer on one line."""
    assert main(["demo", "--fake", "--namespace", "nosuchns"]) == 1
    assert 'namespaces "nosuchns" not found' in _one_line_error(capsys)


def test_a_refused_connection_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Nothing listening: one line at once, not a tracker retrying until its start timeout."""
    with FakeApiServer(kubelet=False) as server:
        path = server.write_kubeconfig(tmp_path / "kubeconfig")
    assert main(["wait", "pods/web-0", "--for=create", "--kubeconfig", str(path)]) == 1
    assert "Connection refused" in _one_line_error(capsys)


def test_wait_speaks_kubectl(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``kwait wait TYPE/NAME --for=...`` waits as kubectl does and prints its line."""
    with FakeApiServer(kubelet=False) as server:
        path = server.write_kubeconfig(tmp_path / "kubeconfig")
        client = api_client_from(server.kubeconfig_dict())
        KubeHttp(client).send_json(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            {"metadata": {"name": "settings"}},
            request="CREATE configmap",
        )
        ok = ["wait", "configmaps/settings", "--for=create", "--kubeconfig", str(path)]
        assert main([*ok, "--timeout=5s"]) == 0
        assert capsys.readouterr().out == "configmap/settings condition met\n"
        bad = ["wait", "configmaps/settings", "--for=jsonpath={.data.x}=1", "--timeout=0"]
        assert main([*bad, "--kubeconfig", str(path)]) == 1
        assert "did not become jsonpath {.data.x}=1" in capsys.readouterr().err
        assert main(["wait", "configmaps", "--for=deleted", "--kubeconfig", str(path)]) == 1
        # kubectl's own words for an unknown --for form
        assert 'unrecognized condition: "deleted"' in _one_line_error(capsys)


def test_durations_read_as_kubectl_writes_them() -> None:
    """``--timeout`` takes Go durations."""
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("500ms") == 0.5
    with pytest.raises(CliError, match="soon"):
        parse_duration("soon")
