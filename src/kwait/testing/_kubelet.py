"""A scripted kubelet and scheduler for the fake API server, on kwait's clock.

It plays the part kwok's Stages play on the real test ground: it binds pods
to a node it creates, then drives each pod's status through a lifecycle
chosen by the pod's ``kwait.dev/lifecycle`` label:

``normal-start`` (the default; ``normal`` is the same, as the kwok Stages name it)
    Pending (ContainerCreating) -> sandbox ready -> Running, Ready.
``image-pull-failure``
    ContainerCreating -> ErrImagePull -> ImagePullBackOff -> ErrImagePull ...
    with the kubelet's back-off (10 s doubling to 300 s) between attempts.
``crash-loop``
    Running -> terminated (Error) -> restarted at once -> terminated ->
    CrashLoopBackOff (10 s doubling to 300 s) -> Running ... with restart counts.
``complete``
    Running, Ready -> the containers exit (``kwait.dev/exit-code``, default 0)
    after ``kwait.dev/run-ms`` -> phase Succeeded (or Failed), Ready False.
``complete-unready``
    ContainerCreating -> the containers exit before they are ever Ready ->
    phase Succeeded (or Failed): a Ready wait can never succeed.
``invalid-image``
    ContainerCreating -> waiting ``InvalidImageName`` (the image reference does
    not parse), for good.
``config-error``
    ContainerCreating -> waiting ``CreateContainerConfigError`` (``secret "db"
    not found``, or the ``kwait.dev/waiting-message`` annotation), for good.
``unschedulable``
    never bound: the scheduler writes ``PodScheduled=False`` with reason
    ``Unschedulable`` (a pod whose node selector matches no node).

Jobs (batch/v1) get a scripted Job controller instead of pods: a Job whose
pod template has ``kwait.dev/lifecycle: complete`` (or ``complete-unready``)
starts (``active: 1``) and, after the template's ``kwait.dev/run-ms``, ends as
the 1.31+ controller ends it: with exit code 0 ``SuccessCriteriaMet`` then
``Complete``; otherwise ``FailureTarget`` then ``Failed``
(``BackoffLimitExceeded``). The fake creates no pods for it.

A running pod whose lifecycle has played out reacts to a new container image
in its spec as the kubelet does: Killing ("definition changed"), then its
containers restart with the new image (restartCount + 1, lastState
terminated) and the conditions carry the new observedGeneration.

Annotations tune the timing (milliseconds; all may be 0). The test ground's
Go-duration annotations are read when the millisecond one is absent
(`GO_DURATION_FALLBACKS`: ``kwait.dev/delay``, ``kwait.dev/run-duration``,
``kwait.dev/image-pull-backoff-duration``, ``kwait.dev/crash-loop-backoff-duration``),
so a manifest written for one ground plays the same lifecycle on the other:

``kwait.dev/step-delay-ms``
    Delay before each status write (binding, sandbox, start ...). Default 0.
``kwait.dev/backoff-ms``
    A fixed back-off instead of the kubelet's doubling one.
``kwait.dev/run-ms``
    How long a crash-looping container runs before it exits. Default: the step delay.
``kwait.dev/max-cycles``
    Stop after this many pull attempts or container exits. Without it a
    lifecycle cycles forever, except that one whose step delay and back-off
    are both 0 stops after 3 cycles (it would otherwise never let time pass).
``kwait.dev/exit-code``
    The crash-looping container's exit code. Default 1.
``kwait.dev/exit-reason``
    With exit code 137, the termination reason instead of ``Error`` (``OOMKilled``).

A pod being deleted gracefully has its containers stopped (exit 0, phase
Succeeded) and is then deleted with grace 0, as the kubelet does. Pods whose
``spec.schedulerName`` is not ``default-scheduler`` are not scheduled, and
pods bound to another node are left alone.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import heapq
import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from kwait._time.protocol import Clock
from kwait.testing._errors import StatusError
from kwait.testing._lifecycle import DeleteOptions, Store
from kwait.testing._store import Event

__all__ = [
    "GO_DURATION_FALLBACKS",
    "LIFECYCLE_LABEL",
    "FakeKubelet",
    "go_duration",
    "parse_go_duration",
]

LIFECYCLE_LABEL = "kwait.dev/lifecycle"
STEP_DELAY = "kwait.dev/step-delay-ms"
BACKOFF = "kwait.dev/backoff-ms"
RUN_TIME = "kwait.dev/run-ms"
MAX_CYCLES = "kwait.dev/max-cycles"
EXIT_CODE = "kwait.dev/exit-code"
WAITING_MESSAGE = "kwait.dev/waiting-message"
LIFECYCLES = (
    "normal-start",
    "image-pull-failure",
    "crash-loop",
    "complete",
    "complete-unready",
    "invalid-image",
    "config-error",
    "unschedulable",
)
# The real test ground's kwok Stages call the normal start "normal".
_ALIASES = {"normal": "normal-start"}
_DEFAULT_SCHEDULER = "default-scheduler"
_ZERO_DELAY_CYCLES = 3
_CONDITION_ORDER = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)


def go_duration(seconds: float) -> str:
    """Format a duration as Go's ``time.Duration.String`` does.

    >>> [go_duration(s) for s in (10, 80, 300, 0.5, 0)]
    ['10s', '1m20s', '5m0s', '500ms', '0s']
    """
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{secs:g}s"
    if minutes or hours:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return text


def _resolved_image(image: str) -> str:
    """The name the runtime reports for a running image (``docker.io/library/nginx:1.27``)."""
    name = image
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        name += ":latest"
    return name


_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|ns|m|s)")

#: The test ground's (kwok Stages') timing annotations, in Go durations, read when the
#: millisecond annotation of the same meaning is absent: one vocabulary for both grounds.
GO_DURATION_FALLBACKS = {
    STEP_DELAY: "kwait.dev/delay",
    RUN_TIME: "kwait.dev/run-duration",
    "image-pull-failure": "kwait.dev/image-pull-backoff-duration",
    "crash-loop": "kwait.dev/crash-loop-backoff-duration",
}


def parse_go_duration(text: str) -> float | None:
    """Read a Go duration (``"1m20s"``, ``"500ms"``, ``"0s"``) as seconds; None if it is not one.

    >>> [parse_go_duration(t) for t in ("1m20s", "500ms", "0s", "1.5s", "soon")]
    [80.0, 0.5, 0.0, 1.5, None]
    """
    text = text.strip()
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _GO_PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) and pos > 0 else None


def _timing(
    annotations: dict[str, str], key: str, fallback: str | None, default: float | None
) -> float | None:
    """The millisecond annotation `key`, else the Go-duration annotation `fallback`."""
    if key in annotations or fallback is None or fallback not in annotations:
        return _ms(annotations, key, default)
    seconds = parse_go_duration(annotations[fallback])
    return default if seconds is None else seconds


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _ms(annotations: dict[str, str], key: str, default: float | None) -> float | None:
    raw = annotations.get(key)
    if raw is None:
        return default
    try:
        return max(0.0, float(raw) / 1000.0)
    except ValueError:
        return default


@dataclass
class _Pod:
    """What the kubelet knows about one pod it runs."""

    namespace: str
    name: str
    uid: str
    obj: dict[str, Any]
    host_ip: str
    pod_ip: str
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    phase: str = "Pending"
    start_time: str | None = None
    sandbox: bool = False
    ever_ran: bool = False

    @property
    def annotations(self) -> dict[str, str]:
        return dict((self.obj.get("metadata") or {}).get("annotations") or {})

    @property
    def container_specs(self) -> list[dict[str, Any]]:
        return [
            c for c in (self.obj.get("spec") or {}).get("containers") or [] if isinstance(c, dict)
        ]


class FakeKubelet:
    """The fake API server's scheduler and kubelet (see the module docstring).

    It runs in one thread on the server's clock (inside ``clock.participant()``),
    reacts to pod writes, and writes pod status through the store as the
    ``status`` subresource would.

    Args:
        store: The server's storage.
        node_name: The node it creates and binds pods to.
        default_lifecycle: The lifecycle of pods without the label; None
            leaves unlabelled pods alone once bound (they stay Pending).

    A `kwait.testing.FakeApiServer` builds and runs one; reach it as ``server.kubelet``:

    >>> from kwait.testing import FakeApiServer
    >>> with FakeApiServer() as server:
    ...     server.kubelet.node_name
    'kwait-node'
    """

    def __init__(
        self,
        store: Store,
        *,
        node_name: str = "kwait-node",
        default_lifecycle: str | None = "normal-start",
    ) -> None:
        """Prepare the kubelet; `start` creates the node and starts the thread."""
        self.store = store
        self.clock: Clock = store.clock
        self.node_name = node_name
        self.default_lifecycle = default_lifecycle
        self.host_ip = "10.0.0.5"
        self._inbox: list[Event] = []
        self._heap: list[tuple[float, int, str, int]] = []
        self._seq = itertools.count()
        self._runs: dict[str, tuple[int, Iterator[float]]] = {}
        self._pods: dict[str, _Pod] = {}
        self._scheduled: set[str] = set()
        self._terminating: set[str] = set()
        self._next_ip = 2
        self._event_names: dict[tuple[str, str, str], str] = {}
        self._stop = False
        self._thread: threading.Thread | None = None
        store.listeners.append(self._on_event)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Create the node and start the kubelet thread."""
        if self._thread is not None:
            return
        self._create_node()
        with self.store.cond:
            # Pick up pods that already exist.
            for obj in self.store.objects["pods"].values():
                self._inbox.append(
                    Event(
                        "ADDED",
                        0,
                        "pods",
                        obj["metadata"].get("namespace", ""),
                        obj["metadata"]["name"],
                        obj,
                        None,
                    )
                )
        participation = self.clock.participant()
        self._thread = threading.Thread(
            target=self._loop, args=(participation,), name="kwait-fake-kubelet", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        with self.store.cond:
            self._stop = True
            self.store.cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _create_node(self) -> None:
        nodes = self.store.types["nodes"]
        with contextlib.suppress(StatusError):
            self.store.create(
                nodes,
                "",
                {
                    "metadata": {
                        "name": self.node_name,
                        "labels": {
                            "kubernetes.io/hostname": self.node_name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "type": "kwait-fake",
                        },
                    },
                    "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
                },
            )
        now = self.store.timestamp()
        capacity = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "100Gi"}

        def ready(node: dict[str, Any]) -> None:
            node["status"] = {
                "capacity": capacity,
                "allocatable": dict(capacity),
                "conditions": [
                    {
                        "type": t,
                        "status": "False",
                        "lastHeartbeatTime": now,
                        "lastTransitionTime": now,
                        "reason": r,
                        "message": m,
                    }
                    for t, r, m in (
                        (
                            "MemoryPressure",
                            "KubeletHasSufficientMemory",
                            "kubelet has sufficient memory available",
                        ),
                        (
                            "DiskPressure",
                            "KubeletHasNoDiskPressure",
                            "kubelet has no disk pressure",
                        ),
                        (
                            "PIDPressure",
                            "KubeletHasSufficientPID",
                            "kubelet has sufficient PID available",
                        ),
                    )
                ]
                + [
                    {
                        "type": "Ready",
                        "status": "True",
                        "lastHeartbeatTime": now,
                        "lastTransitionTime": now,
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                    }
                ],
                "addresses": [
                    {"type": "InternalIP", "address": self.host_ip},
                    {"type": "Hostname", "address": self.node_name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": _digest(self.node_name)[:32],
                    "systemUUID": _digest("uuid", self.node_name)[:32],
                    "bootID": _digest("boot", self.node_name)[:32],
                    "kernelVersion": "6.1.0",
                    "osImage": "kwait fake node",
                    "containerRuntimeVersion": "containerd://2.0.0",
                    "kubeletVersion": "v1.37.0",
                    "kubeProxyVersion": "",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
            }

        self.store.write_status(nodes, "", self.node_name, ready)

    # ------------------------------------------------------------ events in

    def _on_event(self, event: Event) -> None:
        """Store listener (runs under the store lock): queue pod events."""
        if event.rkey in {"pods", "jobs.batch"}:
            self._inbox.append(event)

    def _loop(self, participation: Any) -> None:
        clock = self.clock
        cond = self.store.cond
        with participation:
            while True:
                with cond:
                    while True:
                        if self._stop:
                            return
                        if self._inbox:
                            break
                        now = clock.monotonic()
                        self._drop_stale()
                        if self._heap and self._heap[0][0] <= now:
                            break
                        timeout = self._heap[0][0] - now if self._heap else None
                        clock.wait(cond, timeout)
                    events = self._inbox
                    self._inbox = []
                for event in events:
                    if event.rkey == "jobs.batch":
                        self._handle_job(event)
                    else:
                        self._handle(event)
                self._run_due()

    def _drop_stale(self) -> None:
        while self._heap:
            _, _, uid, version = self._heap[0]
            run = self._runs.get(uid)
            if run is not None and run[0] == version:
                return
            heapq.heappop(self._heap)

    def _handle(self, event: Event) -> None:  # noqa: C901, PLR0912 - the API server's decision table
        obj = event.obj
        meta = obj.get("metadata") or {}
        uid = meta.get("uid", "")
        if event.type == "DELETED":
            self._runs.pop(uid, None)
            self._pods.pop(uid, None)
            self._scheduled.discard(uid)
            self._terminating.discard(uid)
            return
        spec = obj.get("spec") or {}
        node = spec.get("nodeName")
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        step = _timing(annotations, STEP_DELAY, GO_DURATION_FALLBACKS[STEP_DELAY], 0.0) or 0.0
        if not node:
            if (
                spec.get("schedulerName", _DEFAULT_SCHEDULER) == _DEFAULT_SCHEDULER
                and not meta.get("deletionTimestamp")
                and uid not in self._scheduled
            ):
                self._scheduled.add(uid)
                if labels.get(LIFECYCLE_LABEL) == "unschedulable":
                    self._begin(uid, self._unschedulable(event.namespace, event.name, uid, step))
                else:
                    self._begin(uid, self._schedule(event.namespace, event.name, uid, step))
            return
        if node != self.node_name:
            return
        pod = self._pods.get(uid)
        if pod is not None:
            pod.obj = obj
        if meta.get("deletionTimestamp"):
            if uid not in self._terminating:
                self._terminating.add(uid)
                if pod is None:
                    pod = self._new_pod(obj)
                self._begin(uid, self._terminate(pod, step))
            return
        if pod is None and (obj.get("status") or {}).get("phase") in {None, "Pending"}:
            lifecycle = labels.get(LIFECYCLE_LABEL, self.default_lifecycle)
            lifecycle = _ALIASES.get(lifecycle, lifecycle) if lifecycle else lifecycle
            if lifecycle not in LIFECYCLES:
                return
            pod = self._new_pod(obj)
            self._begin(uid, self._lifecycle(pod, lifecycle))
            return
        if pod is not None and uid not in self._runs and self._images_changed(pod):
            self._begin(uid, self._update_images(pod, step))

    def _new_pod(self, obj: dict[str, Any]) -> _Pod:
        meta = obj["metadata"]
        pod_ip = f"10.244.0.{self._next_ip}"
        self._next_ip = self._next_ip % 250 + 2
        pod = _Pod(meta.get("namespace", ""), meta["name"], meta["uid"], obj, self.host_ip, pod_ip)
        for condition in (obj.get("status") or {}).get("conditions") or []:
            if isinstance(condition, dict) and condition.get("type"):
                pod.conditions[condition["type"]] = dict(condition)
        self._pods[pod.uid] = pod
        return pod

    def _begin(self, uid: str, steps: Iterator[float]) -> None:
        version = next(self._seq)
        self._runs[uid] = (version, steps)
        self._advance(uid, version, steps)

    def _advance(self, uid: str, version: int, steps: Iterator[float]) -> None:
        try:
            delay = next(steps)
        except StopIteration:
            if self._runs.get(uid, (None,))[0] == version:
                self._runs.pop(uid, None)
            return
        if self._runs.get(uid, (None,))[0] != version:
            return
        due = self.clock.monotonic() + delay
        with self.store.cond:
            heapq.heappush(self._heap, (due, version, uid, version))

    def _run_due(self) -> None:
        while True:
            with self.store.cond:
                self._drop_stale()
                if not self._heap or self._heap[0][0] > self.clock.monotonic():
                    return
                _, _, uid, version = heapq.heappop(self._heap)
            run = self._runs.get(uid)
            if run is not None and run[0] == version:
                self._advance(uid, version, run[1])

    # ------------------------------------------------------------ writes

    def _write(self, pod: _Pod) -> bool:
        """Write the pod's status; False if the pod is gone."""
        rtype = self.store.types["pods"]
        status = self._render(pod)

        def change(obj: dict[str, Any]) -> None:
            qos = (obj.get("status") or {}).get("qosClass")
            obj["status"] = copy.deepcopy(status)
            if qos:
                obj["status"]["qosClass"] = qos

        written = self.store.write_status(rtype, pod.namespace, pod.name, change, uid=pod.uid)
        if written is None:
            return False
        pod.obj = written
        return True

    def _render(self, pod: _Pod) -> dict[str, Any]:
        generation = (pod.obj.get("metadata") or {}).get("generation")
        status: dict[str, Any] = {"phase": pod.phase}
        if generation:
            status["observedGeneration"] = generation
        conditions = []
        for ctype in _CONDITION_ORDER:
            condition = pod.conditions.get(ctype)
            if condition is not None:
                rendered = dict(condition)
                if generation:
                    rendered["observedGeneration"] = generation
                conditions.append(rendered)
        if conditions:
            status["conditions"] = conditions
        if pod.start_time is not None:
            status["hostIP"] = pod.host_ip
            status["hostIPs"] = [{"ip": pod.host_ip}]
        if pod.sandbox:
            status["podIP"] = pod.pod_ip
            status["podIPs"] = [{"ip": pod.pod_ip}]
        if pod.start_time is not None:
            status["startTime"] = pod.start_time
        if pod.containers:
            status["containerStatuses"] = [
                copy.deepcopy(pod.containers[name]) for name in sorted(pod.containers)
            ]
        return status

    def _condition(
        self,
        pod: _Pod,
        ctype: str,
        value: bool,  # noqa: FBT001
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        status = "True" if value else "False"
        old = pod.conditions.get(ctype)
        when = self.store.timestamp()
        if old is not None and old.get("status") == status:
            when = old.get("lastTransitionTime") or when
        condition: dict[str, Any] = {
            "type": ctype,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": when,
        }
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        pod.conditions[ctype] = condition

    def _readiness(self, pod: _Pod) -> None:
        names = [c["name"] for c in pod.container_specs]
        unready = sorted(n for n in names if not pod.containers.get(n, {}).get("ready"))
        if unready:
            message = f"containers with unready status: [{' '.join(unready)}]"
            self._condition(
                pod, "ContainersReady", value=False, reason="ContainersNotReady", message=message
            )
            self._condition(pod, "Ready", value=False, reason="ContainersNotReady", message=message)
        else:
            self._condition(pod, "ContainersReady", value=True)
            self._condition(pod, "Ready", value=True)

    def _waiting(self, pod: _Pod, reason: str, message: str | None = None) -> None:
        for spec in pod.container_specs:
            previous = pod.containers.get(spec["name"], {})
            waiting: dict[str, Any] = {"reason": reason}
            if message is not None:
                waiting["message"] = message.replace("{image}", spec.get("image", ""))
            pod.containers[spec["name"]] = {
                "name": spec["name"],
                "state": {"waiting": waiting},
                "lastState": previous.get("lastState", {}),
                "ready": False,
                "restartCount": previous.get("restartCount", 0),
                "image": spec.get("image", ""),
                "imageID": previous.get("imageID", ""),
                "started": False,
                **({"containerID": previous["containerID"]} if "containerID" in previous else {}),
            }

    def _running(self, pod: _Pod, restarts: int) -> None:
        now = self.store.timestamp()
        for spec in pod.container_specs:
            previous = pod.containers.get(spec["name"], {})
            image = _resolved_image(spec.get("image", ""))
            repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
            pod.containers[spec["name"]] = {
                "name": spec["name"],
                "state": {"running": {"startedAt": now}},
                "lastState": previous.get("lastState", {}),
                "ready": True,
                "restartCount": restarts,
                "image": image,
                "imageID": f"{repo}@sha256:{_digest(image)}",
                "containerID": f"containerd://{_digest(pod.uid, spec['name'], str(restarts))}",
                "started": True,
            }
        pod.ever_ran = True

    def _terminated(self, pod: _Pod, exit_code: int) -> dict[str, Any]:
        now = self.store.timestamp()
        reason = "Completed" if exit_code == 0 else "Error"
        if exit_code == 137 and pod.annotations.get("kwait.dev/exit-reason"):  # noqa: PLR2004 - SIGKILL
            reason = pod.annotations["kwait.dev/exit-reason"]
        last: dict[str, Any] = {}
        for spec in pod.container_specs:
            previous = pod.containers.get(spec["name"], {})
            started = ((previous.get("state") or {}).get("running") or {}).get("startedAt", now)
            terminated = {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": started,
                "finishedAt": now,
                "containerID": previous.get("containerID", ""),
            }
            last = {"terminated": terminated}
            pod.containers[spec["name"]] = {
                **previous,
                "state": {"terminated": terminated},
                "ready": False,
                "started": False,
            }
        return last

    # ------------------------------------------------------------ scripts

    def _schedule(self, namespace: str, name: str, uid: str, step: float) -> Iterator[float]:
        yield step
        pods = self.store.types["pods"]
        with contextlib.suppress(StatusError):
            current = self.store.get(pods, namespace, name)
            if current["metadata"].get("uid") == uid:
                self.store.bind_pod(namespace, name, self.node_name)
                self._event(
                    SimpleNamespace(namespace=namespace, name=name, uid=uid),
                    "Scheduled",
                    f"Successfully assigned {namespace}/{name} to {self.node_name}",
                    component="default-scheduler",
                )

    def _start_sandbox(self, pod: _Pod, step: float) -> Iterator[float]:
        """Steps 3 and 4 of the happy path: ContainerCreating, then the sandbox is ready."""
        yield step
        pod.start_time = self.store.timestamp()
        self._condition(pod, "PodReadyToStartContainers", value=False)
        self._condition(pod, "Initialized", value=True)
        self._condition(pod, "PodScheduled", value=True)
        self._waiting(pod, "ContainerCreating")
        self._readiness(pod)
        if not self._write(pod):
            return
        yield step
        pod.sandbox = True
        self._condition(pod, "PodReadyToStartContainers", value=True)
        if not self._write(pod):
            return

    def _lifecycle(self, pod: _Pod, lifecycle: str) -> Iterator[float]:
        annotations = pod.annotations
        step = _timing(annotations, STEP_DELAY, GO_DURATION_FALLBACKS[STEP_DELAY], 0.0) or 0.0
        backoff = _timing(annotations, BACKOFF, GO_DURATION_FALLBACKS.get(lifecycle), None)
        raw_cycles = annotations.get(MAX_CYCLES)
        max_cycles = int(raw_cycles) if raw_cycles and raw_cycles.isdigit() else None
        if max_cycles is None and step == 0 and backoff == 0:
            max_cycles = _ZERO_DELAY_CYCLES
        yield from self._start_sandbox(pod, step)
        if pod.uid not in self._pods:
            return
        if lifecycle == "image-pull-failure":
            yield from self._pull_failures(pod, step, backoff, max_cycles)
        elif lifecycle == "crash-loop":
            run_time = _timing(annotations, RUN_TIME, GO_DURATION_FALLBACKS[RUN_TIME], step) or 0.0
            code = annotations.get(EXIT_CODE, "1")
            exit_code = int(code) if code.lstrip("-").isdigit() else 1
            yield from self._crash_loop(pod, step, backoff, max_cycles, run_time, exit_code)
        elif lifecycle in {"complete", "complete-unready"}:
            run_time = _ms(annotations, RUN_TIME, step) or 0.0
            code = annotations.get(EXIT_CODE, "0")
            exit_code = int(code) if code.lstrip("-").isdigit() else 0
            yield from self._complete(pod, step, run_time, exit_code, ready=lifecycle == "complete")
        elif lifecycle == "invalid-image":
            yield step
            self._waiting(
                pod,
                "InvalidImageName",
                'Failed to apply default image tag "{image}": couldn\'t parse image name '
                '"{image}": invalid reference format',
            )
            self._write(pod)
        elif lifecycle == "config-error":
            yield step
            message = annotations.get(WAITING_MESSAGE, 'secret "db" not found')
            self._waiting(pod, "CreateContainerConfigError", message)
            self._write(pod)
        else:
            yield step
            self._running(pod, 0)
            pod.phase = "Running"
            self._readiness(pod)
            if self._write(pod):
                self._container_events(pod)

    def _pull_failures(
        self, pod: _Pod, step: float, backoff: float | None, max_cycles: int | None
    ) -> Iterator[float]:
        attempt = 0
        yield step
        while True:
            self._waiting(
                pod,
                "ErrImagePull",
                'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
                "failed to resolve reference: not found",
            )
            if not self._write(pod):
                return
            self._pull_events(pod, "ErrImagePull")
            yield step
            self._waiting(pod, "ImagePullBackOff", 'Back-off pulling image "{image}"')
            if not self._write(pod):
                return
            self._pull_events(pod, "ImagePullBackOff")
            window = backoff if backoff is not None else min(10.0 * 2**attempt, 300.0)
            attempt += 1
            if max_cycles is not None and attempt >= max_cycles:
                return
            yield window

    def _crash_loop(  # noqa: PLR0917 - mirrors the API server's decision table
        self,
        pod: _Pod,
        step: float,
        backoff: float | None,
        max_cycles: int | None,
        run_time: float,
        exit_code: int,
    ) -> Iterator[float]:
        yield step
        restarts = 0
        self._running(pod, restarts)
        pod.phase = "Running"
        self._readiness(pod)
        if not self._write(pod):
            return
        self._container_events(pod)
        exits = 0
        while True:
            yield run_time
            last = self._terminated(pod, exit_code)
            self._readiness(pod)
            if not self._write(pod):
                return
            exits += 1
            if max_cycles is not None and exits >= max_cycles:
                return
            if exits > 1:
                window = backoff if backoff is not None else min(10.0 * 2 ** (exits - 2), 300.0)
                for spec in pod.container_specs:
                    container = pod.containers[spec["name"]]
                    container["state"] = {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": f"back-off {go_duration(window)} restarting failed "
                            f"container={spec['name']} pod={pod.name}_{pod.namespace}({pod.uid})",
                        }
                    }
                    container["lastState"] = last
                if not self._write(pod):
                    return
                self._crash_backoff_events(pod)
                yield window
            for spec in pod.container_specs:
                pod.containers[spec["name"]]["lastState"] = last
            restarts += 1
            self._running(pod, restarts)
            self._readiness(pod)
            if not self._write(pod):
                return
            self._container_events(pod, restart=True)

    def _complete(
        self, pod: _Pod, step: float, run_time: float, exit_code: int, *, ready: bool
    ) -> Iterator[float]:
        """Run the containers to completion; `ready` False: they exit before ever being Ready."""
        yield step
        if ready:
            self._running(pod, 0)
            pod.phase = "Running"
            self._readiness(pod)
            if not self._write(pod):
                return
            yield run_time
        self._terminated(pod, exit_code)
        pod.ever_ran = True
        reason = "PodCompleted" if exit_code == 0 else "PodFailed"
        pod.phase = "Succeeded" if exit_code == 0 else "Failed"
        self._condition(pod, "PodReadyToStartContainers", value=False)
        self._condition(pod, "Ready", value=False, reason=reason)
        self._condition(pod, "ContainersReady", value=False, reason=reason)
        self._write(pod)

    def _unschedulable(self, namespace: str, name: str, uid: str, step: float) -> Iterator[float]:
        """The scheduler finds no node: PodScheduled=False, reason Unschedulable."""
        yield step
        now = self.store.timestamp()

        def change(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            status["conditions"] = [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": now,
                    "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 node(s) didn't match Pod's node "
                    "affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is "
                    "not helpful for scheduling.",
                }
            ]

        self.store.write_status(self.store.types["pods"], namespace, name, change, uid=uid)

    # ------------------------------------------------------------ jobs

    def _handle_job(self, event: Event) -> None:
        obj = event.obj
        meta = obj.get("metadata") or {}
        uid = meta.get("uid", "")
        if event.type == "DELETED":
            self._runs.pop(uid, None)
            return
        if event.type != "ADDED" or (obj.get("status") or {}).get("startTime"):
            return
        template = (obj.get("spec") or {}).get("template") or {}
        tmeta = template.get("metadata") or {}
        if (tmeta.get("labels") or {}).get(LIFECYCLE_LABEL) not in {"complete", "complete-unready"}:
            return
        annotations = dict(tmeta.get("annotations") or {})
        step = _ms(annotations, STEP_DELAY, 0.0) or 0.0
        run_time = _ms(annotations, RUN_TIME, step) or 0.0
        code = annotations.get(EXIT_CODE, "0")
        failed = code.strip() not in {"0", ""}
        self._begin(uid, self._job(event.namespace, event.name, uid, step, run_time, failed=failed))

    def _job(
        self, namespace: str, name: str, uid: str, step: float, run_time: float, *, failed: bool
    ) -> Iterator[float]:
        """The Job controller of Kubernetes 1.31+: start, then the two terminal writes."""
        jobs = self.store.types["jobs.batch"]
        yield step
        started = self.store.timestamp()

        def start(obj: dict[str, Any]) -> None:
            obj["status"] = {
                "startTime": started,
                "active": 1,
                "ready": 0,
                "terminating": 0,
                "uncountedTerminatedPods": {},
            }

        if self.store.write_status(jobs, namespace, name, start, uid=uid) is None:
            return
        yield run_time
        if failed:
            first, final = "FailureTarget", "Failed"
            reason, message = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
        else:
            first, final = "SuccessCriteriaMet", "Complete"
            reason, message = "CompletionsReached", "Reached expected number of succeeded pods"
        for ctype in (first, final):
            now = self.store.timestamp()

            def end(obj: dict[str, Any], ctype: str = ctype, now: str = now) -> None:
                status = obj.setdefault("status", {})
                status["active"] = 0
                status["ready"] = 0
                status["failed" if failed else "succeeded"] = 1
                if ctype == "Complete":
                    status["completionTime"] = now
                status.setdefault("conditions", []).append(
                    {
                        "type": ctype,
                        "status": "True",
                        "lastProbeTime": now,
                        "lastTransitionTime": now,
                        "reason": reason,
                        "message": message,
                    }
                )

            if self.store.write_status(jobs, namespace, name, end, uid=uid) is None:
                return
            yield step

    def _terminate(self, pod: _Pod, step: float) -> Iterator[float]:
        if pod.ever_ran:
            for spec in pod.container_specs:
                self._event(
                    pod, "Killing", f"Stopping container {spec['name']}", container=spec["name"]
                )
        yield step
        if pod.ever_ran:
            self._terminated(pod, 0)
            pod.phase = "Succeeded"
            self._condition(pod, "PodReadyToStartContainers", value=False)
            self._condition(pod, "Initialized", value=True, reason="PodCompleted")
            self._condition(pod, "Ready", value=False, reason="PodCompleted")
            self._condition(pod, "ContainersReady", value=False, reason="PodCompleted")
            if not self._write(pod):
                return
            yield 0.0
        with contextlib.suppress(StatusError):
            self.store.delete(
                self.store.types["pods"],
                pod.namespace,
                pod.name,
                DeleteOptions(grace_period_seconds=0, precondition_uid=pod.uid),
            )

    # ------------------------------------------------------------ spec changes

    def _images_changed(self, pod: _Pod) -> bool:
        """True when a running container's spec names another image than it runs."""
        if pod.phase != "Running":
            return False
        for spec in pod.container_specs:
            running = pod.containers.get(spec["name"]) or {}
            image = running.get("image")
            if image and _resolved_image(spec.get("image", "")) != image:
                return True
        return False

    def _update_images(self, pod: _Pod, step: float) -> Iterator[float]:
        """Restart the containers with the new image, as the kubelet does on a spec change."""
        for spec in pod.container_specs:
            self._event(
                pod,
                "Killing",
                f"Container {spec['name']} definition changed, will be restarted",
                container=spec["name"],
            )
        yield step
        restarts = max(int(c.get("restartCount") or 0) for c in pod.containers.values()) + 1
        last = self._terminated(pod, 0)
        for spec in pod.container_specs:
            pod.containers[spec["name"]]["lastState"] = last
        self._running(pod, restarts)
        self._readiness(pod)
        if self._write(pod):
            self._container_events(pod)

    # ------------------------------------------------------------ events

    def _event(
        self,
        pod: Any,
        reason: str,
        message: str,
        *,
        warning: bool = False,
        component: str = "kubelet",
        container: str | None = None,
    ) -> None:
        """Record a core/v1 Event about the pod as the kubelet (or scheduler) does.

        A repeat of the same reason and message bumps the Event's count and
        lastTimestamp instead, as the kubelet's event correlator does.
        """
        events = self.store.types["events"]
        key = (pod.uid, reason, message)
        now = self.store.timestamp()
        with contextlib.suppress(StatusError):
            name = self._event_names.get(key)
            if name is not None:

                def bump(obj: dict[str, Any]) -> dict[str, Any]:
                    obj["count"] = int(obj.get("count") or 1) + 1
                    obj["lastTimestamp"] = now
                    return obj

                self.store.modify(events, pod.namespace, name, bump)
                return
            involved: dict[str, Any] = {
                "kind": "Pod",
                "apiVersion": "v1",
                "namespace": pod.namespace,
                "name": pod.name,
                "uid": pod.uid,
            }
            if container is not None:
                involved["fieldPath"] = f"spec.containers{{{container}}}"
            body = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{pod.name}.{len(self._event_names) + 1:016x}"},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "type": "Warning" if warning else "Normal",
                "source": {"component": component}
                | ({"host": self.node_name} if component == "kubelet" else {}),
                "count": 1,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "reportingComponent": component,
                "reportingInstance": self.node_name if component == "kubelet" else "",
            }
            created = self.store.create(events, pod.namespace, body)
            self._event_names[key] = created["metadata"]["name"]

    def _crash_backoff_events(self, pod: _Pod) -> None:
        for spec in pod.container_specs:
            self._event(
                pod,
                "BackOff",
                f"Back-off restarting failed container {spec['name']} in pod "
                f"{pod.name}_{pod.namespace}({pod.uid})",
                warning=True,
                container=spec["name"],
            )

    def _pull_events(self, pod: _Pod, reason: str) -> None:
        """The kubelet's Events for a failed pull (ErrImagePull) or its back-off."""
        for spec in pod.container_specs:
            name, image = spec["name"], spec.get("image", "")
            if reason == "ErrImagePull":
                self._event(pod, "Pulling", f'Pulling image "{image}"', container=name)
                self._event(
                    pod,
                    "Failed",
                    f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed '
                    f'to pull and unpack image "{image}": failed to resolve reference: not found',
                    warning=True,
                    container=name,
                )
            else:
                self._event(pod, "BackOff", f'Back-off pulling image "{image}"', container=name)
            self._event(pod, "Failed", f"Error: {reason}", warning=True, container=name)

    def _container_events(self, pod: _Pod, *, restart: bool = False) -> None:
        """Pulling/Pulled (first start only), Created and Started for every container."""
        for spec in pod.container_specs:
            name, image = spec["name"], spec.get("image", "")
            if not restart:
                self._event(pod, "Pulling", f'Pulling image "{image}"', container=name)
                self._event(
                    pod,
                    "Pulled",
                    f'Successfully pulled image "{image}" in 1ms (1ms including waiting). '
                    "Image size: 1024 bytes.",
                    container=name,
                )
            else:
                self._event(
                    pod,
                    "Pulled",
                    f'Container image "{image}" already present on machine',
                    container=name,
                )
            self._event(pod, "Created", f"Created container: {name}", container=name)
            self._event(pod, "Started", f"Started container {name}", container=name)

    # ------------------------------------------------------------ hooks

    def idle(self) -> bool:
        """Whether the kubelet has nothing queued and nothing due now."""
        with self.store.cond:
            self._drop_stale()
            due = bool(self._heap) and self._heap[0][0] <= self.clock.monotonic()
            return not self._inbox and not due

    def pending(self) -> list[float]:
        """The clock times of the kubelet's scheduled next steps, earliest first."""
        with self.store.cond:
            self._drop_stale()
            return sorted(t for t, _, _, _ in self._heap)
