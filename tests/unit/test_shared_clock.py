"""One autojumping FakeClock for the fake API server and a tracker: hermetic and fast."""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s
from kubernetes.config import new_client_from_config_dict

import kwait
from kwait import states
from kwait.testing import LIFECYCLE_LABEL, FakeApiServer, FakeClock


def _crash_looping_pod() -> Any:
    return {
        "metadata": {
            "name": "web",
            "labels": {LIFECYCLE_LABEL: "crash-loop"},
            # one second per status write; the kubelet's own back-off (10 s, 20 s, 40 s ...)
            "annotations": {"kwait.dev/step-delay-ms": "1000", "kwait.dev/max-cycles": "4"},
        },
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }


def test_a_tracker_reading_its_stream_does_not_hold_the_shared_clock() -> None:
    """Minutes of kubelet back-off pass in fake time while the tracker waits on its socket."""
    clock = FakeClock(autojump=True, stall_timeout=30)
    with FakeApiServer(clock=clock, seed=1) as server:
        api = new_client_from_config_dict(server.kubeconfig_dict())  # type: ignore[no-untyped-call]
        try:
            with kwait.track("pods", "web", api_client=api, clock=clock) as tracker:
                k8s.CoreV1Api(api).create_namespaced_pod("default", _crash_looping_pod())
                tracker.wait_for(states.restart_count().equals(3), timeout=600)
                [timeline] = tracker.timelines().values()
        finally:
            api.close()
    # Back-offs of 10 s and 20 s (the first restart is immediate) passed on the fake clock.
    assert clock.monotonic() >= 30
    assert clock.jumps > 0
    restarts = [states.restart_count()(o.object) for o in timeline.observations if o.object]
    assert restarts[-1] == 3


def test_a_wait_that_cannot_be_met_times_out_in_fake_time() -> None:
    """A five-minute timeout on a pod that never becomes Ready ends by the fake clock."""
    clock = FakeClock(autojump=True, stall_timeout=30)
    with FakeApiServer(clock=clock, seed=2) as server:
        api = new_client_from_config_dict(server.kubeconfig_dict())  # type: ignore[no-untyped-call]
        try:
            with kwait.track("pods", "web", api_client=api, clock=clock) as tracker:
                k8s.CoreV1Api(api).create_namespaced_pod("default", _crash_looping_pod())
                start = clock.monotonic()
                try:
                    tracker.expect_never(states.phase().equals("Succeeded"), during=300)
                finally:
                    waited = clock.monotonic() - start
        finally:
            api.close()
    assert 300 <= waited < 400


def test_the_fake_kubelet_reads_the_test_grounds_go_duration_annotations() -> None:
    """A manifest written for the kwok Stages ("kwait.dev/delay": "20s") plays the same here."""
    clock = FakeClock(autojump=True, stall_timeout=30)
    pod: Any = {
        "metadata": {
            "name": "web",
            "labels": {LIFECYCLE_LABEL: "normal"},
            "annotations": {"kwait.dev/delay": "20s"},
        },
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }
    with FakeApiServer(clock=clock, seed=3) as server:
        api = new_client_from_config_dict(server.kubeconfig_dict())  # type: ignore[no-untyped-call]
        try:
            with kwait.track("pods", "web", api_client=api, clock=clock) as tracker:
                k8s.CoreV1Api(api).create_namespaced_pod("default", pod)
                tracker.wait_for("condition=Ready", timeout=600)
        finally:
            api.close()
    # binding, sandbox and start: one 20 s step each
    assert 60 <= clock.monotonic() < 100
