"""A failing expectation's traceback points at the user's line, not into kwait."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TEST = """
import kwait
from kwait.testing import FakeClock, Hang, ScriptedSource


def test_pod_becomes_ready():
    clock = FakeClock(autojump=True)
    source = ScriptedSource(clock, "pods/web-0 in ci")
    pod = {"kind": "Pod", "metadata": {"name": "web-0", "uid": "u1", "resourceVersion": "1"},
           "status": {"phase": "Pending"}}
    source.add_list([pod], "1")
    source.add_watch(Hang())
    kwait.wait_for(None, source=source, clock=clock, until="condition=Ready")
"""


TRACKER_TEST = """
import kwait
from kwait.testing import FakeClock, Hang, ScriptedSource, event


def test_pod_never_fails():
    clock = FakeClock(autojump=True)
    source = ScriptedSource(clock, "pods/web-0 in ci")
    pod = {"kind": "Pod", "metadata": {"name": "web-0", "uid": "u1", "resourceVersion": "1"},
           "status": {"phase": "Running"}}
    failed = {**pod, "metadata": {**pod["metadata"], "resourceVersion": "2"},
              "status": {"phase": "Failed"}}
    source.add_list([pod], "1")
    source.add_watch(event("MODIFIED", failed), Hang())
    with kwait.Tracker(source=source, clock=clock) as tracker:
        tracker.expect_never("jsonpath={.status.phase}=Failed", during=60)
"""


def kwait_frames(output: str) -> list[str]:
    """Lines of a pytest report that locate a frame inside the kwait package."""
    return [line for line in output.splitlines() if "kwait/" in line and ".py:" in line]


def test_failing_wait_shows_the_users_line_and_no_kwait_frames(pytester: pytest.Pytester) -> None:
    """The failing `kwait.wait_for` line is marked with ``>``; no kwait frame is shown."""
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_inprocess("--tb=long", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    marked = [line for line in output.splitlines() if line.startswith(">")]
    assert marked == [
        '>       kwait.wait_for(None, source=source, clock=clock, until="condition=Ready")'
    ]
    result.stdout.fnmatch_lines(
        ["E       kwait.WaitTimeoutError: pod/web-0 (uid u1) did not become *"]
    )
    assert kwait_frames(output) == []


def test_the_frame_check_sees_kwait_frames_when_they_are_shown(pytester: pytest.Pytester) -> None:
    """With ``--full-trace`` (which ignores ``__tracebackhide__``) kwait's frames do appear."""
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_inprocess("--tb=short", "--full-trace", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert any("kwait/_api.py" in line for line in kwait_frames(result.stdout.str()))


def test_failing_tracker_method_shows_the_users_line_and_no_kwait_frames(
    pytester: pytest.Pytester,
) -> None:
    """The same holds for a tracker's method: the report, the user's line, no kwait frame."""
    pytester.makepyfile(test_user=TRACKER_TEST)
    result = pytester.runpytest_inprocess("--tb=long", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    marked = [line for line in output.splitlines() if line.startswith(">")]
    assert marked == [
        '>           tracker.expect_never("jsonpath={.status.phase}=Failed", during=60)'
    ]
    result.stdout.fnmatch_lines(["E *kwait.errors.NeverViolatedError: pod/web-0 (uid u1) broke *"])
    assert kwait_frames(output) == []
