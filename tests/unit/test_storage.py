"""Timelines at scale: selector targets read at the call, byte budgets, O(1) set waits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

import kwait
from kwait.testing import FakeApiServer, FakeClock, Hang, ScriptedSource, event
from kwait.watch import Recorder


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    """A fake API server whose kubelet starts pods within milliseconds."""
    with FakeApiServer() as server:
        yield k8s_config.new_client_from_config_dict(server.kubeconfig_dict())  # type: ignore[no-untyped-call]


def ready_pod(name: str, run: str) -> dict[str, Any]:
    """A pod the fake kubelet makes Ready after a few milliseconds."""
    return {
        "metadata": {
            "name": name,
            "labels": {"run": run},
            "annotations": {"kwait.dev/step-delay-ms": "1"},
        },
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]},
    }


def test_a_selector_wait_right_after_creating_pods_waits_on_all_of_them(api: Any) -> None:
    """The targets are what the server holds at the call, 100 runs out of 100 (kubectl -l)."""
    core: Any = k8s.CoreV1Api(api)  # dict manifests: untyped use
    for run in range(100):
        label = f"r{run}"
        with kwait.track("pods", label_selector=f"run={label}", api_client=api) as tracker:
            for i in range(3):
                core.create_namespaced_pod("default", ready_pod(f"p{run}-{i}", label))
            timelines = tracker.wait_for("condition=Ready", timeout=30)
        assert sorted(t.identity.name for t in timelines) == [f"p{run}-{i}" for i in range(3)]


def pod(name: str, rv: int, *, ready: bool = False) -> dict[str, Any]:
    """A minimal pod state for scripted streams."""
    status = "True" if ready else "False"
    return {
        "kind": "Pod",
        "metadata": {"name": name, "uid": f"uid-{name}", "resourceVersion": str(rv)},
        "status": {"conditions": [{"type": "Ready", "status": status}]},
    }


def test_a_whole_set_wait_over_many_objects_decides_when_the_last_is_ready() -> None:
    """2,000 listed pods, 2,000 events making each Ready: the wait returns all of them."""
    clock = FakeClock(autojump=True)
    source = ScriptedSource(clock)
    names = [f"p{i}" for i in range(2000)]
    source.add_list([pod(n, 2 + i) for i, n in enumerate(names)], "3000")
    source.add_watch(
        *(event("MODIFIED", pod(n, 3001 + i, ready=True)) for i, n in enumerate(names)), Hang()
    )
    with kwait.Tracker(source=source, clock=clock) as tracker:
        timelines = tracker.wait_for("condition=Ready", timeout=60)
    assert len(timelines) == 2000
    assert all(t.last is not None and t.last.resource_version != "" for t in timelines)


def test_the_byte_budget_holds_under_many_events() -> None:
    """100,000 states of 50 objects: held bytes stay within the budget plus the latest states."""
    rec = Recorder(clock=None, max_bytes=200_000)
    for i in range(100_000):
        rec.add_observation("MODIFIED", pod(f"p{i % 50}", 10 + i))
    latest = sum(o.size for o in rec.present()[1])
    assert rec.stored_bytes <= 200_000 + latest
    assert rec.stats.evicted > 90_000
    assert len(rec.present()[1]) == 50
    assert all(o.object is not None for o in rec.present()[1])


def test_stored_objects_cost_about_their_json_size() -> None:
    """What the recorder holds for an object is its JSON, not a tree of dicts."""
    rec = Recorder(clock=None)
    obj = pod("p", 5)
    obs = rec.add_observation("ADDED", obj)
    assert obs.size == len(json.dumps(obj, separators=(",", ":")))
    assert obs.object == obj
