"""Reprs of trackers, matchers and recorders stay short, whatever they have seen."""

from __future__ import annotations

from typing import Any

import kwait
from kwait.matchers import Matcher
from kwait.testing import FakeClock, Hang, ScriptedSource, event
from kwait.watch import Recorder

MANY = 10_000
BOUND = 200


def pod(i: int, phase: str = "Running") -> dict[str, Any]:
    """A pod object whose resourceVersion is `i`."""
    return {
        "kind": "Pod",
        "metadata": {"name": "web-0", "uid": "u1", "resourceVersion": str(i)},
        "status": {"phase": phase},
    }


def test_recorder_repr_counts_and_stays_small() -> None:
    """A recorder says how many entries and objects it holds, not what they are."""
    recorder = Recorder(clock=None)
    for i in range(MANY):
        recorder.add_observation("MODIFIED", pod(i))
    text = repr(recorder)
    assert text == f"<Recorder {MANY} entries, 1 identities, syncing>"
    assert len(text) < BOUND


def test_matcher_repr_shows_pattern_and_status_and_stays_small() -> None:
    """A matcher shows its pattern and where it stands, however long its timeline."""
    recorder = Recorder(clock=None)
    matcher = Matcher(kwait.states.phase(), ["Pending", "Running"])
    assert repr(matcher) == "<Matcher in_order('Pending', 'Running'): pending>"
    for i in range(MANY):
        matcher.feed(recorder.add_observation("MODIFIED", pod(i, "Pending")))
    assert repr(matcher) == "<Matcher in_order('Pending', 'Running'): pending>"
    matcher.feed(recorder.add_observation("MODIFIED", pod(MANY)))
    assert repr(matcher) == "<Matcher in_order('Pending', 'Running'): matched>"


def test_matcher_repr_cuts_a_long_pattern() -> None:
    """A pattern of many states is cut, so the repr stays bounded."""
    matcher = Matcher(kwait.states.phase(), [f"Phase{i}" for i in range(MANY)])
    text = repr(matcher)
    assert text.startswith("<Matcher in_order('Phase0', 'Phase1'")
    assert text.endswith("...: pending>")
    assert len(text) < BOUND


def test_tracker_repr_says_what_whether_running_and_how_much() -> None:
    """A tracker shows its target, its phase and its entry count, even after 10k events."""
    clock = FakeClock(autojump=True)
    source = ScriptedSource(clock, "pods/web-0 in ci")
    source.add_list([pod(0, "Pending")], "1")
    source.add_watch(*[event("MODIFIED", pod(i, "Pending")) for i in range(1, MANY)], Hang())
    tracker = kwait.Tracker(source=source, clock=clock)
    assert repr(tracker) == "<Tracker pods/web-0 in ci: not started, 0 entries>"
    with tracker:
        tracker.wait_for(lambda obj: obj["metadata"]["resourceVersion"] == str(MANY - 1))
        running = repr(tracker)
    assert running == f"<Tracker pods/web-0 in ci: running, {MANY} entries>"
    assert repr(tracker) == f"<Tracker pods/web-0 in ci: stopped, {MANY} entries>"
    assert len(running) < BOUND


def test_tracker_repr_names_resource_name_namespace_and_selectors() -> None:
    """Without a source yet, the repr is built from the arguments (no client is loaded)."""
    tracker = kwait.Tracker("pods", "web-0", namespace="ci", label_selector="app=web")
    assert repr(tracker) == "<Tracker pods/web-0 in ci [app=web]: not started, 0 entries>"
    wide = kwait.Tracker("pods", all_namespaces=True, label_selector="x" * MANY)
    assert len(repr(wide)) < BOUND
