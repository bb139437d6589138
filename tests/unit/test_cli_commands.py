"""kwait wait, record and show on the in-process API server: lines, exit codes, files, pictures.

Tests of internals: the subcommands run in-process through the command line's runner
(`kwait._cli`), with its duration and `--expect` readers and its live view.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kwait._cli import run_command
from kwait._cli.common import CliError, parse_duration, parse_expect, resource_args
from kwait._demo import demo_pod
from kwait._watch import kube
from kwait.matchers import Matcher, Status
from kwait.states import waiting_reason
from kwait.testing import FakeApiServer
from kwait.watch import RecordingFormatError, load_timelines

SVG = "{http://www.w3.org/2000/svg}"
KUBEVIRT = ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"]


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    """The in-process API server with its scripted kubelet."""
    with FakeApiServer() as started:
        yield started


@pytest.fixture
def kubeconfig(server: FakeApiServer, tmp_path: Path) -> str:
    """A kubeconfig file for `server`."""
    return str(server.write_kubeconfig(tmp_path / "kubeconfig"))


def http(server: FakeApiServer) -> kube.KubeHttp:
    """A raw client for writes."""
    return kube.KubeHttp(kube.api_client_from(server.kubeconfig_dict()))


def create(server: FakeApiServer, body: dict[str, Any], path: str = "pods") -> None:
    """Create an object in the default namespace."""
    http(server).send_json("POST", f"/api/v1/namespaces/default/{path}", body, request="create")


def plain_pod(name: str, **labels: str) -> dict[str, Any]:
    """A pod the scripted kubelet starts and makes Ready."""
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }


def later(action: Any, delay: float = 0.3) -> threading.Timer:
    """Run `action` on a timer (the command under test is already watching then)."""
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def kwait(*argv: str) -> tuple[int, str, str]:
    """Run a kwait subcommand in-process; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = run_command(argv[0], list(argv[1:]), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- kwait wait


def test_wait_prints_kubectls_line_per_object_and_exits_0(
    server: FakeApiServer, kubeconfig: str
) -> None:
    """Two pods made Ready by the kubelet: one `condition met` line each, in list order."""
    create(server, plain_pod("web-0", app="web"))
    create(server, plain_pod("web-1", app="web"))
    code, out, err = kwait(
        "wait", "--kubeconfig", kubeconfig, "pods", "-l", "app=web", "--for=condition=Ready"
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == ["pod/web-0 condition met", "pod/web-1 condition met"]


def test_wait_timeout_gives_kubectls_error_then_the_story(
    server: FakeApiServer, kubeconfig: str
) -> None:
    """A pod that never becomes Ready: exit 1, kubectl's line, then the recorded timeline."""
    create(server, demo_pod("vm"))
    code, out, err = kwait(
        "wait", "--kubeconfig", kubeconfig, "pod/vm", "--for=condition=Ready", "--timeout=1s"
    )
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == "error: timed out waiting for the condition on pods/vm"
    assert any(line.strip().startswith("timeline (") for line in lines)
    assert "last state" in err


def test_wait_timeout_zero_checks_once(server: FakeApiServer, kubeconfig: str) -> None:
    """--timeout=0 answers from the current state at once, with kubectl's wording."""
    create(server, demo_pod("vm"))
    code, _, err = kwait(
        "wait", "--kubeconfig", kubeconfig, "pod/vm", "--for=condition=Ready", "--timeout=0"
    )
    assert code == 1
    assert err.splitlines()[0] == "error: condition not met for pods/vm"


def test_wait_for_delete_of_a_missing_object_succeeds_silently(kubeconfig: str) -> None:
    """Kubectl prints nothing and exits 0 when the object is already gone."""
    assert kwait("wait", "--kubeconfig", kubeconfig, "pod/gone", "--for=delete") == (0, "", "")


def test_wait_for_create_then_a_pattern_recorded_to_a_file(
    server: FakeApiServer, kubeconfig: str, tmp_path: Path
) -> None:
    """--for=create waits for the pod; --expect matches the KubeVirt cycle; --record saves it."""
    record = tmp_path / "run.jsonl"
    timer = later(lambda: create(server, demo_pod("vm")))
    code, out, _ = kwait(
        "wait",
        "--kubeconfig",
        kubeconfig,
        "pod/vm",
        "--for=create",
        "--expect",
        "waiting_reason: " + ", ".join(KUBEVIRT),
        "--record",
        str(record),
        "--timeout=20s",
    )
    timer.join()
    assert code == 0
    assert out.splitlines() == [
        "pod/vm condition met",
        f"pod/vm transitions matched (waiting_reason: {', '.join(KUBEVIRT)})",
    ]
    recording = load_timelines(record)
    assert recording.header["state"] == "waiting_reason"
    # Replayed offline through the same matcher, the recording still matches.
    matcher = Matcher(waiting_reason(), KUBEVIRT)
    assert matcher.feed_all(recording.timeline("vm")).status is Status.MATCHED


def test_wait_failed_expectation_marks_the_failure_in_the_recording_and_picture(
    server: FakeApiServer, kubeconfig: str, tmp_path: Path
) -> None:
    """A forbidden state fails at once; show's table and SVG point at where it failed."""
    record = tmp_path / "fail.jsonl"
    timer = later(lambda: create(server, demo_pod("vm")))
    code, _, err = kwait(
        "wait",
        "--kubeconfig",
        kubeconfig,
        "pod/vm",
        "--for=create",
        "--expect",
        "container_state: Running, !ErrImagePull",
        "--record",
        str(record),
        "--timeout=20s",
    )
    timer.join()
    assert code == 1
    assert "violates without('ErrImagePull')" in err.splitlines()[0]
    code, table, _ = kwait("show", str(record))
    assert code == 0
    failed = [line for line in table.splitlines() if line.rstrip().endswith("failed here")]
    assert len(failed) == 1
    assert "ErrImagePull" in failed[0]
    picture = tmp_path / "fail.svg"
    assert kwait("show", str(record), "--svg", str(picture))[0] == 0
    root = ET.parse(picture).getroot()  # noqa: S314 - kwait's own output
    [decision] = [g for g in root.iter(f"{SVG}g") if g.get("class") == "decision"]
    assert decision.get("data-note") == "failed here"


def test_wait_output_json(server: FakeApiServer, kubeconfig: str) -> None:
    """-o json: one document with what was met, the errors and the reports."""
    create(server, plain_pod("web-0"))
    code, out, _ = kwait(
        "wait", "--kubeconfig", kubeconfig, "pod/web-0", "--for=condition=Ready", "-o", "json"
    )
    doc = json.loads(out)
    assert code == 0
    assert doc["ok"] is True
    assert doc["met"] == [{"object": "pod/web-0", "for": "condition=Ready"}]
    assert doc["reports"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--for=condition=Ready"], "you must provide one or more resources"),
        (["pods", "--for=condition=Ready"], "resource(s) were provided, but no name"),
        (["pod/web-0"], "unrecognized condition: []"),
        (["pod/web-0", "--for=ready"], 'unrecognized condition: "ready"'),
        (["pod/web-0", "--for=create", "--timeout=5"], "missing unit in duration"),
        (["pod/web-0", "--for=create", "--nonsense"], "unrecognized arguments: --nonsense"),
        (["widgets/x", "--for=create"], 'the server doesn\'t have a resource type "widgets"'),
        (["pod/x", "--for=create", "--expect", "nonsense: A"], "unknown state 'nonsense'"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_1(
    kubeconfig: str, argv: list[str], message: str
) -> None:
    """Mistakes on the command line: kubectl's exit status 1 and one `error:` line."""
    code, out, err = kwait("wait", "--kubeconfig", kubeconfig, *argv)
    assert (code, out) == (1, "")
    assert err.startswith("error: ")
    assert message in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("command", ["wait", "record", "show"])
def test_help_has_examples(command: str) -> None:
    """Every subcommand's --help shows examples and exits 0."""
    code, out, _ = kwait(command, "--help")
    assert code == 0
    assert "examples:" in out
    assert f"kwait {command} " in out.split("examples:")[1]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("1m30s", 90.0), ("0", 0.0), ("1.5h", 5400.0), ("250ms", 0.25), ("-1s", -1.0)],
)
def test_durations_read_as_kubectl_reads_them(text: str, seconds: float) -> None:
    """Go's duration syntax, as kubectl's --timeout takes it."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30", "1x", "", "s", "1m30"])
def test_bad_durations_are_refused(text: str) -> None:
    """Numbers without units and unknown units are errors, as in kubectl."""
    with pytest.raises(CliError, match="--timeout"):
        parse_duration(text)


def test_resource_arguments_forms() -> None:
    """TYPE/NAME and TYPE NAME... name objects; a lone TYPE needs a selector."""
    assert resource_args(["pod/a"], selecting=False).named == (("pod", "a"),)
    assert resource_args(["pods"], selecting=True).resource == "pods"
    with pytest.raises(CliError, match="no need to specify a resource type"):
        resource_args(["pod", "pod/a"], selecting=False)


def test_expect_reads_numbers_and_forbidden_states() -> None:
    """Restart counts are numbers; '!X' forbids a state."""
    assert parse_expect("restart_count: 0, 1").pattern == [0, 1]
    assert "without" in repr(parse_expect("phase: Running, !Failed").pattern)


# ---------------------------------------------------------------- kwait record and show


def test_record_and_show_the_kubevirt_image_pull_cycle(
    server: FakeApiServer, kubeconfig: str, tmp_path: Path
) -> None:
    """Record writes versioned JSON Lines; show --svg draws ErrImagePull ⇄ ImagePullBackOff."""
    record = tmp_path / "run.jsonl"
    timer = later(lambda: create(server, demo_pod("vm-launcher")), delay=0.5)
    code, out, err = kwait(
        "record",
        "--kubeconfig",
        kubeconfig,
        "pods",
        "-l",
        "app=kwait-demo",
        "-o",
        str(record),
        "--duration",
        "3s",
        "--plain",
    )
    timer.join()
    assert code == 0, err
    assert "recording pods in namespace 'default'" in err
    # The plain view: one line per change, with the transitions so far.
    assert any("ErrImagePull" in line and "transitions" in line for line in out.splitlines())
    lines = record.read_text().splitlines()
    assert json.loads(lines[0]) == {
        "format": "kwait-timelines",
        "version": 1,
        "source": "pods in namespace 'default' with labelSelector 'app=kwait-demo'",
    }
    assert {json.loads(line)["entry"] for line in lines[1:]} <= {"observation", "reconnect"}

    picture = tmp_path / "run.svg"
    code, _, _ = kwait("show", str(record), "--svg", str(picture), "--state", "waiting_reason")
    assert code == 0
    root = ET.parse(picture).getroot()  # noqa: S314 - kwait's own output
    lanes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert [lane.get("data-object") for lane in lanes] == ["pod/default/vm-launcher"]
    spans = [r.get("data-state") for r in lanes[0].iter(f"{SVG}rect") if r.get("class") == "span"]
    reasons = [s for s in spans if s in ("ErrImagePull", "ImagePullBackOff")]
    assert reasons[:4] == KUBEVIRT
    starts = [
        float(r.get("data-start", "0"))
        for r in lanes[0].iter(f"{SVG}rect")
        if r.get("class") == "span"
    ]
    assert starts == sorted(starts)

    code, table, _ = kwait(
        "show", str(record), "--object", "pod/vm-launcher", "--state", "waiting_reason"
    )
    assert code == 0
    states = [
        row.split()[3]
        for row in table.splitlines()
        if row.strip().startswith("+") and len(row.split()) > 3
    ]
    assert states.count("ErrImagePull") >= 2


def test_record_runs_the_command_and_exits_with_its_status(kubeconfig: str, tmp_path: Path) -> None:
    """`kwait record ... -- CMD` stops when CMD ends and exits with CMD's status."""
    record = tmp_path / "cmd.jsonl"
    code, _, err = kwait(
        "record",
        "--kubeconfig",
        kubeconfig,
        "pods",
        "-o",
        str(record),
        "--plain",
        "--",
        sys.executable,
        "-c",
        "raise SystemExit(3)",
    )
    assert code == 3, err
    assert load_timelines(record).entries == ()


def test_show_refuses_what_is_not_a_recording(tmp_path: Path) -> None:
    """A file that is not a recording, or from a newer kwait, is one error line."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "kwait-timelines", "version": 99}\n')
    code, _, err = kwait("show", str(bad))
    assert code == 1
    assert "format version 99" in err
    with pytest.raises(RecordingFormatError, match="not a kwait recording"):
        load_timelines(io.StringIO('{"hello": 1}\n'))
    assert kwait("show", str(tmp_path / "missing.jsonl"))[0] == 1


# ---------------------------------------------------------------- kwait demo


def test_demo_ignores_an_exported_kubeconfig(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A KUBECONFIG exported for other work never receives the demo pod."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "points-at-production"))
    from kwait.__main__ import main  # noqa: PLC0415 - the entry point under test

    assert main(["demo"]) == 0
    assert "in-process API server" in capsys.readouterr().out


def test_demo_with_kubeconfig_says_where_it_writes(
    capsys: pytest.CaptureFixture[str], kubeconfig: str, server: FakeApiServer
) -> None:
    """With --kubeconfig the demo names the cluster and the namespace before writing."""
    from kwait.__main__ import main  # noqa: PLC0415 - the entry point under test

    assert main(["demo", "--kubeconfig", kubeconfig]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        f"kwait demo against the cluster at {server.url} (kubeconfig {kubeconfig}): "
        "it creates and then deletes the pod default/kwait-demo there"
    )


def test_wait_uses_the_namespace_of_the_kubeconfig_context(
    server: FakeApiServer, tmp_path: Path
) -> None:
    """Without -n, the context's namespace applies, as in kubectl."""
    body = {"metadata": {"name": "ci"}}
    http(server).send_json("POST", "/api/v1/namespaces", body, request="create namespace")
    http(server).send_json(
        "POST", "/api/v1/namespaces/ci/configmaps", {"metadata": {"name": "settings"}}, request="c"
    )
    kubeconfig = str(server.write_kubeconfig(tmp_path / "ci.yaml", namespace="ci"))
    assert kwait("wait", "--kubeconfig", kubeconfig, "cm/settings", "--for=create") == (
        0,
        "configmap/settings condition met\n",
        "",
    )
    code, _, err = kwait(
        "wait", "--kubeconfig", kubeconfig, "--context", "nope", "cm/x", "--for=create"
    )
    assert code == 1
    assert len(err.splitlines()) == 1


def test_live_view_redraws_one_line_per_object_on_a_terminal() -> None:
    """On a terminal: the lines are redrawn in place (cursor up, clear line)."""
    from kwait._cli.record import LiveView  # noqa: PLC0415 - the view under test
    from kwait.watch import Recorder  # noqa: PLC0415

    rec = Recorder(clock=None)
    ident = {"kind": "Pod", "metadata": {"name": "web", "namespace": "ci", "uid": "u"}}
    out = io.StringIO()
    view = LiveView(out, waiting_reason(), live=True)
    first = rec.add_observation("ADDED", dict(ident))
    view.update([first], 0.0)
    pulled = {
        **ident,
        "status": {
            "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "ErrImagePull"}}}]
        },
    }
    view.update([rec.add_observation("MODIFIED", pulled)], 1.5)
    frames = out.getvalue().split("\x1b[1F")
    assert len(frames) == 2
    assert "ErrImagePull" in frames[1]
    assert "1 transition " in frames[1]
    assert frames[1].count("\n") == 1


def test_wait_fails_at_once_when_the_object_is_deleted(
    server: FakeApiServer, kubeconfig: str
) -> None:
    """Where kubectl would wait out its timeout, kwait stops at the deletion and says so."""
    create(server, demo_pod("vm"))

    def delete() -> None:
        http(server).send_json("DELETE", "/api/v1/namespaces/default/pods/vm", None, request="d")

    timer = later(delete)
    code, out, err = kwait(
        "wait", "--kubeconfig", kubeconfig, "pod/vm", "--for=condition=Ready", "--timeout=60s"
    )
    timer.join()
    assert (code, out) == (1, "")
    first = err.splitlines()[0]
    assert first.startswith("error: pod/default/vm")
    assert "deleted" in first


def test_wait_output_json_on_failure_holds_the_full_report(
    server: FakeApiServer, kubeconfig: str
) -> None:
    """-o json after a timeout: ok false, kubectl's error, and the report with its timeline."""
    create(server, demo_pod("vm"))
    code, out, err = kwait(
        "wait",
        "--kubeconfig",
        kubeconfig,
        "pod/vm",
        "--for=condition=Ready",
        "--timeout=0",
        "-o",
        "json",
    )
    doc = json.loads(out)
    assert code == 1
    assert doc["ok"] is False
    assert doc["errors"] == ["error: condition not met for pods/vm"]
    [report] = doc["reports"]
    assert report["kind"] == "wait"
    assert report["objects"][0]["identity"]["name"] == "vm"
    assert report["objects"][0]["timeline"]
    assert err == "error: condition not met for pods/vm\n"
