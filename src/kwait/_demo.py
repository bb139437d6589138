"""``python -m kwait demo``: KubeVirt's flaky case, tracked instead of polled.

A pod is created with an image that cannot be pulled. Its container cycles
ErrImagePull ⇄ ImagePullBackOff, and the ErrImagePull moments can be far
shorter than a poll interval. The demo tracks the pod from before it exists,
prints the recorded timeline, shows an expectation that passes and one that
fails (at the first wrong state, with its report).

By default it runs against the in-process API server from `kwait.testing`
(its scripted kubelet plays the image-pull failure in about a second). With
``--kubeconfig`` it runs the same against a real cluster, where the kubelet (or
kwok) produces the states; there the back-off makes it take tens of seconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from kwait import ExpectationError, SystemClock, Tracker, in_order
from kwait._time.deadline import format_seconds
from kwait.matchers import Matcher
from kwait.reports import object_report
from kwait.states import container_state, waiting_reason

__all__ = ["DemoResult", "run_demo"]

PATTERN = ["ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"]


def demo_pod(name: str) -> dict[str, Any]:
    """The pod the demo creates: an image no registry serves."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            # The fake's scripted kubelet and the test ground's kwok Stages read these;
            # a real kubelet ignores them and fails to pull the image by itself.
            "labels": {"app": "kwait-demo", "kwait.dev/lifecycle": "image-pull-failure"},
            "annotations": {
                "kwait.dev/step-delay-ms": "50",
                "kwait.dev/backoff-ms": "250",
                "kwait.dev/max-cycles": "4",
            },
        },
        "spec": {
            "containers": [{"name": "app", "image": "registry.invalid/kwait/no-such-image:1"}],
            "terminationGracePeriodSeconds": 0,
        },
    }


@dataclass
class DemoResult:
    """What the demo saw: whether each expectation behaved as the demo says it should."""

    passed_as_expected: bool
    failed_as_expected: bool

    @property
    def ok(self) -> bool:
        """True when the passing expectation passed and the failing one failed."""
        return self.passed_as_expected and self.failed_as_expected


@contextlib.contextmanager
def _backend(
    kubeconfig: str | None, *, use_fake: bool, namespace: str, out: TextIO
) -> Iterator[Any]:
    from kwait._watch import kube as _kube  # noqa: PLC0415 - the client is only loaded when needed

    if not use_fake:
        client = _kube.api_client_from(kubeconfig)
        out.write(
            f"kwait demo against the cluster at {client.configuration.host} "
            f"(kubeconfig {kubeconfig}): it creates and then deletes the pod "
            f"{namespace}/kwait-demo there\n"
        )
        yield client
        return
    from kwait.testing import FakeApiServer  # noqa: PLC0415 - only for the embedded default

    with FakeApiServer() as server:
        out.write(
            f"kwait demo against kwait's in-process API server at {server.url}\n"
            "(pass --kubeconfig FILE to run it against a real cluster)\n"
        )
        yield _kube.api_client_from(server.kubeconfig_dict())


def run_demo(
    *,
    kubeconfig: str | None = None,
    use_fake: bool = True,
    namespace: str = "default",
    timeout: float = 120.0,
    out: TextIO,
) -> DemoResult:
    """Run the demo and write what happens to `out`."""
    from kwait._watch import kube as _kube  # noqa: PLC0415 - the client is only loaded when needed

    name = "kwait-demo"
    clock = SystemClock()
    with _backend(kubeconfig, use_fake=use_fake, namespace=namespace, out=out) as client:
        http = _kube.KubeHttp(client)
        http.get_json("/version", None, request="GET /version")  # fail fast when unreachable
        path = f"/api/v1/namespaces/{namespace}/pods"
        with contextlib.suppress(Exception):
            http.send_json("DELETE", f"{path}/{name}", None, request="DELETE old demo pod")
        tracker = Tracker("pods", name, namespace=namespace, api_client=client, clock=clock)
        with tracker:
            out.write(
                f"\nTracking pod {namespace}/{name} before it exists, then creating it with an "
                "image that cannot be pulled.\n"
            )
            http.send_json("POST", path, demo_pod(name), request="CREATE the demo pod")
            try:
                result = _expectations(tracker, timeout, out)
            finally:
                with contextlib.suppress(Exception):
                    http.send_json("DELETE", f"{path}/{name}", None, request="DELETE demo pod")
    verdict = "as expected" if result.ok else "NOT as expected"
    out.write(f"\nDemo finished {verdict}.\n")
    return result


def _expectations(tracker: Tracker, timeout: float, out: TextIO) -> DemoResult:
    start = tracker.clock.monotonic()
    out.write(
        "\n1. kwait.expect_transitions(state=kwait.states.waiting_reason(),\n"
        f"       pattern={PATTERN})\n"
    )
    passed = False
    try:
        timeline = tracker.expect_transitions(waiting_reason(), PATTERN, timeout=timeout)
    except ExpectationError as error:
        out.write(f"   FAILED, which it should not have:\n{error}\n")
    else:
        passed = True
        took = format_seconds(tracker.clock.monotonic() - start)
        out.write(f"   passed after {took}. The recorded timeline:\n\n")
        matcher = Matcher(waiting_reason(), PATTERN, identity=timeline.identity)
        for entry in timeline.entries:
            matcher.feed(entry)
        report = object_report(timeline, matcher, reconnects=[]).to_text()
        out.write(_indent(_section(report, "timeline"), "   ") + "\n")

    out.write(
        "\n2. The same pod, expected to reach Running without ever failing to pull:\n"
        "   kwait.expect_transitions(state=kwait.states.container_state(),\n"
        "       pattern=kwait.in_order('Running').without('ErrImagePull'), timeout=30)\n"
    )
    failed = False
    start = tracker.clock.monotonic()
    try:
        tracker.expect_transitions(
            container_state(), in_order("Running").without("ErrImagePull"), timeout=30
        )
    except ExpectationError as error:
        failed = True
        took = format_seconds(tracker.clock.monotonic() - start)
        out.write(
            f"   failed after {took} (at the first ErrImagePull, not at the timeout), "
            f"with {type(error).__name__}:\n\n"
        )
        out.write(_indent(str(error), "   ") + "\n")
    else:
        out.write("   passed, which it should not have\n")
    return DemoResult(passed_as_expected=passed, failed_as_expected=failed)


def _section(text: str, title: str) -> str:
    """The lines of a rendered object report from `title` up to the next section."""
    lines = text.splitlines()
    keep: list[str] = []
    inside = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(title):
            inside = True
        elif inside and line.startswith("  ") and not line.startswith("   ") and stripped:
            break
        if inside:
            keep.append(line)
    return "\n".join(keep)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())
