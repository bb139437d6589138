"""Failure signs: observations after which a wait can stop at once, with the reason.

A *sign* recognises, in one object's observations (and, for a few, its Events or
the passing of time), that the thing a test waits for is not going to happen:
a Job's ``Failed`` condition, a container stuck in ``InvalidImageName``, a pod
crash-looping for the N-th time. Waits take signs with ``fail_on=``; the
first one recognised ends the wait with `kwait.errors.FailureSignError`.

A sign is a factory of per-object *sign checks*: each object a wait judges
gets its own, fed every observation of that object. A check may keep state
across observations (counting pull attempts, remembering whether the pod was
ever Ready, when it was first unschedulable), may ask to be woken at a time
(`SignCheck.due`, for grace periods), and may read the object's Events
(`Sign.needs_events`; Events are not in the object's watch stream, so the
judging loop lists them when the check is due).

Every sign says whether the condition it recognises *might clear by itself*
(`Sign.might_clear`): a registry that comes back, a Secret created later by a
controller. Only signs that cannot are applied by ``fail_fast=True``.

>>> from kwait._watch.timeline import Recorder
>>> rec = Recorder(clock=None)
>>> job = {"kind": "Job", "metadata": {"name": "x", "uid": "u", "resourceVersion": "7"},
...        "status": {"conditions": [{"type": "Failed", "status": "True",
...                                   "reason": "BackoffLimitExceeded",
...                                   "message": "Job has reached the specified backoff limit"}]}}
>>> check = job_failed().start()
>>> print(check.observe(rec.add_observation("MODIFIED", job)).message)
Job condition Failed: BackoffLimitExceeded: Job has reached the specified backoff limit
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kwait._match.states import DELETED, Predicate, as_predicate, parse_for
from kwait._watch.timeline import Observation

__all__ = [
    "FAIL_FAST_ENV",
    "Hit",
    "Sign",
    "SignCheck",
    "as_sign",
    "as_signs",
    "catalogue",
    "completed_without_ready",
    "crash_loop",
    "create_container_config_error",
    "create_container_error",
    "defaults_for",
    "err_image_never_pull",
    "fail_fast_default",
    "image_pull_failing",
    "invalid_image_name",
    "job_failed",
    "job_failure_target",
    "named",
    "oom_killed",
    "pod_failed",
    "progress_deadline_exceeded",
    "provisioning_failed",
    "set_fail_fast_default",
    "unschedulable",
]

Obj = Mapping[str, Any]

FAIL_FAST_ENV = "KWAIT_FAIL_FAST"
"""The environment variable that turns ``fail_fast`` on for every wait (``1``, ``true``)."""

_override: list[bool | None] = [None]


def set_fail_fast_default(value: bool | None) -> None:  # noqa: FBT001 - a process-wide switch
    """Set the process-wide ``fail_fast`` default (None: back to the environment variable).

    The pytest option ``--kwait-fail-fast`` calls this.

    >>> set_fail_fast_default(True); fail_fast_default()
    True
    >>> set_fail_fast_default(None)
    """
    _override[0] = value


def fail_fast_default() -> bool:
    """What ``fail_fast=None`` means: the process default, else ``KWAIT_FAIL_FAST``.

    >>> import os
    >>> os.environ.get("KWAIT_FAIL_FAST") in (None, "", "0") or fail_fast_default()
    True
    """
    if _override[0] is not None:
        return _override[0]
    raw = os.environ.get(FAIL_FAST_ENV, "").strip().lower()
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Hit:
    """A sign recognised: which, why, and the observation that showed it.

    Attributes:
        sign: The sign's name (``invalid-image-name``, or a predicate's description).
        message: What was seen, e.g. ``container app InvalidImageName: ...``.
        entry: The observation that showed it (the latest one, for signs that
            fire on time or Events).
        time: When it was recognised, on the tracker's clock.

    >>> from kwait.watch import Recorder
    >>> from kwait.signs import pod_failed
    >>> pod = {"kind": "Pod", "metadata": {"name": "web-0", "uid": "u1", "resourceVersion": "9"},
    ...        "status": {"phase": "Failed"}}
    >>> hit = pod_failed().start().observe(Recorder(clock=None).add_observation("MODIFIED", pod))
    >>> hit.sign, hit.message, hit.entry.resource_version
    ('pod-failed', 'pod phase Failed', '9')
    """

    sign: str
    message: str
    entry: Observation
    time: float


class SignCheck:
    """One sign's check of one object; subclasses override what they read.

    `observe` is called with every observation of the object (a DELETED one
    too), `tick` when the clock reaches `due`, `events` with the object's
    Events when `due` has passed (for a sign that `needs_events`).

    >>> from kwait.signs import job_failed
    >>> check = job_failed().start()
    >>> check.test({"status": {"conditions": [{"type": "Complete", "status": "True"}]}}) is None
    True
    """

    def __init__(self, sign: Sign) -> None:
        self.sign = sign
        self.last: Observation | None = None
        self.now: float = 0.0  # the time of the observation being tested

    def observe(self, obs: Observation) -> Hit | None:
        """Take the next observation; return a `Hit` when the sign shows."""
        self.last = obs
        if obs.type == "DELETED" or obs.object is None:
            return self._deleted(obs) if obs.type == "DELETED" else None
        self.now = obs.time
        message = self.test(obs.object)
        return None if message is None else self.hit(message, obs.time)

    def _deleted(self, obs: Observation) -> Hit | None:
        del obs
        return None

    def test(self, obj: Obj) -> str | None:
        """Return the message when `obj` shows the sign (None otherwise)."""
        del obj
        return None

    def tick(self, now: float) -> Hit | None:
        """The clock reached `due`: return a `Hit` when the sign shows now."""
        del now
        return None

    def events(self, events: Sequence[Mapping[str, Any]], now: float) -> Hit | None:
        """Take the object's current Events (for signs that read them)."""
        del events, now
        return None

    def due(self) -> float | None:
        """The clock time at which `tick` (or a fetch of Events) is wanted, or None."""
        return None

    def hit(self, message: str, now: float) -> Hit | None:
        """Build the `Hit` for `message`, on the latest observation."""
        if self.last is None:
            return None
        return Hit(self.sign.name, message, self.last, now)


@dataclass(frozen=True)
class Sign:
    """A failure sign: a named, documented way to see that a wait cannot succeed.

    Attributes:
        name: The catalogue name (``crash-loop``), or a predicate's description.
        description: One sentence for docs and reprs.
        kinds: The kinds it applies to (empty: any kind).
        reads: The field or Event it reads.
        might_clear: True when the condition can go away without anyone
            changing the object (such signs are never applied by ``fail_fast``).
        needs_events: True when it reads the object's Events (listed at most
            every `every` seconds while a wait runs).
        every: How often Events are listed, for signs that read them.
        make: Builds the per-object `SignCheck`.

    >>> from kwait.signs import crash_loop, named
    >>> sign = crash_loop(3)
    >>> sign.name, sign.might_clear, sign.applies_to("Pod"), sign.applies_to("Job")
    ('crash-loop', True, True, False)
    >>> named("job-failed").might_clear
    False
    """

    name: str
    description: str
    kinds: frozenset[str]
    reads: str
    might_clear: bool
    make: Callable[[Sign], SignCheck]
    needs_events: bool = False
    every: float = 5.0
    label: str = ""

    def start(self) -> SignCheck:
        """A fresh check for one object."""
        return self.make(self)

    def applies_to(self, kind: str) -> bool:
        """True when the sign is about objects of `kind` (any kind if it names none)."""
        return not self.kinds or not kind or kind in self.kinds

    def __repr__(self) -> str:
        """Read like the code that built it."""
        return self.label or f"sign({self.name!r})"


# ---------------------------------------------------------------- reading helpers


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _conditions(obj: Obj) -> list[Mapping[str, Any]]:
    found = _get(obj, "status", "conditions")
    return [c for c in found if isinstance(c, Mapping)] if isinstance(found, list) else []


def _condition(obj: Obj, type_: str) -> Mapping[str, Any] | None:
    for cond in _conditions(obj):
        if cond.get("type") == type_:
            return cond
    return None


def _why(cond: Mapping[str, Any]) -> str:
    parts = [str(p) for p in (cond.get("reason"), cond.get("message")) if p]
    return ": ".join(parts)


def _containers(obj: Obj) -> list[tuple[str, Mapping[str, Any]]]:
    """(kind words, status) of every init and regular container status."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    for key, words in (
        ("initContainerStatuses", "init container"),
        ("containerStatuses", "container"),
    ):
        found = _get(obj, "status", key)
        statuses = found if isinstance(found, list) else []
        out.extend(
            (f"{words} {status.get('name', '?')}", status)
            for status in statuses
            if isinstance(status, Mapping)
        )
    return out


def _said(reason: str, message: Any) -> str:
    return f"{reason}: {message}" if message else reason


# ---------------------------------------------------------------- Job


class _ConditionCheck(SignCheck):
    def __init__(self, sign: Sign, type_: str, kind: str) -> None:
        super().__init__(sign)
        self.type = type_
        self.kind = kind

    def test(self, obj: Obj) -> str | None:
        cond = _condition(obj, self.type)
        if cond is None or str(cond.get("status", "")).lower() != "true":
            return None
        why = _why(cond)
        return f"{self.kind} condition {self.type}" + (f": {why}" if why else "")


def job_failed() -> Sign:
    """A Job's ``Failed`` condition is True (backoff limit, deadline, failure policy).

    Reads ``status.conditions[type=Failed]``. Safe: the Job controller never
    clears it; the Job is finished.

    >>> job = {"status": {"conditions": [{"type": "Failed", "status": "True",
    ...     "reason": "BackoffLimitExceeded"}]}}
    >>> job_failed().start().test(job)
    'Job condition Failed: BackoffLimitExceeded'
    """
    return Sign(
        "job-failed",
        "the Job's Failed condition is True",
        frozenset({"Job"}),
        "status.conditions[type=Failed]",
        might_clear=False,
        make=lambda s: _ConditionCheck(s, "Failed", "Job"),
        label="job_failed()",
    )


def job_failure_target() -> Sign:
    """A Job's ``FailureTarget`` condition is True: the controller decided it fails.

    Reads ``status.conditions[type=FailureTarget]`` (Kubernetes 1.31+ sets it
    before terminating the pods, then adds ``Failed``). Safe: the decision is final.

    >>> job = {"status": {"conditions": [{"type": "FailureTarget", "status": "True",
    ...     "reason": "BackoffLimitExceeded"}]}}
    >>> job_failure_target().start().test(job)
    'Job condition FailureTarget: BackoffLimitExceeded'
    """
    return Sign(
        "job-failure-target",
        "the Job's FailureTarget condition is True",
        frozenset({"Job"}),
        "status.conditions[type=FailureTarget]",
        might_clear=False,
        make=lambda s: _ConditionCheck(s, "FailureTarget", "Job"),
        label="job_failure_target()",
    )


# ---------------------------------------------------------------- pod containers


class _WaitingCheck(SignCheck):
    def __init__(self, sign: Sign, reason: str) -> None:
        super().__init__(sign)
        self.reason = reason

    def test(self, obj: Obj) -> str | None:
        for which, status in _containers(obj):
            waiting = _get(status, "state", "waiting")
            if isinstance(waiting, Mapping) and waiting.get("reason") == self.reason:
                return f"{which} {_said(self.reason, waiting.get('message'))}"
        return None


def _waiting_sign(name: str, reason: str, why: str, *, might_clear: bool, label: str) -> Sign:
    return Sign(
        name,
        why,
        frozenset({"Pod"}),
        f"status.(init)containerStatuses[].state.waiting.reason == {reason}",
        might_clear=might_clear,
        make=lambda s: _WaitingCheck(s, reason),
        label=label,
    )


def invalid_image_name() -> Sign:
    """A container waits with ``InvalidImageName``: the image reference cannot be parsed.

    Reads ``state.waiting.reason`` of every (init) container. Cannot clear by
    itself: the kubelet will never pull a name it cannot parse; only an edit of
    the pod's image can.

    >>> pod = {"status": {"containerStatuses": [{"name": "app", "state": {"waiting": {
    ...     "reason": "InvalidImageName", "message": "couldn't parse image"}}}]}}
    >>> invalid_image_name().start().test(pod)
    "container app InvalidImageName: couldn't parse image"
    """
    return _waiting_sign(
        "invalid-image-name",
        "InvalidImageName",
        "a container's image reference cannot be parsed",
        might_clear=False,
        label="invalid_image_name()",
    )


def err_image_never_pull() -> Sign:
    """A container waits with ``ErrImageNeverPull``: ``imagePullPolicy: Never``, image absent.

    Reads ``state.waiting.reason``. Might clear: if the image is loaded onto
    the node later (``kind load``, a pre-puller), the kubelet starts it.

    >>> pod = {"status": {"containerStatuses": [{"name": "app",
    ...     "state": {"waiting": {"reason": "ErrImageNeverPull"}}}]}}
    >>> err_image_never_pull().start().test(pod)
    'container app ErrImageNeverPull'
    """
    return _waiting_sign(
        "err-image-never-pull",
        "ErrImageNeverPull",
        "the image is not on the node and the pull policy forbids pulling it",
        might_clear=True,
        label="err_image_never_pull()",
    )


def create_container_config_error() -> Sign:
    """A container waits with ``CreateContainerConfigError`` (a missing Secret or ConfigMap ...).

    Reads ``state.waiting.reason`` and its message. Might clear: the kubelet
    retries, and a Secret created later (by an operator, cert-manager, the
    test itself) lets the container start. Use it when nothing will create it.

    >>> pod = {"status": {"containerStatuses": [{"name": "app", "state": {"waiting": {
    ...     "reason": "CreateContainerConfigError", "message": 'secret "db" not found'}}}]}}
    >>> create_container_config_error().start().test(pod)
    'container app CreateContainerConfigError: secret "db" not found'
    """
    return _waiting_sign(
        "create-container-config-error",
        "CreateContainerConfigError",
        "the kubelet cannot build the container's config (missing Secret/ConfigMap/key)",
        might_clear=True,
        label="create_container_config_error()",
    )


def create_container_error() -> Sign:
    """A container waits with ``CreateContainerError``: the runtime refused to create it.

    Reads ``state.waiting.reason``. Might clear: some causes are transient
    (a runtime timeout, a name still in use).

    >>> pod = {"status": {"containerStatuses": [{"name": "app",
    ...     "state": {"waiting": {"reason": "CreateContainerError"}}}]}}
    >>> create_container_error().start().test(pod)
    'container app CreateContainerError'
    """
    return _waiting_sign(
        "create-container-error",
        "CreateContainerError",
        "the container runtime failed to create the container",
        might_clear=True,
        label="create_container_error()",
    )


class _PullCheck(SignCheck):
    def __init__(self, sign: Sign, attempts: int) -> None:
        super().__init__(sign)
        self.attempts = attempts
        self.seen: dict[str, str | None] = {}
        self.counts: dict[str, int] = {}

    def test(self, obj: Obj) -> str | None:
        for which, status in _containers(obj):
            waiting = _get(status, "state", "waiting")
            reason = waiting.get("reason") if isinstance(waiting, Mapping) else None
            before = self.seen.get(which)
            self.seen[which] = reason
            if reason == "ErrImagePull" and before != "ErrImagePull":
                self.counts[which] = self.counts.get(which, 0) + 1
            count = self.counts.get(which, 0)
            if reason in {"ErrImagePull", "ImagePullBackOff"} and count >= self.attempts:
                assert isinstance(waiting, Mapping)  # noqa: S101 - reason came from it
                attempts = f"{count} failed pull{'s' if count != 1 else ''}"
                return f"{which} {_said(str(reason), waiting.get('message'))} ({attempts})"
        return None


def image_pull_failing(attempts: int = 3) -> Sign:
    """A container's image pull failed `attempts` times (``ErrImagePull``, then back-off).

    Counts the transitions into ``ErrImagePull`` of each container's
    ``state.waiting.reason`` (``ImagePullBackOff`` sits between attempts); fires
    on the `attempts`-th, or on the back-off after it. Might clear: a registry
    outage or a tag pushed late ends; choose `attempts` for your registry. A
    gap in the observations can hide attempts, so it fires late, never early.

    >>> pod = {"status": {"containerStatuses": [{"name": "app",
    ...     "state": {"waiting": {"reason": "ErrImagePull"}}}]}}
    >>> image_pull_failing(1).start().test(pod)
    'container app ErrImagePull (1 failed pull)'
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    return Sign(
        "image-pull-failing",
        f"a container's image pull failed {attempts} times",
        frozenset({"Pod"}),
        "status.containerStatuses[].state.waiting.reason (ErrImagePull transitions)",
        might_clear=True,
        make=lambda s: _PullCheck(s, attempts),
        label=f"image_pull_failing({attempts})",
    )


class _CrashCheck(SignCheck):
    def __init__(self, sign: Sign, restarts: int) -> None:
        super().__init__(sign)
        self.restarts = restarts

    def test(self, obj: Obj) -> str | None:
        for which, status in _containers(obj):
            waiting = _get(status, "state", "waiting")
            if not isinstance(waiting, Mapping) or waiting.get("reason") != "CrashLoopBackOff":
                continue
            count = status.get("restartCount")
            count = count if isinstance(count, int) else 0
            if count >= self.restarts:
                last = _get(status, "lastState", "terminated")
                exited = ""
                if isinstance(last, Mapping):
                    code = last.get("exitCode", "?")
                    exited = f", last exit {last.get('reason', '?')} (code {code})"
                return f"{which} CrashLoopBackOff after {count} restarts{exited}"
        return None


def crash_loop(restarts: int = 3) -> Sign:
    """A container is in ``CrashLoopBackOff`` with ``restartCount >= restarts``.

    Reads ``state.waiting.reason`` and ``restartCount`` of each container (the
    pattern ``restart_count() >= N while waiting_reason() == CrashLoopBackOff``).
    Might clear: a container that fails until a dependency is up runs fine later.

    >>> pod = {"status": {"containerStatuses": [{"name": "app", "restartCount": 3,
    ...     "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    >>> crash_loop(3).start().test(pod)
    'container app CrashLoopBackOff after 3 restarts'
    """
    if restarts < 1:
        raise ValueError("restarts must be at least 1")
    return Sign(
        "crash-loop",
        f"a container is in CrashLoopBackOff after {restarts} restarts",
        frozenset({"Pod"}),
        "status.containerStatuses[].state.waiting.reason, .restartCount",
        might_clear=True,
        make=lambda s: _CrashCheck(s, restarts),
        label=f"crash_loop({restarts})",
    )


class _OomCheck(SignCheck):
    def test(self, obj: Obj) -> str | None:
        for which, status in _containers(obj):
            for where in ("state", "lastState"):
                term = _get(status, where, "terminated")
                if isinstance(term, Mapping) and term.get("reason") == "OOMKilled":
                    return f"{which} OOMKilled (exit code {term.get('exitCode', '?')})"
        return None


def oom_killed() -> Sign:
    """A container was killed for exceeding its memory limit (``OOMKilled``).

    Reads ``state.terminated.reason`` and ``lastState.terminated.reason``. Might
    clear: with ``restartPolicy: Always`` the container is restarted and a
    smaller working set may fit.

    >>> pod = {"status": {"containerStatuses": [{"name": "app", "state": {"waiting": {},},
    ...     "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}}
    >>> oom_killed().start().test(pod)
    'container app OOMKilled (exit code 137)'
    """
    return Sign(
        "oom-killed",
        "a container was OOMKilled",
        frozenset({"Pod"}),
        "status.containerStatuses[].(last)State.terminated.reason == OOMKilled",
        might_clear=True,
        make=_OomCheck,
        label="oom_killed()",
    )


class _PhaseCheck(SignCheck):
    def test(self, obj: Obj) -> str | None:
        if _get(obj, "status", "phase") != "Failed":
            return None
        why = _said(str(_get(obj, "status", "reason") or ""), _get(obj, "status", "message"))
        return "pod phase Failed" + (f": {why}" if why.strip(": ") else "")


def pod_failed() -> Sign:
    """The pod's phase is ``Failed``: every container ended and one failed, for good.

    Reads ``status.phase``. Safe: Failed is terminal; a pod never leaves it.

    >>> pod_failed().start().test({"status": {"phase": "Failed", "reason": "Evicted"}})
    'pod phase Failed: Evicted'
    """
    return Sign(
        "pod-failed",
        "the pod's phase is Failed",
        frozenset({"Pod"}),
        "status.phase == Failed",
        might_clear=False,
        make=_PhaseCheck,
        label="pod_failed()",
    )


class _NeverReadyCheck(SignCheck):
    def __init__(self, sign: Sign) -> None:
        super().__init__(sign)
        self.was_ready = False

    def test(self, obj: Obj) -> str | None:
        ready = _condition(obj, "Ready")
        if ready is not None and str(ready.get("status", "")).lower() == "true":
            self.was_ready = True
        if _get(obj, "status", "phase") == "Succeeded" and not self.was_ready:
            return "pod completed (phase Succeeded) without ever being Ready"
        return None


def completed_without_ready() -> Sign:
    """The pod reached phase ``Succeeded`` and was never seen Ready.

    Reads ``status.phase`` and the ``Ready`` condition of every observation
    (state across observations: whether Ready was ever True). Safe: Succeeded
    is terminal, so a Ready wait on it would hang until its timeout (kubectl
    issue 1451). A wait for the completion itself succeeds first.

    >>> pod = {"status": {"phase": "Succeeded",
    ...     "conditions": [{"type": "Ready", "status": "False"}]}}
    >>> completed_without_ready().start().test(pod)
    'pod completed (phase Succeeded) without ever being Ready'
    """
    return Sign(
        "completed-without-ready",
        "the pod completed without ever being Ready",
        frozenset({"Pod"}),
        "status.phase == Succeeded, and conditions[type=Ready] never True",
        might_clear=False,
        make=_NeverReadyCheck,
        label="completed_without_ready()",
    )


class _UnschedulableCheck(SignCheck):
    def __init__(self, sign: Sign, grace: float) -> None:
        super().__init__(sign)
        self.grace = grace
        self.since: float | None = None
        self.why = ""

    def test(self, obj: Obj) -> str | None:
        cond = _condition(obj, "PodScheduled")
        if (
            cond is None
            or str(cond.get("status", "")).lower() != "false"
            or cond.get("reason") != "Unschedulable"
        ):
            self.since = None
            return None
        self.why = str(cond.get("message") or "")
        if self.since is None:
            self.since = self.now
        return self._message(self.now)

    def _message(self, now: float) -> str | None:
        if self.since is None or now - self.since < self.grace:
            return None
        held = f"unschedulable for {now - self.since:.1f} s"
        return f"{held}: {self.why}" if self.why else held

    def tick(self, now: float) -> Hit | None:
        message = self._message(now)
        return None if message is None else self.hit(message, now)

    def due(self) -> float | None:
        return None if self.since is None else self.since + self.grace


def unschedulable(grace: float = 60.0) -> Sign:
    """``PodScheduled=False`` with reason ``Unschedulable`` for `grace` seconds.

    Reads the ``PodScheduled`` condition; the grace period runs on the
    tracker's clock from the first observation that shows it (and is woken by
    the clock, so it fires even when the pod does not change). Might clear:
    a cluster autoscaler adds a node, another pod goes away.

    >>> unschedulable(60).applies_to("Pod"), unschedulable(60).applies_to("Job")
    (True, False)
    """
    if grace < 0:
        raise ValueError("grace must not be negative")
    return Sign(
        "unschedulable",
        f"the pod has been unschedulable for {grace:g} s",
        frozenset({"Pod"}),
        "status.conditions[type=PodScheduled] False, reason Unschedulable",
        might_clear=True,
        make=lambda s: _UnschedulableCheck(s, grace),
        label=f"unschedulable({grace:g})",
    )


class _DeadlineCheck(SignCheck):
    def test(self, obj: Obj) -> str | None:
        cond = _condition(obj, "Progressing")
        if cond is None or cond.get("reason") != "ProgressDeadlineExceeded":
            return None
        return "Deployment " + _said("ProgressDeadlineExceeded", cond.get("message"))


def progress_deadline_exceeded() -> Sign:
    """A Deployment's ``Progressing`` condition has reason ``ProgressDeadlineExceeded``.

    Reads ``status.conditions[type=Progressing].reason``. Might clear: the
    controller keeps the rollout going, and it completes if the pods become
    available later (`kwait.states.rollout_complete` still stops there, as
    ``kubectl rollout status`` does).

    >>> deploy = {"status": {"conditions": [{"type": "Progressing", "status": "False",
    ...     "reason": "ProgressDeadlineExceeded"}]}}
    >>> progress_deadline_exceeded().start().test(deploy)
    'Deployment ProgressDeadlineExceeded'
    """
    return Sign(
        "progress-deadline-exceeded",
        "the Deployment exceeded its progress deadline",
        frozenset({"Deployment"}),
        "status.conditions[type=Progressing].reason == ProgressDeadlineExceeded",
        might_clear=True,
        make=_DeadlineCheck,
        label="progress_deadline_exceeded()",
    )


class _ProvisioningCheck(SignCheck):
    def __init__(self, sign: Sign, failures: int) -> None:
        super().__init__(sign)
        self.failures = failures
        self.fetched: float | None = None

    def observe(self, obs: Observation) -> Hit | None:
        self.last = obs
        return None

    def _pending(self) -> bool:
        obj = self.last.object if self.last is not None else None
        return (
            obj is not None
            and self.last is not None
            and self.last.type != "DELETED"
            and (_get(obj, "status", "phase") in (None, "Pending"))
        )

    def events(self, events: Sequence[Mapping[str, Any]], now: float) -> Hit | None:
        self.fetched = now
        if not self._pending():
            return None
        failed = [e for e in events if e.get("reason") == "ProvisioningFailed"]
        total = sum((e.get("count") if isinstance(e.get("count"), int) else 1) or 1 for e in failed)
        if total < self.failures:
            return None
        message = str(failed[-1].get("message") or failed[-1].get("note") or "").strip()
        return self.hit(f"PersistentVolumeClaim ProvisioningFailed (x{total}): {message}", now)

    def due(self) -> float | None:
        if self.last is None:
            return None
        return self.last.time if self.fetched is None else self.fetched + self.sign.every


def provisioning_failed(failures: int = 3, *, every: float = 5.0) -> Sign:
    """A PVC still ``Pending`` has `failures` ``ProvisioningFailed`` Events.

    Reads the claim's Events (``reason == ProvisioningFailed``, summing their
    ``count``) and ``status.phase``. Events are not in the claim's watch
    stream: while a wait runs the judging loop lists them (by
    ``involvedObject.uid``) when the claim is first seen and every `every`
    seconds after, on the tracker's clock. A tracker without an API server
    (a scripted source) has no Events, so the sign never fires there. Might
    clear: provisioners retry, and quota or a class may appear later.

    >>> provisioning_failed(3)
    provisioning_failed(3)
    """
    if failures < 1:
        raise ValueError("failures must be at least 1")
    return Sign(
        "provisioning-failed",
        f"the claim is Pending with {failures} ProvisioningFailed Events",
        frozenset({"PersistentVolumeClaim"}),
        "Events with reason ProvisioningFailed (involvedObject.uid); status.phase",
        might_clear=True,
        make=lambda s: _ProvisioningCheck(s, failures),
        needs_events=True,
        every=every,
        label=f"provisioning_failed({failures})",
    )


# ---------------------------------------------------------------- predicates as signs


class _PredicateCheck(SignCheck):
    def __init__(self, sign: Sign, predicate: Predicate) -> None:
        super().__init__(sign)
        self.predicate = predicate

    def _deleted(self, obs: Observation) -> Hit | None:
        if self.predicate(DELETED) is True:
            return self.hit(f"{self.predicate.description} (the object was deleted)", obs.time)
        return None

    def test(self, obj: Obj) -> str | None:
        return self.predicate.description if self.predicate(obj) is True else None


def _from_predicate(predicate: Predicate) -> Sign:
    return Sign(
        predicate.description,
        f"{predicate.description} holds",
        frozenset(),
        predicate.description,
        might_clear=True,
        make=lambda s: _PredicateCheck(s, predicate),
        label=f"as_sign({predicate!r})",
    )


# ---------------------------------------------------------------- the catalogue


def catalogue() -> dict[str, Sign]:
    """Every sign by name, with default parameters (counting signs: 3; grace: 60 s).

    >>> for name, sign in catalogue().items():
    ...     if not sign.might_clear:
    ...         print(name)
    job-failed
    job-failure-target
    invalid-image-name
    pod-failed
    completed-without-ready
    """
    signs = [
        job_failed(),
        job_failure_target(),
        invalid_image_name(),
        create_container_config_error(),
        create_container_error(),
        err_image_never_pull(),
        image_pull_failing(),
        crash_loop(),
        oom_killed(),
        pod_failed(),
        completed_without_ready(),
        progress_deadline_exceeded(),
        provisioning_failed(),
        unschedulable(),
    ]
    return {s.name: s for s in signs}


def named(name: str) -> Sign:
    """The catalogue's sign called `name` (``"crash-loop"``), with default parameters.

    >>> named("invalid-image-name")
    invalid_image_name()
    """
    found = catalogue().get(name)
    if found is None:
        known = ", ".join(sorted(catalogue()))
        raise ValueError(f"no failure sign named {name!r}; the catalogue has: {known}")
    return found


def defaults_for(kind: str) -> list[Sign]:
    """The signs ``fail_fast`` applies to objects of `kind`: those that cannot clear.

    >>> defaults_for("Job")
    [job_failed(), job_failure_target()]
    >>> defaults_for("ConfigMap")
    []
    """
    if not kind:
        return []
    return [s for s in catalogue().values() if not s.might_clear and kind in s.kinds]


SignLike = Sign | str | Predicate | Callable[[Any], Any]


def as_sign(item: SignLike) -> Sign:
    """Turn what ``fail_on=`` accepts into a `Sign`.

    A `Sign` as is; a string is a ``kubectl wait --for`` form (``condition=Failed``,
    ``jsonpath=...``, ``delete``) or else a catalogue name; any predicate or
    callable fires on the first observation for which it is true.

    >>> as_sign("condition=Failed").name
    'condition Failed=true'
    >>> as_sign("crash-loop")
    crash_loop(3)
    """
    if isinstance(item, Sign):
        return item
    if isinstance(item, str):
        lowered = item.lower()
        if lowered in {"delete", "create"} or item.startswith(("condition=", "jsonpath=")):
            return _from_predicate(parse_for(item))
        return named(item)
    return _from_predicate(as_predicate(item))


def as_signs(fail_on: SignLike | Iterable[SignLike] | None) -> list[Sign]:
    """``fail_on=`` as a list of signs (a single one, or several OR-ed; None is none)."""
    if fail_on is None:
        return []
    if isinstance(fail_on, Sign | str) or callable(fail_on):
        return [as_sign(fail_on)]
    return [as_sign(item) for item in fail_on]
