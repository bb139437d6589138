"""Calls that mypy must reject: wrong argument types and unknown keywords to kwait's API.

Not part of the normal type check (pyproject.toml excludes this folder); the unit test
``tests/unit/test_typecheck.py`` runs mypy on this file and expects an error of the code
after ``# E:`` on each marked line, and no error on any other line. Each good call sits
next to its bad twins, so an API that accepted anything would fail the check.
"""

from __future__ import annotations

from datetime import timedelta

import kwait
from kwait.testing import FakeClock


def tracker_construction(clock: FakeClock) -> None:
    """`kwait.track` and `kwait.Tracker`: options by keyword, typed."""
    kwait.track("pods", "web-0", namespace="ci", clock=clock, max_bytes=10)
    kwait.track("pods", "web-0", namespace=3)  # E: arg-type
    kwait.track("pods", "web-0", namespce="ci")  # E: call-arg
    kwait.track("pods", "web-0", max_bytes="10")  # E: arg-type
    kwait.track("pods", "web-0", clock=0.5)  # E: arg-type
    kwait.track(42)  # E: arg-type
    kwait.Tracker("pods", "web-0", namespace="ci", label_selector="app=web")
    kwait.Tracker("pods", "web-0", namespace=["ci"])  # E: arg-type
    kwait.Tracker("pods", "web-0", label_selectr="app=web")  # E: call-arg
    kwait.Tracker("pods", "web-0", start_timeout="30")  # E: arg-type
    kwait.Tracker("pods", "web-0", "ci")  # E: call-arg


def tracker_methods(tracker: kwait.Tracker) -> None:
    """Every expectation method of a running tracker."""
    tracker.wait_for("condition=Ready", timeout=timedelta(seconds=5))
    tracker.wait_for(5)  # E: arg-type
    tracker.wait_for("condition=Ready", timeout="5s")  # E: arg-type
    tracker.wait_for("condition=Ready", timout=5)  # E: call-arg
    tracker.expect_transitions(kwait.states.phase(), ["Pending", "Running"], timeout=5)
    tracker.expect_transitions("status.phase", ["Pending", "Running"])  # E: arg-type
    tracker.expect_transitions(kwait.states.phase(), ["Running"], timeout=[5])  # E: arg-type
    tracker.expect_transitions(kwait.states.phase(), ["Running"], nme="web-0")  # E: call-arg
    tracker.expect_never("condition=Failed", during=10)
    tracker.expect_never(3, during=10)  # E: arg-type
    tracker.expect_never("condition=Failed", during="10")  # E: arg-type
    tracker.expect_never("condition=Failed", for_=10)  # E: call-arg
    tracker.expect_never("condition=Failed")  # E: call-arg
    tracker.expect_consistently("condition=Ready", during=10)
    tracker.expect_consistently(None, during=10)  # E: arg-type
    tracker.expect_consistently("condition=Ready", during="10")  # E: arg-type
    tracker.expect_consistently("condition=Ready", durin=10)  # E: call-arg
    tracker.expect_count(kwait.Changes.generation(), exactly=1)
    tracker.expect_count(3, exactly=1)  # E: arg-type
    tracker.expect_count(kwait.Changes.generation(), exactly="1")  # E: arg-type
    tracker.expect_count(kwait.Changes.generation(), exact=1)  # E: call-arg
    tracker.sync(timeout=5)
    tracker.sync(timeout="5")  # E: arg-type
    tracker.sync(wait=5)  # E: call-arg
    tracker.timeline("web-0", namespace="ci")
    tracker.timeline(0)  # E: arg-type
    tracker.timeline("web-0", ns="ci")  # E: call-arg
    tracker.entries(start=0)
    tracker.entries(start="0")  # E: arg-type


def one_call_forms(clock: FakeClock) -> None:
    """The one-call forms: the expectation's arguments and the tracker's options."""
    kwait.wait_for("pods", "web-0", until="condition=Ready", namespace="ci", timeout=5)
    kwait.wait_for("pods", "web-0", until=5)  # E: arg-type
    kwait.wait_for("pods", "web-0", until="condition=Ready", timeout="5")  # E: arg-type
    kwait.wait_for("pods", "web-0", until="condition=Ready", namespace=1)  # E: arg-type
    kwait.wait_for("pods", "web-0", until="condition=Ready", namespce="ci")  # E: call-arg
    kwait.wait_for("pods", "web-0", until="condition=Ready", act=len("x"))  # E: arg-type
    kwait.wait_for("pods", "web-0")  # E: call-arg
    kwait.expect_transitions("pods", "web-0", state=kwait.states.phase(), pattern=["Running"])
    kwait.expect_transitions("pods", "web-0", state="phase", pattern=["Running"])  # E: arg-type
    kwait.expect_transitions(
        "pods",
        "web-0",
        state=kwait.states.phase(),
        pattern=["Running"],
        clock=1,  # E: arg-type
    )
    kwait.expect_transitions(  # E: call-arg
        "pods", "web-0", state=kwait.states.phase(), pattern=["Running"], timeot=1
    )
    kwait.expect_never("pods", "web-0", condition="condition=Failed", during=10, clock=clock)
    kwait.expect_never("pods", "web-0", condition=1.5, during=10)  # E: arg-type
    kwait.expect_never(
        "pods",
        "web-0",
        condition="condition=Failed",
        during=None,
        act=1,  # E: arg-type
    )
    kwait.expect_never("pods", "web-0", condition="condition=Failed", timeout=10)  # E: call-arg
    kwait.expect_consistently("pods", "web-0", condition="condition=Ready", during=10)
    kwait.expect_consistently("pods", "web-0", condition=b"Ready", during=10)  # E: arg-type
    kwait.expect_consistently(
        "pods",
        "web-0",
        condition="x",
        during=1,
        max_bytes=None,  # E: arg-type
    )
    kwait.expect_consistently("pods", "web-0", condition="x", during=1, label="a")  # E: call-arg
    kwait.expect_count("pods", changes=kwait.Changes.restarts(), at_most=0, label_selector="a=b")
    kwait.expect_count("pods", changes=0, at_most=0)  # E: arg-type
    kwait.expect_count("pods", changes=kwait.Changes.restarts(), at_most=0.5)  # E: arg-type
    kwait.expect_count("pods", changes=kwait.Changes.restarts(), most=0)  # E: call-arg
    kwait.expect_count(3, changes=kwait.Changes.restarts())  # E: arg-type
