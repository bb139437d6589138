"""Timelines saved and loaded from Python, pictures from reports, pictures in pytest's reports."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import kwait
from kwait.matchers import Matcher, Status
from kwait.reports import to_svg
from kwait.states import phase
from kwait.testing import FakeClock, Hang, ScriptedSource, event
from kwait.watch import Recorder, Recording, load_timelines, save_timelines

SVG = "{http://www.w3.org/2000/svg}"


def pod(name: str, phase_: str, rv: int, uid: str = "uid-web") -> dict[str, object]:
    """A raw pod in `phase_`."""
    return {
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ci", "uid": uid, "resourceVersion": str(rv)},
        "status": {"phase": phase_},
    }


def recorded() -> Recorder:
    """Pending -> Running -> Failed, a reconnect, a gap, then a deletion."""
    rec = Recorder(clock=None)
    rec.add_observation("ADDED", pod("web", "Pending", 1))
    rec.add_observation("MODIFIED", pod("web", "Running", 2))
    rec.add_reconnect("2", "the stream ended")
    rec.add_observation("MODIFIED", pod("web", "Failed", 3))
    rec.add_gap("3", "9", "too old resource version", [rec.identities()[0]])
    rec.add_observation("DELETED", pod("web", "Failed", 10))
    return rec


def test_save_then_load_gives_back_every_entry() -> None:
    """Observations, gaps and reconnects survive the round trip, with their objects."""
    rec = recorded()
    buffer = io.StringIO()
    assert save_timelines(rec, buffer, state="phase") == len(rec)
    loaded = load_timelines(io.StringIO(buffer.getvalue()))
    assert loaded.header["state"] == "phase"
    assert [type(e).__name__ for e in loaded.entries] == [type(e).__name__ for e in rec.entries()]
    [timeline] = loaded.timelines().values()
    original = rec.timeline_of(rec.identities()[0])
    assert [(o.type, o.resource_version, o.object) for o in timeline.observations] == [
        (o.type, o.resource_version, o.object) for o in original.observations
    ]
    assert [g.reason for g in timeline.gaps] == ["too old resource version"]
    assert [r.reason for r in loaded.reconnects()] == ["the stream ended"]


def test_a_loaded_recording_replays_through_the_matchers(tmp_path: Path) -> None:
    """A failure recorded elsewhere is judged the same way locally."""
    path = tmp_path / "ci.jsonl"
    save_timelines(recorded().timelines(), path)
    timeline = load_timelines(path).timeline("pod/web")
    matcher = Matcher(phase(), kwait.in_order("Running").without("Failed"))
    matcher.feed_all(timeline)
    assert matcher.outcome.status is Status.MATCHED
    strict = Matcher(phase(), kwait.in_order("Pending", "Running", "Succeeded"))
    assert strict.feed_all(timeline).status is Status.IMPOSSIBLE


def test_unknown_entry_kinds_are_skipped_and_broken_lines_named() -> None:
    """Later versions may add line kinds; a broken line names its number."""
    lines = [
        json.dumps({"format": "kwait-timelines", "version": 1}),
        json.dumps({"entry": "annotation", "seq": 0, "time": 0, "text": "from a newer kwait"}),
    ]
    assert load_timelines(io.StringIO("\n".join(lines))).entries == ()
    with pytest.raises(kwait.KwaitError, match="line 2 is not JSON"):
        load_timelines(io.StringIO(lines[0] + "\n{oops\n"))


def test_svg_of_a_failed_expectation_has_lanes_spans_and_the_failure_point() -> None:
    """The picture of a report: one lane per object, spans per state, the decision marked."""
    clock = FakeClock()
    source = ScriptedSource(clock, "pods in namespace 'ci'")
    source.add_list([pod("web", "Pending", 1)], "1")
    source.add_watch(
        event("MODIFIED", pod("web", "Running", 2)),
        event("MODIFIED", pod("web", "Failed", 3)),
        Hang(),
    )
    with (
        kwait.track(source=source, clock=clock) as tracker,
        pytest.raises(kwait.ExpectationError) as failure,
    ):
        tracker.expect_transitions(
            phase(), kwait.in_order("Running", "Succeeded").without("Failed"), timeout=5
        )
    svg = to_svg(failure.value.report)
    root = ET.fromstring(svg)  # noqa: S314 - kwait's own output
    [lane] = [g for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert lane.get("data-object") == "pod/ci/web"
    spans = [r.get("data-state") for r in lane.iter(f"{SVG}rect") if r.get("class") == "span"]
    assert spans == ["Pending", "Running", "Failed"]
    steps = [g.get("data-step") for g in lane.iter(f"{SVG}g") if g.get("class") == "step"]
    assert steps == ["1"]
    [decision] = [g for g in lane.iter(f"{SVG}g") if g.get("class") == "decision"]
    assert decision.get("data-note") == "failed here"


def test_svg_marks_gaps_reconnects_and_deletions() -> None:
    """Continuity lost is drawn; so is a lossless reconnect and the object's end."""
    rec = recorded()
    root = ET.fromstring(to_svg(Recording({}, tuple(rec.entries()))))  # noqa: S314
    classes = [e.get("class") for e in root.iter()]
    assert classes.count("gap") == 1
    assert classes.count("reconnect") == 1
    assert classes.count("deleted") == 1


def test_svg_escapes_what_objects_contain() -> None:
    """State values are text in XML: markup in them cannot break the picture."""
    rec = Recorder(clock=None)
    rec.add_observation("ADDED", pod("web", "<b>&'\"", 1))
    root = ET.fromstring(to_svg(rec.timelines(), state=phase()))  # noqa: S314
    states = [r.get("data-state") for r in root.iter(f"{SVG}rect") if r.get("class") == "span"]
    assert states == ["<b>&'\""]


FAILING_TEST = """
import kwait
from kubernetes import client as k8s


def test_never_ready(kwait_api_client):
    core = k8s.CoreV1Api(kwait_api_client)
    body = {"metadata": {"name": "web"}, "spec": {"schedulerName": "nobody",
            "containers": [{"name": "app", "image": "app:1"}]}}
    core.create_namespaced_pod("default", body)
    kwait.wait_for("pods", "web", namespace="default", until="condition=Ready",
                   timeout=0.2, api_client=kwait_api_client)
"""


def test_pytest_plugin_writes_the_picture_next_to_the_junit_xml(tmp_path: Path) -> None:
    """Without pytest-html, a failed expectation's picture lands beside the JUnit XML."""
    (tmp_path / "test_failing.py").write_text(FAILING_TEST)
    junit = tmp_path / "out" / "junit.xml"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    pictures = list((tmp_path / "out" / "kwait-timelines").glob("*.svg"))
    assert [p.name for p in pictures] == ["test_failing.py_test_never_ready.svg"]
    root = ET.parse(pictures[0]).getroot()  # noqa: S314 - kwait's own output
    assert any(g.get("class") == "lane" for g in root.iter(f"{SVG}g"))
    assert "kwait_timeline_svg" in junit.read_text()


HTML_CONFTEST = """
import json


def pytest_configure(config):
    config.pluginmanager.register(object(), "html")  # stands for pytest-html's plugin


def pytest_runtest_logreport(report):
    if report.when == "call":
        with open("extras.json", "w") as out:
            json.dump(getattr(report, "extras", []), out)
"""


def test_pytest_plugin_attaches_the_picture_to_pytest_html(tmp_path: Path) -> None:
    """With pytest-html active, the picture goes inline into the test's HTML extras."""
    (tmp_path / "test_failing.py").write_text(FAILING_TEST)
    (tmp_path / "conftest.py").write_text(HTML_CONFTEST)
    package = tmp_path / "pytest_html"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "extras.py").write_text(
        "def html(content):\n    return {'format_type': 'html', 'content': content}\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    [extra] = json.loads((tmp_path / "extras.json").read_text())
    assert extra["format_type"] == "html"
    assert '<div class="kwait-timeline"><svg' in extra["content"]
    assert not (tmp_path / "kwait-timelines").exists()
