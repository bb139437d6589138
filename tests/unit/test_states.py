"""Tests of internals: `as_state`, `as_predicate` and `same_value` alongside the public states.

State functions read raw pod and Deployment JSON the way kubectl and the kubelet mean it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kwait._match.states import as_predicate, as_state, same_value
from kwait.errors import JSONPathError
from kwait.states import (
    DELETED,
    Predicate,
    State,
    condition,
    condition_status,
    container_state,
    deleted,
    exists,
    field,
    field_equals,
    generation_observed,
    image,
    image_id,
    jsonpath,
    jsonpath_value,
    parse_for,
    phase,
    predicate,
    restart_count,
    rollout_complete,
    rollout_status,
    state,
    terminated_reason,
    waiting_reason,
)

Obj = dict[str, Any]
T0 = "2025-01-01T00:00:0"


def cond(type_: str, status: str, second: int, reason: str = "", **extra: Any) -> Obj:
    """Return a pod condition as the kubelet writes it."""
    out: Obj = {
        "type": type_,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": f"{T0}{second}Z",
    }
    if reason:
        out["reason"] = reason
    out.update(extra)
    return out


def app_status(
    state_: Obj, *, ready: bool = False, restarts: int = 0, last: Obj | None = None
) -> Obj:
    """Return the status of the container ``app``."""
    running = "running" in state_
    return {
        "name": "app",
        "state": state_,
        "lastState": last or {},
        "ready": ready,
        "restartCount": restarts,
        "image": "docker.io/library/nginx:1.27" if running else "nginx:1.27",
        "imageID": "docker.io/library/nginx@sha256:0a1b2c" if running else "",
        "started": running,
        **({"containerID": "containerd://7f3c"} if running else {}),
    }


def pod(step: int) -> Obj:
    """Return the pod at step `step` of the canonical happy path (1..6)."""
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "7c1e0f4a-0000-4000-8000-000000000001",
            "resourceVersion": str(100 + step),
            "generation": 1,
        },
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}], "restartPolicy": "Never"},
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }
    status = obj["status"]
    if step >= 2:
        obj["spec"]["nodeName"] = "node-1"
        status["conditions"] = [cond("PodScheduled", "True", 0)]
    if step >= 3:
        status["conditions"] = [
            cond("PodReadyToStartContainers", "False", 1),
            cond("Initialized", "True", 1),
            cond("Ready", "False", 1, "ContainersNotReady"),
            cond("ContainersReady", "False", 1, "ContainersNotReady"),
            cond("PodScheduled", "True", 0),
        ]
        status["containerStatuses"] = [
            app_status({"waiting": {"reason": "ContainerCreating"}}),
        ]
    if step >= 4:
        status["conditions"][0] = cond("PodReadyToStartContainers", "True", 3)
        status["podIP"] = "10.244.1.7"
    if step >= 5:
        status["phase"] = "Running"
        status["conditions"][2] = cond("Ready", "True", 5)
        status["conditions"][3] = cond("ContainersReady", "True", 5)
        status["containerStatuses"] = [
            app_status({"running": {"startedAt": f"{T0}4Z"}}, ready=True),
        ]
    if step >= 6:
        status["phase"] = "Succeeded"
        status["conditions"][2] = cond("Ready", "False", 6, "PodCompleted")
        status["containerStatuses"] = [
            app_status({"terminated": {"reason": "Completed", "exitCode": 0}}),
        ]
    return obj


def pulling(reason: str, *, init: bool = False) -> Obj:
    """Return a pod whose image pull fails (ErrImagePull or ImagePullBackOff)."""
    message = {
        "ErrImagePull": 'failed to pull and unpack image "docker.io/library/nginx:nope"',
        "ImagePullBackOff": 'Back-off pulling image "nginx:nope"',
    }[reason]
    obj = pod(3)
    waiting = {"waiting": {"reason": reason, "message": message}}
    if init:
        obj["spec"]["initContainers"] = [{"name": "setup", "image": "nginx:nope"}]
        obj["status"]["initContainerStatuses"] = [{**app_status(waiting), "name": "setup"}]
        obj["status"]["containerStatuses"] = [
            app_status({"waiting": {"reason": "PodInitializing"}}),
        ]
    else:
        obj["status"]["containerStatuses"] = [app_status(waiting)]
    return obj


def crashing(restarts: int) -> Obj:
    """Return a pod in CrashLoopBackOff after `restarts` restarts (restartPolicy Always)."""
    obj = pod(5)
    obj["spec"]["restartPolicy"] = "Always"
    obj["status"]["conditions"][2] = cond("Ready", "False", 7, "ContainersNotReady")
    obj["status"]["containerStatuses"] = [
        app_status(
            {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 10s restarting failed container=app pod=web_default(u)",
                }
            },
            restarts=restarts,
            last={"terminated": {"reason": "Error", "exitCode": 1}},
        ),
    ]
    return obj


def deployment(**status: Any) -> Obj:
    """Return a Deployment of 3 replicas at generation 2 with the given status fields."""
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", "generation": 2},
        "spec": {"replicas": 3},
        "status": {"observedGeneration": 2, **status},
    }


# ---------------------------------------------------------------- pods


def test_phase_follows_the_happy_path_and_ends_terminal() -> None:
    """Phase is Pending until the container runs, then Running, then Succeeded, which is final."""
    assert [phase()(pod(s)) for s in range(1, 7)] == [
        "Pending",
        "Pending",
        "Pending",
        "Pending",
        "Running",
        "Succeeded",
    ]
    assert not phase().is_terminal(pod(5))
    assert phase().is_terminal(pod(6))
    failed = pod(5)
    failed["status"]["phase"] = "Failed"
    assert phase().is_terminal(failed)


def test_phase_of_a_pod_without_status_is_none() -> None:
    """A pod the server has not given a phase yet reads as None."""
    assert phase()({"kind": "Pod", "metadata": {"name": "x"}}) is None


def test_waiting_reason_cycles_between_pull_error_and_backoff() -> None:
    """The waiting reason follows ErrImagePull and ImagePullBackOff, and is None once running."""
    states = [pod(3), pulling("ErrImagePull"), pulling("ImagePullBackOff"), pulling("ErrImagePull")]
    assert [waiting_reason()(p) for p in states] == [
        "ContainerCreating",
        "ErrImagePull",
        "ImagePullBackOff",
        "ErrImagePull",
    ]
    assert waiting_reason("app")(pulling("ImagePullBackOff")) == "ImagePullBackOff"
    assert waiting_reason()(pod(5)) is None
    assert waiting_reason("sidecar")(pulling("ErrImagePull")) is None


def test_init_container_reasons_are_read_separately() -> None:
    """A failing init container shows under init=True; the app container waits PodInitializing."""
    obj = pulling("ErrImagePull", init=True)
    assert waiting_reason(init=True)(obj) == "ErrImagePull"
    assert waiting_reason("setup", init=True)(obj) == "ErrImagePull"
    assert waiting_reason()(obj) == "PodInitializing"
    assert waiting_reason(init=True).description == "waiting reason of any init container"


def test_any_container_means_the_first_in_spec_order() -> None:
    """With several containers waiting for different reasons, spec order decides, not name order."""
    obj = pod(3)
    obj["spec"]["containers"] = [{"name": "zz-main"}, {"name": "aa-sidecar"}]
    obj["status"]["containerStatuses"] = [  # the server sorts statuses by name
        {"name": "aa-sidecar", "state": {"waiting": {"reason": "ErrImagePull"}}},
        {"name": "zz-main", "state": {"waiting": {"reason": "CreateContainerConfigError"}}},
    ]
    assert waiting_reason()(obj) == "CreateContainerConfigError"
    obj["status"]["containerStatuses"][1]["state"] = {"running": {}}
    assert waiting_reason()(obj) == "ErrImagePull"
    assert container_state()(obj) == "ErrImagePull"


def test_crash_loop_shows_reason_restart_count_and_last_exit() -> None:
    """CrashLoopBackOff is the waiting reason; restartCount grows; lastState holds the exit."""
    assert waiting_reason()(crashing(1)) == "CrashLoopBackOff"
    assert [restart_count()(crashing(n)) for n in (1, 2, 3)] == [1, 2, 3]
    assert restart_count("app")(crashing(2)) == 2
    assert terminated_reason()(crashing(2)) is None
    assert terminated_reason(last=True)(crashing(2)) == "Error"
    assert phase()(crashing(2)) == "Running"


def test_restart_count_sums_over_containers_and_starts_at_zero() -> None:
    """Without a name the count is the sum over containers; before any status it is 0."""
    obj = crashing(2)
    obj["status"]["containerStatuses"].append({"name": "b", "restartCount": 5})
    assert restart_count()(obj) == 7
    assert restart_count()(pod(1)) == 0
    assert restart_count().description == "total restart count of every container"


def test_terminated_reason_after_completion() -> None:
    """A container that exited 0 reads Completed, and container_state says the same."""
    assert terminated_reason()(pod(6)) == "Completed"
    assert terminated_reason("app")(pod(6)) == "Completed"
    assert [container_state()(pod(s)) for s in (1, 3, 5, 6)] == [
        None,
        "ContainerCreating",
        "Running",
        "Completed",
    ]
    assert container_state("app")(pod(5)) == "Running"


def test_image_and_image_id_come_from_the_container_status() -> None:
    """Before running, image is the spec string and imageID empty; then both are resolved."""
    assert image()(pod(3)) == "nginx:1.27"
    assert image_id()(pod(3)) == ""
    assert image("app")(pod(5)) == "docker.io/library/nginx:1.27"
    assert image_id("app")(pod(5)) == "docker.io/library/nginx@sha256:0a1b2c"
    assert image()(pod(1)) is None


# ---------------------------------------------------------------- conditions


def test_condition_ready_follows_the_happy_path() -> None:
    """Ready is True only at step 5; absent conditions read as not met."""
    assert [condition("Ready")(pod(s)) for s in range(1, 7)] == [
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    assert condition("Ready", "False")(pod(3))
    assert condition_status("Ready")(pod(6)) == "False"
    assert condition_status("Ready")(pod(1)) is None


def test_condition_type_and_status_are_case_insensitive() -> None:
    """Type and status compare without case, as kubectl wait does."""
    assert condition("ready")(pod(5))
    assert condition("READY", "true")(pod(5))
    assert condition("Ready", "FALSE")(pod(4))


def test_first_condition_of_a_type_decides() -> None:
    """A later duplicate entry of the same type is not consulted."""
    obj = pod(5)
    obj["status"]["conditions"].insert(0, cond("Ready", "False", 9))
    assert not condition("Ready")(obj)
    assert condition_status("Ready")(obj) == "False"


def test_entry_without_status_is_skipped() -> None:
    """An entry of the type with no status string is passed over, as kubectl does."""
    obj = pod(5)
    obj["status"]["conditions"].insert(0, {"type": "Ready"})
    assert condition("Ready")(obj)


def test_stale_condition_is_ignored() -> None:
    """A condition observed for an older generation does not count, from either source."""
    obj = pod(5)
    obj["metadata"]["generation"] = 3
    obj["status"]["conditions"][2]["observedGeneration"] = 2
    assert not condition("Ready")(obj)
    assert condition_status("Ready")(obj) is None
    obj["status"]["conditions"][2]["observedGeneration"] = 3
    assert condition("Ready")(obj)
    del obj["status"]["conditions"][2]["observedGeneration"]
    obj["status"]["observedGeneration"] = 2
    assert not condition("Ready")(obj)
    obj["status"]["observedGeneration"] = 3
    assert condition("Ready")(obj)


def test_condition_reads_deletion_as_not_met() -> None:
    """A condition of a deleted object is DELETED, which is falsy, and so is its negation."""
    assert condition("Ready")(DELETED) is DELETED
    assert (~condition("Ready"))(DELETED) is DELETED
    assert not condition("Ready")(DELETED)


def test_condition_words() -> None:
    """A condition reads like kubectl's flag in messages and like the call in reprs."""
    assert condition("Ready").description == "condition Ready=True"
    assert repr(condition("Ready")) == "condition('Ready')"
    assert repr(condition("Ready", "False")) == "condition('Ready', 'False')"


# ---------------------------------------------------------------- JSONPath


@pytest.mark.parametrize(
    "expr",
    [".status.phase", "status.phase", "{.status.phase}", "{status.phase}", "{$.status.phase}"],
)
def test_jsonpath_accepts_kubectls_relaxed_forms(expr: str) -> None:
    """Each relaxed spelling of the same path finds the phase."""
    assert jsonpath(expr, "Running")(pod(5))
    assert not jsonpath(expr, "Running")(pod(3))


def test_jsonpath_splits_value_on_single_equals_only() -> None:
    """``==`` inside a filter stays in the expression; the last single ``=`` starts the value."""
    ready = jsonpath('{.status.conditions[?(@.type=="Ready")].status}=True')
    assert ready(pod(5))
    assert not ready(pod(4))
    assert repr(ready) == "jsonpath('{.status.conditions[?(@.type==\"Ready\")].status}', 'True')"


def test_jsonpath_trims_quotes_and_spaces() -> None:
    """Quotes around the value are trimmed, and both sides are compared after trimming spaces."""
    assert jsonpath("{.status.phase}='Running'")(pod(5))
    assert jsonpath('{.status.phase}="Running"')(pod(5))
    obj = pod(5)
    obj["status"]["phase"] = " Running "
    assert jsonpath("{.status.phase}", "Running ")(obj)


def test_jsonpath_compares_numbers_and_booleans_as_kubectl_prints_them() -> None:
    """3 reads as "3", true as "true", 2.0 as "2"."""
    dep = deployment(readyReplicas=3, paused=True, ratio=2.0)
    assert jsonpath("{.status.readyReplicas}=3")(dep)
    assert jsonpath("{.status.readyReplicas}", 3)(dep)
    assert jsonpath("{.status.paused}=true")(dep)
    assert jsonpath("{.status.paused}", value=True)(dep)
    assert jsonpath("{.status.ratio}=2")(dep)
    assert not jsonpath("{.status.readyReplicas}=03")(dep)


def test_jsonpath_missing_or_null_field_is_not_met() -> None:
    """A missing field, or null, is "not met" rather than an error."""
    assert not jsonpath("{.status.podIP}=10.244.1.7")(pod(3))
    assert jsonpath("{.status.podIP}=10.244.1.7")(pod(4))
    assert not jsonpath("{.status.conditions[0].lastProbeTime}")(pod(3))


def test_jsonpath_without_value_matches_any_single_result() -> None:
    """With no value, any single result matches, even a list."""
    assert jsonpath("{.status.conditions}")(pod(3))
    assert jsonpath("{.spec.nodeName}")(pod(2))
    assert not jsonpath("{.spec.nodeName}")(pod(1))
    assert jsonpath("{.status.conditions}").description == "jsonpath {.status.conditions} is set"


def test_jsonpath_map_or_list_result_with_a_value_is_an_error() -> None:
    """Comparing a map or list with a value raises kubectl's error."""
    with pytest.raises(JSONPathError, match="nested object or list"):
        jsonpath("{.status.conditions}", "x")(pod(3))
    with pytest.raises(JSONPathError, match="nested object or list"):
        jsonpath("{.status}=x")(pod(3))


def test_jsonpath_more_than_one_result_is_an_error() -> None:
    """A path that matches several values raises kubectl's error."""
    with pytest.raises(JSONPathError, match="more than one value"):
        jsonpath("{.status.conditions[*].type}", "Ready")(pod(3))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{.status.phase}=", "has to have a value after equal sign"),
        ("{.status.phase}=''", "has to have a value after equal sign"),
        ("{.a}=b=c", "jsonpath wait format must be"),
        ("{{.a}}", "unexpected path string"),
        ("", "jsonpath expression cannot be empty"),
        ("{.status[}", "invalid jsonpath"),
    ],
)
def test_jsonpath_rejects_malformed_input(text: str, message: str) -> None:
    """Malformed expressions and empty values fail when the predicate is built."""
    with pytest.raises(JSONPathError, match=message):
        jsonpath(text)


def test_jsonpath_error_is_a_value_error() -> None:
    """Callers that catch ValueError for bad input also catch JSONPath errors."""
    with pytest.raises(ValueError, match="value after equal sign"):
        jsonpath("{.a}=")


def test_jsonpath_list_index_and_bracket_keys() -> None:
    """Indexes, negative indexes and quoted keys with dots work."""
    obj = pod(5)
    obj["metadata"]["labels"] = {"app.kubernetes.io/name": "web"}
    assert jsonpath("{.spec.containers[0].name}=app")(obj)
    assert jsonpath("{.status.conditions[-1].type}=PodScheduled")(obj)
    assert jsonpath("{.metadata.labels['app.kubernetes.io/name']}=web")(obj)


def test_jsonpath_value_reads_text_for_patterns() -> None:
    """jsonpath_value gives kubectl's text for scalars, compact JSON for maps, None if missing."""
    assert jsonpath_value("{.status.podIP}")(pod(4)) == "10.244.1.7"
    assert jsonpath_value("{.status.podIP}")(pod(3)) is None
    assert jsonpath_value(".spec.containers[0]")(pod(3)) == '{"image":"nginx:1.27","name":"app"}'
    assert jsonpath_value(".metadata.generation")(pod(3)) == "1"


# ---------------------------------------------------------------- fields, existence


def test_field_reads_dotted_paths_and_key_sequences() -> None:
    """Dotted paths with indexes and bracketed keys, or a key sequence, read raw values."""
    obj = pod(5)
    obj["metadata"]["labels"] = {"app.kubernetes.io/name": "web"}
    assert field("spec.containers[0].image")(obj) == "nginx:1.27"
    assert field("metadata.labels['app.kubernetes.io/name']")(obj) == "web"
    assert field(("metadata", "labels", "app.kubernetes.io/name"))(obj) == "web"
    assert field(("spec", "containers", 0, "name"))(obj) == "app"
    assert field(("spec", "containers", 5, "name"))(obj) is None
    assert field("status.nothing")(obj) is None
    assert field("status.containerStatuses[0].state")(obj) == {"running": {"startedAt": f"{T0}4Z"}}


def test_field_equals_is_type_strict() -> None:
    """3 equals 3, but not "3", and True is not 1."""
    dep = deployment(readyReplicas=3, paused=True)
    assert field_equals("status.readyReplicas", 3)(dep)
    assert not field_equals("status.readyReplicas", "3")(dep)
    assert not field_equals("status.paused", 1)(dep)
    assert field_equals(("status", "paused"), value=True)(dep)
    assert field_equals("status.readyReplicas", 3).description == "status.readyReplicas == 3"


def test_exists_and_deleted_read_the_deletion_sentinel() -> None:
    """Exists is True for any object and False when deleted; deleted is the opposite."""
    assert exists()(pod(1))
    assert exists()(DELETED) is False
    assert deleted()(DELETED) is True
    assert deleted()(pod(1)) is False
    assert (~exists())(DELETED) is True
    assert (exists() & condition("Ready"))(DELETED) is False
    assert (deleted() | condition("Ready"))(DELETED) is True


def test_generation_observed() -> None:
    """ObservedGeneration must reach generation; kinds without a generation count as observed."""
    assert generation_observed()(deployment())
    stale = deployment()
    stale["metadata"]["generation"] = 3
    assert not generation_observed()(stale)
    assert not generation_observed()({"metadata": {"generation": 1}, "status": {}})
    assert generation_observed()({"kind": "ConfigMap", "metadata": {"name": "c"}})


# ---------------------------------------------------------------- rollout


def test_rollout_status_walks_kubectls_messages() -> None:
    """Each stage of a rolling update reads as kubectl rollout status words it."""
    stale = deployment(replicas=3, updatedReplicas=3, availableReplicas=3)
    stale["status"]["observedGeneration"] = 1
    stages = [
        stale,
        deployment(replicas=4, updatedReplicas=1, availableReplicas=3),
        deployment(replicas=4, updatedReplicas=3, availableReplicas=3),
        deployment(replicas=3, updatedReplicas=3, availableReplicas=2),
        deployment(replicas=3, updatedReplicas=3, availableReplicas=3),
    ]
    assert [rollout_status()(d) for d in stages] == [
        "waiting for spec update to be observed",
        "1 out of 3 new replicas have been updated",
        "1 old replicas are pending termination",
        "2 of 3 updated replicas are available",
        "successfully rolled out",
    ]
    assert [rollout_complete()(d) for d in stages] == [False, False, False, False, True]


def test_progress_deadline_exceeded_is_terminal() -> None:
    """ProgressDeadlineExceeded makes the rollout final (not complete), so waits can fail fast."""
    stuck = deployment(
        replicas=4,
        updatedReplicas=1,
        conditions=[
            {"type": "Available", "status": "True"},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"},
        ],
    )
    assert rollout_status()(stuck) == "exceeded its progress deadline"
    assert rollout_status().is_terminal(stuck)
    assert rollout_complete().is_terminal(stuck)
    assert not rollout_complete()(stuck)
    moving = copy.deepcopy(stuck)
    moving["status"]["conditions"][1]["reason"] = "ReplicaSetUpdated"
    assert not rollout_complete().is_terminal(moving)


# ---------------------------------------------------------------- kubectl --for


@pytest.mark.parametrize(
    ("spec", "obj", "met"),
    [
        ("delete", DELETED, True),
        ("DELETE", pod(1), False),
        ("create", pod(1), True),
        ("condition=Ready", pod(5), True),
        ("condition=Ready=false", pod(4), True),
        ("condition=Ready=false", pod(5), False),
        ("jsonpath={.status.phase}=Running", pod(5), True),
        ("jsonpath={.spec.nodeName}", pod(1), False),
    ],
)
def test_parse_for_understands_kubectl_wait_forms(spec: str, obj: Any, met: bool) -> None:  # noqa: FBT001
    """Each ``--for`` form becomes the predicate kubectl would evaluate."""
    assert bool(parse_for(spec)(obj)) is met


def test_parse_for_rejects_unknown_forms() -> None:
    """An unknown --for value is an error with kubectl's wording."""
    with pytest.raises(ValueError, match='unrecognized condition: "ready"'):
        parse_for("ready")


# ---------------------------------------------------------------- user functions, composition


def test_plain_callable_gets_its_description_from_docstring_or_name() -> None:
    """A docstring's first line, or else the function name, describes a user state."""

    def vm_phase(obj: Obj) -> Any:
        """Phase of the VirtualMachineInstance.

        More text.
        """
        return obj["status"]["phase"]

    def printable(obj: Obj) -> Any:
        return obj["status"]["printableStatus"]

    assert as_state(vm_phase).description == "Phase of the VirtualMachineInstance"
    assert as_state(printable).description == "printable"
    assert as_state(phase()) is phase()
    with pytest.raises(TypeError, match="must be callable"):
        as_state("phase")  # type: ignore[arg-type]


def test_state_wrapper_carries_words_and_terminal_values() -> None:
    """state(fn, text, terminal=...) describes a custom state and knows its final values."""
    vmi = state(lambda o: o["status"]["phase"], "VMI phase", terminal={"Succeeded", "Failed"})
    assert vmi({"status": {"phase": "Running"}}) == "Running"
    assert vmi.description == "VMI phase"
    assert vmi.is_terminal({"status": {"phase": "Failed"}})
    assert not vmi.is_terminal({"status": {"phase": "Running"}})
    assert vmi(DELETED) is DELETED
    with pytest.raises(TypeError, match="not a string"):
        state(lambda o: o, "x", terminal="Failed")


def test_predicates_compose_with_words() -> None:
    """&, | and ~ combine predicates and their descriptions; plain callables join in."""
    scheduled = predicate(lambda o: "nodeName" in o["spec"], "scheduled")
    both = scheduled & condition("Ready")
    assert both(pod(5))
    assert not both(pod(3))
    assert both.description == "(scheduled and condition Ready=True)"
    either = condition("Ready") | scheduled
    assert either(pod(2))
    assert (~scheduled)(pod(1))
    assert (~scheduled).description == "not scheduled"
    mixed = (lambda o: o["status"]["phase"] == "Running") & condition("Ready")
    assert isinstance(mixed, Predicate)
    assert mixed(pod(5))


def test_state_equals_and_one_of_build_predicates() -> None:
    """A state turns into a predicate with equals/one_of, keeping its terminal knowledge."""
    running = phase().equals("Running")
    assert running(pod(5))
    assert running.description == "pod phase == 'Running'"
    assert running.is_terminal(pod(6))
    done = phase().one_of("Succeeded", "Failed")
    assert done(pod(6))
    assert not done(pod(5))


def test_composed_terminal_rules() -> None:
    """An "and" is final once a final operand is False; an "or" once a final operand is True."""
    running_and_ready = phase().equals("Running") & condition("Ready")
    assert running_and_ready.is_terminal(pod(6))  # Succeeded: never Running again
    assert not running_and_ready.is_terminal(pod(5))
    done_or_ready = phase().equals("Succeeded") | condition("Ready")
    assert done_or_ready.is_terminal(pod(6))


def test_as_predicate_refuses_a_non_boolean_state() -> None:
    """A state is not silently used as a truth value."""
    with pytest.raises(TypeError, match=r"use phase\(\)\.equals"):
        as_predicate(phase())
    assert isinstance(as_state(condition("Ready")), State)


def test_same_value_keeps_booleans_apart_from_numbers() -> None:
    """Pattern equality is ==, except that True is not 1 and False is not 0."""
    assert same_value(1, 1.0)
    assert not same_value(True, 1)  # noqa: FBT003
    assert not same_value(0, False)  # noqa: FBT003
    assert same_value(DELETED, DELETED)
