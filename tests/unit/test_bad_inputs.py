# The cases pass wrong types on purpose: that is what they test.
# mypy: disable-error-code="arg-type, operator, assignment, call-overload"
"""Bad and surprising inputs through the public API: each fails at the call, in words.

Tests of internals: a few cases also drive the client adapter (`kwait._watch.kube`)
directly, to check how it reads kubeconfigs and client model objects.

Every case runs on a thread of its own with a real-time limit, so an input that
would hang fails the test instead of the run; each must raise the expected
error type with a message naming the problem, and leave no thread behind.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes.client as k8s
import pytest

import kwait
from kwait import errors, states
from kwait.retry import ExponentialBackoff, RetryPolicy
from kwait.testing import (
    Drop,
    FakeApiServer,
    FakeClock,
    Faults,
    Hang,
    Pause,
    ScriptedSource,
    ScriptStep,
    event,
)

LIMIT_SECONDS = 10.0  # real seconds a case may take before it counts as a hang


def pod(
    rv: int = 5, *, name: str = "vm", uid: str = "u-1", ready: bool | None = None
) -> dict[str, Any]:
    """A raw pod in namespace 'ci', Ready as given (no Ready condition for None)."""
    conditions = [] if ready is None else [{"type": "Ready", "status": str(ready)}]
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "ci", "uid": uid, "resourceVersion": str(rv)},
        "status": {"phase": "Running", "conditions": conditions},
    }


def scripted(
    listed: list[dict[str, Any]] | None = None,
    *steps: ScriptStep,
    clock: FakeClock | None = None,
    name: str | None = "vm",
) -> kwait.Tracker:
    """A tracker over a scripted LIST and WATCH on a jumping fake clock (not started)."""
    clock = clock if clock is not None else FakeClock(autojump=True)
    source = ScriptedSource(clock, "pods in namespace 'ci'")
    source.add_list(listed if listed is not None else [pod()], "10")
    source.add_watch(*steps, Hang())
    return kwait.Tracker(source=source, clock=clock, name=name)


def waits(until: Any, **options: Any) -> Callable[[], object]:
    """A case: wait on a started scripted tracker."""

    def run() -> object:
        with scripted() as tracker:
            return tracker.wait_for(until, **options)

    return run


def one_call(fn: Callable[..., object], **options: Any) -> Callable[[], object]:
    """A case: a one-call form on a scripted source."""

    def run() -> object:
        clock = FakeClock(autojump=True)
        source = ScriptedSource(clock, "pods in namespace 'ci'")
        source.add_list([pod()], "10")
        return fn(None, "vm", source=source, clock=clock, **options)

    return run


def outcome(call: Callable[[], object]) -> tuple[object, BaseException | None]:
    """Run `call` on its own thread with a real-time limit; return (result, error)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = call()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            box["error"] = error

    thread = threading.Thread(target=target, name="bad-input case", daemon=True)
    thread.start()
    thread.join(LIMIT_SECONDS)
    assert not thread.is_alive(), f"hung for more than {LIMIT_SECONDS} s"
    return box.get("result"), box.get("error")


@pytest.fixture
def no_thread_left() -> Iterator[None]:
    """Fail a case that leaves a thread running."""
    before = set(threading.enumerate())
    count = threading.active_count()
    yield
    left = [t.name for t in threading.enumerate() if t not in before]
    assert not left, f"threads left running: {left}"
    assert threading.active_count() <= count


def case(call: Callable[[], object], error: type[BaseException], match: str, id_: str) -> Any:
    """One bad input: the call, the error it must raise, a regex its message must match."""
    return pytest.param(call, error, match, id=id_)


TRACKER_CASES = [
    case(
        lambda: kwait.Tracker("configmaps", 123), TypeError, r"name= .*got 123 \(int\)", "int-name"
    ),
    case(lambda: kwait.Tracker("pods", b"vm"), TypeError, r"name= .*bytes", "bytes-name"),
    case(
        lambda: kwait.Tracker("pods", ""),
        ValueError,
        "resource name must be provided",
        "empty-name",
    ),
    case(
        lambda: kwait.Tracker("pods", "a/b"),
        ValueError,
        "can never be an object's name",
        "slash-name",
    ),
    case(lambda: kwait.Tracker("pods", " vm"), ValueError, "spaces around", "spaced-name"),
    case(lambda: kwait.Tracker("pods", "x" * 254), ValueError, "253", "long-name"),
    case(
        lambda: kwait.Tracker("pods", namespace=["default"]),
        TypeError,
        r"namespace= .*list",
        "list-namespace",
    ),
    case(
        lambda: kwait.Tracker("pods", namespace="Bad_NS!"),
        ValueError,
        "DNS-1123 label",
        "bad-namespace",
    ),
    case(lambda: kwait.Tracker("pods", namespace=""), ValueError, "empty", "empty-namespace"),
    case(
        lambda: kwait.Tracker("pods", namespace="n" * 64),
        ValueError,
        "at most 63",
        "long-namespace",
    ),
    case(lambda: kwait.Tracker("pods", namespace="-ci"), ValueError, "DNS-1123", "dash-namespace"),
    case(
        lambda: kwait.Tracker("pods", namespace="ci", all_namespaces=True),
        ValueError,
        "not both",
        "namespace-and-all",
    ),
    case(
        lambda: kwait.Tracker("pods", all_namespaces="yes"),
        TypeError,
        "all_namespaces=",
        "str-all-namespaces",
    ),
    case(
        lambda: kwait.Tracker("pods", label_selector=["app=web"]),
        TypeError,
        "label_selector=",
        "list-label-selector",
    ),
    case(
        lambda: kwait.Tracker("pods", field_selector={"a": "b"}),
        TypeError,
        "field_selector=",
        "dict-field-selector",
    ),
    case(
        lambda: kwait.Tracker("pods", "a", field_selector="metadata.name=b"),
        ValueError,
        "can never both match",
        "name-contradicts-field-selector",
    ),
    case(
        lambda: kwait.Tracker("pods", "a", field_selector="status.phase=Running,metadata.name!=a"),
        ValueError,
        "can never both match",
        "name-excluded-by-field-selector",
    ),
    case(lambda: kwait.Tracker(123), TypeError, "resource name such as 'pods'", "int-resource"),
    case(lambda: kwait.Tracker(""), ValueError, "empty", "empty-resource"),
    case(lambda: kwait.Tracker(" pods"), ValueError, "spaces", "spaced-resource"),
    case(kwait.Tracker, ValueError, "say what to track", "nothing-to-track"),
    case(
        lambda: kwait.Tracker({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "a"}}, "b"),
        ValueError,
        "contradicts",
        "name-contradicts-manifest",
    ),
    case(
        lambda: kwait.Tracker(
            {"kind": "Pod", "apiVersion": "v1", "metadata": {"namespace": "Bad!"}}
        ),
        ValueError,
        "metadata.namespace",
        "bad-manifest-namespace",
    ),
    case(
        lambda: kwait.Tracker("pods", api_client=object()),
        TypeError,
        "api_client=",
        "object-api-client",
    ),
    case(
        lambda: kwait.Tracker("pods", api_client="http://127.0.0.1"),
        TypeError,
        "ApiClient",
        "url-api-client",
    ),
    case(lambda: kwait.Tracker("pods", clock=math), TypeError, "clock= .*'math'", "module-clock"),
    case(lambda: kwait.Tracker("pods", clock=FakeClock), TypeError, "add \\(\\)", "class-clock"),
    case(lambda: kwait.Tracker("pods", max_bytes=-1), ValueError, "max_bytes=", "negative-budget"),
    case(lambda: kwait.Tracker("pods", max_bytes=1.5), TypeError, "max_bytes=", "float-budget"),
    case(
        lambda: kwait.Tracker("pods", server_timeout_seconds=0),
        ValueError,
        "server_timeout_seconds",
        "zero-server-timeout",
    ),
    case(lambda: kwait.Tracker("pods", backoff="exp"), TypeError, "backoff=", "str-backoff"),
    case(lambda: kwait.Tracker(source=object()), TypeError, "source=", "object-source"),
    case(
        lambda: kwait.Tracker("pods", start_timeout=0),
        ValueError,
        "start_timeout",
        "zero-start-timeout",
    ),
    case(
        lambda: kwait.Tracker("pods", start_timeout=math.nan),
        ValueError,
        "finite",
        "nan-start-timeout",
    ),
    case(
        lambda: kwait.Tracker("pods", start_timeout="5"),
        TypeError,
        "start_timeout",
        "str-start-timeout",
    ),
    case(
        lambda: kwait.track("pods", max_bytes=None),
        TypeError,
        "max_bytes",
        "none-budget-via-track",
    ),
]

WAIT_CASES = [
    case(waits(123), TypeError, r"until=.*got 123", "int-until"),
    case(waits("condition=Ready", name=5), TypeError, "name=", "int-wait-name"),
    case(waits([]), ValueError, "at least one condition", "empty-until"),
    case(waits({"condition": "Ready"}), TypeError, "until=", "dict-until"),
    case(waits("deleted"), ValueError, "did you mean 'delete'", "deleted"),
    case(waits(" delete "), ValueError, "spaces around it; did you mean 'delete'", "spaced-delete"),
    case(waits("created"), ValueError, "did you mean 'create'", "created"),
    case(waits("condition="), ValueError, "condition type is empty", "empty-condition"),
    case(
        waits("condition=Ready="),
        ValueError,
        "status after the second '=' is empty",
        "empty-status",
    ),
    case(waits("condition=Ready=yes"), ValueError, "can never match", "impossible-status"),
    case(
        waits("Condition=Ready"), ValueError, "did you mean 'condition=Ready'", "capital-condition"
    ),
    case(waits("Ready"), ValueError, "did you mean 'condition=Ready'", "bare-type"),
    case(waits("condition:Ready"), ValueError, "did you mean 'condition=Ready'", "colon-condition"),
    case(waits(""), ValueError, "accepted forms", "empty-for"),
    case(waits("jsonpath="), errors.JSONPathError, "cannot be empty", "empty-jsonpath"),
    case(
        waits("jsonpath={.status.phase}="),
        errors.JSONPathError,
        "value after equal sign",
        "jsonpath-no-value",
    ),
    case(waits("jsonpath={.a}=b=c"), errors.JSONPathError, "wait format", "jsonpath-two-values"),
    case(
        waits('jsonpath={.status.conditions[?(@.type=="A"||@.type=="B")].status}=True'),
        errors.JSONPathError,
        "U\\+007C",
        "jsonpath-or",
    ),
    case(
        waits('jsonpath={.status.conditions[?(@.type=="A" && @.status=="B")]}'),
        errors.JSONPathError,
        "U\\+0026",
        "jsonpath-and",
    ),
    case(
        waits("jsonpath={=True"),
        errors.JSONPathError,
        "unexpected path string",
        "jsonpath-unclosed",
    ),
    case(waits(states.phase()), TypeError, r"\.equals\(value\)", "state-as-until"),
    case(
        waits(["delete", "condition=Ready"], order="together"),
        ValueError,
        "cannot be combined",
        "delete-together",
    ),
    case(waits("condition=Ready", order="parallel"), ValueError, "order=", "bad-order"),
    case(
        waits("condition=Ready", timeout="30"), TypeError, "timeout must be a number", "str-timeout"
    ),
    case(
        waits("condition=Ready", timeout=-1), ValueError, "must not be negative", "negative-timeout"
    ),
    case(waits("condition=Ready", timeout=math.nan), ValueError, "nan", "nan-timeout"),
    case(
        waits("condition=Ready", timeout=kwait.Deadline.after(5)),
        ValueError,
        "same clock",
        "deadline-on-other-clock",
    ),
    case(
        lambda: scripted().wait_for("condition=Ready", timeout=5),
        kwait.KwaitError,
        "never started",
        "tracker-not-started",
    ),
    case(
        lambda: kwait.wait_for(scripted(), until="condition=Ready"),
        kwait.KwaitError,
        "never started",
        "one-call-on-unstarted-tracker",
    ),
    case(
        lambda: scripted().expect_transitions(states.phase(), ["Running"]),
        kwait.KwaitError,
        "never started",
        "transitions-not-started",
    ),
    case(
        lambda: scripted().expect_count(kwait.Changes.generation(), exactly=1),
        kwait.KwaitError,
        "never started",
        "count-not-started",
    ),
    case(
        one_call(kwait.wait_for, until="condition=Ready", act="create_pod"),
        TypeError,
        "act=",
        "act-not-callable",
    ),
    case(
        one_call(kwait.expect_transitions, state=states.phase(), pattern=("Pending", "Running")),
        TypeError,
        "is a tuple",
        "tuple-pattern",
    ),
    case(
        one_call(kwait.expect_transitions, state=123, pattern=["Running"]),
        TypeError,
        "callable",
        "int-state",
    ),
    case(
        one_call(kwait.expect_never, condition=5, during=1),
        TypeError,
        "condition=",
        "int-never-condition",
    ),
    case(
        one_call(kwait.expect_never, condition="condition=Ready", during="5"),
        TypeError,
        "during",
        "str-during",
    ),
    case(
        one_call(kwait.expect_consistently, condition="condition=Ready", during=-1),
        ValueError,
        "during must not be negative",
        "negative-during",
    ),
    case(
        one_call(kwait.expect_count, changes=kwait.Changes.generation(), exactly=-1),
        ValueError,
        "exactly=",
        "negative-exactly",
    ),
    case(
        one_call(kwait.expect_count, changes=kwait.Changes.generation(), exactly=1.5),
        TypeError,
        "exactly=",
        "float-exactly",
    ),
    case(
        one_call(kwait.expect_count, changes=kwait.Changes.generation(), exactly=1, at_least=1),
        ValueError,
        "not both",
        "exactly-and-at-least",
    ),
    case(
        one_call(kwait.expect_count, changes=kwait.Changes.generation()),
        ValueError,
        "give exactly",
        "no-count",
    ),
    case(
        one_call(kwait.expect_count, changes=kwait.Changes.generation(), at_least=3, at_most=1),
        ValueError,
        "below",
        "inverted-count",
    ),
]

PATTERN_CASES = [
    case(lambda: kwait.exactly(1.5, "x"), TypeError, "whole number", "float-exactly"),
    case(lambda: kwait.exactly(-1, "x"), ValueError, "bad count bounds", "negative-exactly"),
    case(lambda: kwait.at_least(True, "x"), TypeError, "whole number", "bool-at-least"),  # noqa: FBT003
    case(lambda: kwait.at_most("2", "x"), TypeError, "whole number", "str-at-most"),
    case(lambda: kwait.between(3, 2, "x"), ValueError, "bad repetition bounds", "inverted-between"),
    case(kwait.one_of, ValueError, "at least one value", "empty-one-of"),
    case(lambda: kwait.matches("Err["), ValueError, "not a valid regular expression", "bad-regex"),
    case(lambda: kwait.matches(5), TypeError, "regular expression string", "int-regex"),
    case(lambda: kwait.consecutive("1", "1"), ValueError, "can never match", "consecutive-repeat"),
    case(
        lambda: kwait.consecutive("a", kwait.at_least(2, "b")),
        ValueError,
        "can never match",
        "consecutive-at-least-2",
    ),
    case(lambda: kwait.in_order(("a", "b")), TypeError, "is a tuple", "tuple-element"),
    case(lambda: kwait.in_order({"a", "b"}), TypeError, "is a set", "set-element"),
    case(kwait.in_order, ValueError, "at least one element", "empty-in-order"),
    case(lambda: kwait.any_of("a"), ValueError, "at least two alternatives", "single-any-of"),
    case(
        lambda: kwait.in_order(states.condition("Ready")),
        TypeError,
        "tests whole objects",
        "object-predicate-element",
    ),
    case(lambda: kwait.in_order(states.phase()), TypeError, "state function", "state-element"),
    case(lambda: kwait.never(kwait.in_order("a")), TypeError, "pattern", "pattern-in-never"),
    case(lambda: kwait.in_order("a").without(), ValueError, "at least one state", "empty-without"),
]

STATE_CASES = [
    case(lambda: states.field(123), TypeError, "a field path is a dotted string", "int-field"),
    case(lambda: states.field(""), ValueError, "cannot be empty", "empty-field"),
    case(
        lambda: states.field_equals(("a", None), 1), TypeError, "field path", "none-in-field-path"
    ),
    case(lambda: kwait.Identity.of("web-0"), TypeError, "Kubernetes object", "str-identity"),
    case(lambda: states.condition(123), TypeError, "condition type is a string", "int-condition"),
    case(lambda: states.condition(""), ValueError, "empty", "empty-condition"),
    case(
        lambda: states.condition("Ready=false"),
        ValueError,
        "condition\\('Ready', 'false'\\)",
        "condition-with-equals",
    ),
    case(lambda: states.condition(" Ready"), ValueError, "spaces", "spaced-condition"),
    case(
        lambda: states.condition("Ready", "yes"), ValueError, "can never match", "impossible-status"
    ),
    case(lambda: states.condition("Ready", 1), TypeError, "condition status", "int-status"),
    case(
        lambda: states.condition_status(None), TypeError, "condition type", "none-condition-status"
    ),
    case(lambda: states.waiting_reason(1), TypeError, "container=", "int-container"),
    case(lambda: states.restart_count("app", init="yes"), TypeError, "init=", "str-init"),
    case(
        lambda: states.jsonpath(123), TypeError, "JSONPath expression is a string", "int-jsonpath"
    ),
    case(lambda: states.jsonpath(""), errors.JSONPathError, "cannot be empty", "empty-jsonpath"),
    case(
        lambda: states.jsonpath("{.a}{.b}"),
        errors.JSONPathError,
        "unexpected path string",
        "two-paths",
    ),
    case(
        lambda: states.jsonpath("{.a}", ""),
        errors.JSONPathError,
        "value after equal sign",
        "empty-value",
    ),
    case(lambda: states.jsonpath_value(None), TypeError, "JSONPath", "none-jsonpath-value"),
    case(lambda: states.parse_for(5), TypeError, "--for condition is a string", "int-parse-for"),
    case(
        lambda: states.parse_for("cond=invalid"),
        ValueError,
        'unrecognized condition: "cond=invalid"',
        "kubectl-unrecognized",
    ),
    case(lambda: states.state(123), TypeError, "callable", "int-state"),
    case(lambda: states.predicate("x"), TypeError, "callable", "str-predicate"),
    case(lambda: states.State(len, 5), TypeError, "description=", "int-description"),
    case(
        lambda: states.phase().equals("Running") & 5,
        TypeError,
        "callable",
        "predicate-and-int",
    ),
]


def _raising_state(obj: Any) -> Any:
    """VM phase."""
    return obj["status"]["printableStatus"]


def _user_function_in_wait() -> object:
    with scripted([pod(rv=7)]) as tracker:
        return tracker.wait_for(lambda obj: obj["status"]["missing"], timeout=5)


def _user_function_in_transitions() -> object:
    with scripted([pod(rv=8)]) as tracker:
        return tracker.expect_transitions(_raising_state, ["Running"], timeout=5)


def _user_function_in_count() -> object:
    with scripted([pod(rv=9)]) as tracker:
        return tracker.expect_count(kwait.Changes.of(_raising_state), exactly=0, sync=False)


def _idle_tracker() -> object:
    # Without autojump nothing advances this clock: the wait could never time out.
    with scripted(clock=FakeClock()) as tracker:
        return tracker.wait_for("condition=Ready", timeout=10)


STATE_FUNCTION_CASES = [
    case(
        _user_function_in_wait,
        errors.StateFunctionError,
        r"KeyError\('missing'\) on pod/ci/vm .* resourceVersion 7",
        "predicate-raises",
    ),
    case(
        _user_function_in_transitions,
        errors.StateFunctionError,
        r"'VM phase' .*resourceVersion 8",
        "state-raises",
    ),
    case(
        _user_function_in_count,
        errors.StateFunctionError,
        r"'VM phase' .*resourceVersion 9",
        "counted-state-raises",
    ),
]

CLOCK_CASES = [
    case(lambda: FakeClock().sleep(5), errors.ClockStallError, "would never end", "lone-sleep"),
    case(_idle_tracker, errors.ClockStallError, "would never end", "tracker-on-idle-clock"),
    case(lambda: FakeClock(start="0"), TypeError, "start=", "str-start"),
    case(lambda: FakeClock(autojump="yes"), TypeError, "autojump=", "str-autojump"),
    case(lambda: FakeClock(idle_timeout=-1), ValueError, "idle_timeout", "negative-idle"),
    case(lambda: FakeClock(stall_timeout="1"), TypeError, "stall_timeout", "str-stall"),
    case(lambda: FakeClock().advance(-1), ValueError, "non-negative", "negative-advance"),
    case(lambda: FakeClock().sleep(math.inf), ValueError, "finite", "infinite-sleep"),
    case(lambda: kwait.SystemClock().sleep(-1), ValueError, "non-negative", "negative-real-sleep"),
    case(lambda: kwait.Deadline.after("5"), TypeError, "timeout must be a number", "str-deadline"),
    case(lambda: RetryPolicy(backoff="exp"), TypeError, "backoff=", "str-retry-backoff"),
    case(lambda: kwait.Deadline.after(5, clock=math), TypeError, "clock=", "module-deadline-clock"),
    case(
        lambda: ExponentialBackoff(initial="1"),
        TypeError,
        "initial must be a number",
        "str-initial",
    ),
    case(lambda: FakeApiServer(epoch="2020"), TypeError, "epoch=", "str-epoch"),
    case(lambda: scripted().timeline(5), TypeError, "name=", "int-timeline-name"),
    case(lambda: RetryPolicy(max_attempts=0), ValueError, "max_attempts", "zero-attempts"),
    case(lambda: RetryPolicy(timeout="5"), TypeError, "timeout=", "str-retry-timeout"),
    case(
        lambda: RetryPolicy(respect_retry_after="no"),
        TypeError,
        "respect_retry_after",
        "str-respect",
    ),
]

TESTING_CASES = [
    case(
        lambda: Faults().fail_next(status=200),
        ValueError,
        "status= must be at least 400",
        "fail-with-200",
    ),
    case(lambda: Faults().fail_next(status="500"), TypeError, "status=", "str-status"),
    case(lambda: Faults().fail_next(count=0), ValueError, "count=", "zero-count"),
    case(lambda: Faults().fail_next(verb="FETCH"), ValueError, "verb=", "unknown-verb"),
    case(lambda: Faults().fail_next(path="["), ValueError, "regular expression", "bad-path-regex"),
    case(
        lambda: Faults().fail_next(retry_after=-1),
        ValueError,
        "retry_after=",
        "negative-retry-after",
    ),
    case(
        lambda: Faults().drop_watch(after_events=-1),
        ValueError,
        "after_events=",
        "negative-after-events",
    ),
    case(lambda: Faults().expire_watch(count=-2), ValueError, "count=", "negative-expire-count"),
    case(lambda: Faults().delay(-1), ValueError, "seconds=", "negative-delay"),
    case(lambda: event("UPSERT", {}), ValueError, "not one a watch sends", "upsert-event"),
    case(lambda: event("ADDED", "pod"), TypeError, "Kubernetes object", "str-event-object"),
    case(lambda: ScriptedSource(math), TypeError, "clock=", "module-source-clock"),
    case(lambda: Pause(-1), ValueError, "seconds=", "negative-pause"),
    case(
        lambda: ScriptedSource(FakeClock()).add_watch("ADDED"), TypeError, "watch step", "str-step"
    ),
    case(lambda: ScriptedSource(FakeClock()).add_list("x", "1"), TypeError, "items=", "str-items"),
    case(
        lambda: ScriptedSource(FakeClock()).add_list([], 1),
        TypeError,
        "resource_version=",
        "int-list-rv",
    ),
    case(lambda: FakeApiServer(port=70000), ValueError, "port=", "port-out-of-range"),
    case(lambda: FakeApiServer(port="80"), TypeError, "port=", "str-port"),
    case(lambda: FakeApiServer(clock=math), TypeError, "clock=", "module-server-clock"),
    case(
        lambda: FakeApiServer(bookmark_interval=0),
        ValueError,
        "bookmark_interval",
        "zero-bookmarks",
    ),
]


def _port_in_use() -> object:
    with FakeApiServer(kubelet=False) as first:
        port = int(first.url.rsplit(":", 1)[1])
        FakeApiServer(kubelet=False, port=port).start()
    return None


def _kubeconfig(tmp: Path, text: str) -> str:
    path = tmp / "kubeconfig"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _load(text: str | None) -> Callable[[Path], object]:
    def run(tmp: Path) -> object:
        from kwait._watch import kube  # noqa: PLC0415 - the adapter, as the tracker uses it

        path = str(tmp / "missing") if text is None else _kubeconfig(tmp, text)
        return kube.api_client_from(path)

    return run


CONFIG_CASES = [
    pytest.param(_load(None), "the file does not exist", id="missing-kubeconfig"),
    pytest.param(
        _load("a: [b"), r"kubeconfig .*kubeconfig: cannot read it: ParserError", id="malformed-yaml"
    ),
    pytest.param(_load("just text"), "not a kubeconfig", id="not-a-mapping"),
    pytest.param(
        _load("apiVersion: v1\nkind: Config\ncurrent-context: nope\ncontexts: []\n"),
        r"\(context 'nope'\)",
        id="missing-context",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), TRACKER_CASES + PATTERN_CASES + STATE_CASES)
@pytest.mark.usefixtures("no_thread_left")
def test_construction_refuses_bad_input(
    call: Callable[[], object], error: type[BaseException], match: str
) -> None:
    """A bad argument is a TypeError/ValueError at the call that names it and what it got."""
    _, raised = outcome(call)
    assert isinstance(raised, error), repr(raised)
    assert re.search(match, str(raised)), str(raised)


@pytest.mark.parametrize(
    ("call", "error", "match"), WAIT_CASES + STATE_FUNCTION_CASES + CLOCK_CASES + TESTING_CASES
)
@pytest.mark.usefixtures("no_thread_left")
def test_waits_and_test_doubles_refuse_bad_input(
    call: Callable[[], object], error: type[BaseException], match: str
) -> None:
    """Waits, clocks and test doubles fail fast in words, with no hang and no thread left."""
    _, raised = outcome(call)
    assert isinstance(raised, error), repr(raised)
    assert re.search(match, str(raised)), str(raised)


@pytest.mark.usefixtures("no_thread_left")
def test_a_port_in_use_says_so() -> None:
    """A taken port is a KwaitError naming the address and the way out, not a raw OSError."""
    _, raised = outcome(_port_in_use)
    assert isinstance(raised, kwait.KwaitError)
    assert re.search(r"cannot listen on 127\.0\.0\.1:\d+: .*port=0", str(raised))


@pytest.mark.parametrize(("load", "match"), CONFIG_CASES)
@pytest.mark.usefixtures("no_thread_left")
def test_a_bad_kubeconfig_is_a_config_error(
    load: Callable[[Path], object], match: str, tmp_path: Path
) -> None:
    """A kubeconfig that cannot be used is a ConfigError naming the file: not retried."""
    _, raised = outcome(lambda: load(tmp_path))
    assert isinstance(raised, errors.ConfigError), repr(raised)
    assert not isinstance(raised, kwait.ConnectionLostError)
    assert re.search(match, str(raised)), str(raised)
    assert "\n" not in str(raised)


@pytest.mark.usefixtures("no_thread_left")
def test_a_tracker_without_configuration_fails_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No kubeconfig and no service account: ConfigError at start, no thread left behind."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nowhere"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    _, raised = outcome(lambda: kwait.Tracker("pods", "vm").start())
    assert isinstance(raised, errors.ConfigError), repr(raised)
    assert "nowhere" in str(raised)


# ---------------------------------------------------------------- answers not from an API server


class _Answer:
    """What urllib3 returns, for an answer that is an HTML page."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.reason = "Bad Gateway"
        self.headers: dict[str, str] = {}
        self._body = body

    def read(self) -> bytes:
        return self._body

    def release_conn(self) -> None:
        """Nothing to release."""


class _Pool:
    def __init__(self, answer: _Answer) -> None:
        self.answer = answer

    def request(self, *_args: Any, **_kwargs: Any) -> _Answer:
        return self.answer


PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 3000 + b"</body>"


def _http_answering(status: int, body: bytes = PAGE) -> Any:
    from kwait._watch import kube  # noqa: PLC0415

    client = k8s.ApiClient()
    client.rest_client.pool_manager = _Pool(_Answer(status, body))
    return kube.KubeHttp(client)


@pytest.mark.parametrize("status", [200, 502])
def test_an_html_answer_reads_as_one_line(status: int) -> None:
    """A proxy's HTML page becomes one short line that says what it is, not 3,000 characters."""
    http = _http_answering(status)
    with pytest.raises(kwait.KwaitError) as raised:
        http.get_json("/api/v1/pods", None, request="LIST pods")
    text = str(raised.value)
    assert 'HTML page titled "502 Bad Gateway"' in text
    assert len(text) < 300
    assert "\n" not in text


def test_a_json_answer_that_is_not_an_object_is_named() -> None:
    """``[1, 2]`` from some other JSON server is said to be that, not an AttributeError."""
    http = _http_answering(200, b"[1, 2]")
    with pytest.raises(
        kwait.ConnectionLostError, match=r"JSON but not a Kubernetes object: \[1, 2\]"
    ):
        http.get_json("/api/v1/pods", None, request="LIST pods")


# ---------------------------------------------------------------- accepted, and right


def test_model_objects_are_read_as_their_json() -> None:
    """A V1Pod works wherever a raw object does: in states and as what to track."""
    model = k8s.V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=k8s.V1ObjectMeta(name="web-0", namespace="ci", uid="u-9"),
        status=k8s.V1PodStatus(
            phase="Running", conditions=[k8s.V1PodCondition(type="Ready", status="True")]
        ),
    )
    assert states.phase()(model) == "Running"
    assert states.condition("Ready")(model) is True
    assert states.jsonpath("{.metadata.name}=web-0")(model) is True
    tracker = kwait.Tracker(model)
    assert (tracker.name, tracker.namespace, tracker.uid) == ("web-0", "ci", "u-9")
    assert kwait.Identity.of(model) == kwait.Identity("u-9", "web-0", "ci", "Pod")


def test_an_api_object_gives_its_client() -> None:
    """``api_client=CoreV1Api(client)`` means the client inside it."""
    client = k8s.ApiClient()
    assert kwait.Tracker("pods", api_client=k8s.CoreV1Api(client)).api_client is client


def test_kubectl_prefixes_and_escapes_are_understood() -> None:
    """``--for=condition=Ready`` and kubectl's escaped dots read as kubectl reads them."""
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert states.parse_for("--for=condition=Ready")(ready) is True
    labelled = {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}}
    assert states.jsonpath(r"{.metadata.labels.app\.kubernetes\.io/name}=web")(labelled) is True
    assert states.jsonpath(r"{.metadata.labels.app\.kubernetes\.io/name}=db")(labelled) is False


@pytest.mark.usefixtures("no_thread_left")
def test_a_huge_timeout_waits_instead_of_overflowing() -> None:
    """``timeout=1e10`` on real time means "as long as it takes", not OverflowError."""

    def run() -> object:
        source = ScriptedSource(kwait.SystemClock(), "pods in namespace 'ci'")
        source.add_list([pod(ready=False)], "10")
        source.add_watch(event("MODIFIED", pod(rv=11, ready=True)), Hang())
        with kwait.Tracker(source=source, name="vm") as tracker:
            return tracker.wait_for("condition=Ready", timeout=1e10)

    result, raised = outcome(run)
    assert raised is None, repr(raised)
    assert isinstance(result, list)
    assert len(result) == 1


@pytest.mark.usefixtures("no_thread_left")
def test_a_missing_namespace_is_named_in_the_timeout() -> None:
    """A wait in a namespace that does not exist says so instead of a bare timeout."""

    def run() -> object:
        from kwait._watch import kube  # noqa: PLC0415

        with FakeApiServer(kubelet=False) as server:
            client = kube.api_client_from(server.kubeconfig_dict())
            return kwait.wait_for(
                "configmaps",
                "settings",
                namespace="nope",
                until="create",
                timeout=0,
                api_client=client,
            )

    _, raised = outcome(run)
    assert isinstance(raised, kwait.WaitTimeoutError), repr(raised)
    assert "namespace 'nope' does not exist" in str(raised)


@pytest.mark.usefixtures("no_thread_left")
def test_the_context_namespace_is_the_default() -> None:
    """With no namespace=, the kubeconfig context's namespace is used, as kubectl does."""

    def run() -> object:
        from kwait._watch import kube  # noqa: PLC0415

        with FakeApiServer(kubelet=False) as server:
            client = kube.api_client_from(server.kubeconfig_dict(namespace="kube-system"))
            with kwait.track("configmaps", api_client=client) as tracker:
                return tracker.describe()

    result, raised = outcome(run)
    assert raised is None, repr(raised)
    assert "in namespace 'kube-system'" in str(result)


def test_steps_and_drops_still_script() -> None:
    """The checks accept every valid script step (a regression guard for the validation)."""
    source = ScriptedSource(FakeClock())
    source.add_watch(event("ADDED", pod()), Pause(0), Drop(), Hang())
    source.add_list([pod()], "10")
    assert source.list().resource_version == "10"


def test_a_retry_policy_with_a_backoff_is_accepted() -> None:
    """A real backoff passes the new check."""
    assert RetryPolicy(backoff=ExponentialBackoff(initial=1)).max_attempts == 6


def test_there_are_at_least_a_hundred_bad_inputs() -> None:
    """The acceptance bar: at least 100 bad inputs through the public API."""
    total = (
        len(TRACKER_CASES)
        + len(WAIT_CASES)
        + len(PATTERN_CASES)
        + len(STATE_CASES)
        + len(STATE_FUNCTION_CASES)
        + len(CLOCK_CASES)
        + len(TESTING_CASES)
        + len(CONFIG_CASES)
        + 3  # port in use, no configuration, HTML answers
    )
    assert total >= 100
