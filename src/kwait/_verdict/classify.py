"""Classify what went wrong with pods' containers, from what a tracker recorded.

For each pod and container: its last state, its restart count, and every
reason it went through, counted once per time it entered it (an
ErrImagePull -> ImagePullBackOff -> ErrImagePull container saw ErrImagePull
twice), terminations with their exit code (``Error (exit 1)``, ``OOMKilled
(exit 137)``) counted once per container run. A one-word *verdict* sums it up
(``image-pull``, ``oom-killed``, ``crash-loop``, ``crashed``, ``config-error``,
``ok``), as node e2e suites sort their failures.

>>> pod = {"kind": "Pod", "metadata": {"name": "web", "namespace": "ci", "uid": "u1"},
...     "status": {"phase": "Running", "containerStatuses": [{"name": "app", "restartCount": 2,
...         "state": {"waiting": {"reason": "CrashLoopBackOff"}},
...         "lastState": {"terminated": {"reason": "Error", "exitCode": 1,
...                                      "finishedAt": "2026-01-01T00:00:09Z"}}}]}}
>>> [record] = classify([pod]).records
>>> record.verdict, record.restarts, record.last_state
('crash-loop', 2, 'waiting: CrashLoopBackOff')
>>> record.reasons_text()
'Error (exit 1), CrashLoopBackOff'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kwait._watch.timeline import Identity, Timeline

__all__ = ["Classification", "ContainerRecord", "classify", "container_records"]

_IMAGE = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
_CONFIG = frozenset(
    {
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "ContainerCannotRun",
    }
)


@dataclass(frozen=True)
class ContainerRecord:
    """What one container of one pod went through.

    Attributes:
        identity: The pod.
        container: The container's name (``init:<name>`` for init containers).
        last_state: ``running``, ``waiting: <reason>``, ``terminated: <reason> (exit N)``.
        restarts: The highest restartCount seen.
        reasons: Each reason seen, in order of first sight, with how often it was entered.
        verdict: One word: ``oom-killed``, ``image-pull``, ``config-error``,
            ``crash-loop``, ``crashed``, ``ok``.

    >>> from kwait.reports import classify
    >>> pod = {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "ci", "uid": "u1"},
    ...        "status": {"containerStatuses": [{"name": "app", "restartCount": 2,
    ...            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    ...            "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
    >>> record = classify([pod]).records[0]
    >>> record.container, record.verdict, record.restarts, record.last_state
    ('app', 'crash-loop', 2, 'waiting: CrashLoopBackOff')
    """

    identity: Identity
    container: str
    last_state: str
    restarts: int
    reasons: tuple[tuple[str, int], ...]
    verdict: str

    def reasons_text(self) -> str:
        """The reasons as one cell: ``Error (exit 1) x3, CrashLoopBackOff x2``."""
        return ", ".join(f"{r} x{n}" if n > 1 else r for r, n in self.reasons) or "-"

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "object": str(_short(self.identity)),
            "namespace": self.identity.namespace,
            "name": self.identity.name,
            "uid": self.identity.uid,
            "container": self.container,
            "verdict": self.verdict,
            "restarts": self.restarts,
            "last_state": self.last_state,
            "reasons": dict(self.reasons),
        }


def _short(identity: Identity) -> str:
    parts = [(identity.kind or "pod").lower(), identity.namespace, identity.name]
    return "/".join(p for p in parts if p)


@dataclass(frozen=True)
class Classification:
    """Every container's record, as a table (`to_text`) and as JSON (`to_json`).

    >>> from kwait.reports import classify
    >>> pod = {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "ci", "uid": "u1"},
    ...        "status": {"containerStatuses": [{"name": "app", "restartCount": 2,
    ...            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    ...            "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
    >>> print(classify([pod]).to_text())  # doctest: +NORMALIZE_WHITESPACE
    object        container  verdict     restarts  last state                 reasons seen
    pod/ci/web-0  app        crash-loop  2         waiting: CrashLoopBackOff
        Error (exit 1), CrashLoopBackOff
    """

    records: tuple[ContainerRecord, ...] = ()

    def __bool__(self) -> bool:
        """True when there is at least one container record."""
        return bool(self.records)

    def failing(self) -> tuple[ContainerRecord, ...]:
        """The records whose verdict is not ``ok``."""
        return tuple(r for r in self.records if r.verdict != "ok")

    def to_lines(self, *, objects: bool = True) -> list[str]:
        """The table's lines (a header, then a row per container); `objects`: name the pod."""
        header: tuple[str, ...] = (
            "object",
            "container",
            "verdict",
            "restarts",
            "last state",
            "reasons seen",
        )
        rows: list[tuple[str, ...]] = [header]
        rows += [
            (
                _short(r.identity),
                r.container,
                r.verdict,
                str(r.restarts),
                r.last_state,
                r.reasons_text(),
            )
            for r in self.records
        ]
        if not objects:
            rows = [row[1:] for row in rows]
        widths = [max(len(row[k]) for row in rows) + 2 for k in range(len(rows[0]) - 1)]
        return [
            ("".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + row[-1])
            for row in rows
        ]

    def to_text(self) -> str:
        """Render as a table."""
        return "\n".join(self.to_lines()) if self.records else "(no containers seen)"

    def __str__(self) -> str:
        """Render as `to_text`."""
        return self.to_text()

    def to_json(self) -> list[dict[str, Any]]:
        """Return the records as JSON-serialisable dicts."""
        return [r.to_json() for r in self.records]


def _describe(state: Mapping[str, Any] | None) -> tuple[str, str | None, Any]:
    """(text for the table, reason to count or None, identity of the occurrence)."""
    if not isinstance(state, Mapping) or not state:
        return "unknown", None, None
    if "running" in state:
        return "running", None, ("running", (state.get("running") or {}).get("startedAt"))
    if "waiting" in state:
        reason = (state.get("waiting") or {}).get("reason") or "Waiting"
        return f"waiting: {reason}", reason, ("waiting", reason)
    term = state.get("terminated") or {}
    code = term.get("exitCode")
    reason = term.get("reason") or ("Completed" if code == 0 else "Error")
    if code not in (None, 0) or reason != "Completed":
        reason = f"{reason} (exit {code})" if code is not None else reason
    ident = ("terminated", term.get("containerID"), term.get("startedAt"), term.get("finishedAt"))
    return f"terminated: {reason}", reason, ident


class _Container:
    def __init__(self) -> None:
        self.last_state = "unknown"
        self.restarts = 0
        self.reasons: dict[str, int] = {}
        self.current: Any = None
        self.terminations: set[Any] = set()

    def see(self, status: Mapping[str, Any]) -> None:
        self.restarts = max(self.restarts, int(status.get("restartCount") or 0))
        last = status.get("lastState") or {}
        if isinstance(last, Mapping) and last.get("terminated"):
            self._count_termination(last)
        text, reason, ident = _describe(status.get("state"))
        self.last_state = text
        if ident is not None and ident[0] == "terminated":
            self._count_termination(status.get("state") or {})
        elif ident != self.current and reason is not None:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1
        self.current = ident

    def _count_termination(self, state: Mapping[str, Any]) -> None:
        _, reason, ident = _describe(state)
        if reason is not None and ident not in self.terminations:
            self.terminations.add(ident)
            self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def verdict(self) -> str:
        seen = set(self.reasons)
        state = self.last_state
        if any(r.startswith("OOMKilled") for r in seen):
            return "oom-killed"
        if seen & _IMAGE:
            return "image-pull"
        if seen & _CONFIG:
            return "config-error"
        if "CrashLoopBackOff" in seen:
            return "crash-loop"
        if any(r.startswith(("Error", "ContainerStatusUnknown")) for r in seen) or (
            state.startswith("terminated") and "(exit" in state
        ):
            return "crashed"
        return "ok"


def _pod_objects(timeline: Timeline) -> Iterable[Mapping[str, Any]]:
    for obs in timeline.observations:
        if obs.object is not None and obs.type != "DELETED":
            yield obs.object


def container_records(
    identity: Identity, objects: Iterable[Mapping[str, Any]]
) -> list[ContainerRecord]:
    """The records of one pod's containers, from its successive states (oldest first)."""
    containers: dict[str, _Container] = {}
    for obj in objects:
        status = obj.get("status") or {}
        for key, prefix in (("initContainerStatuses", "init:"), ("containerStatuses", "")):
            for cs in status.get(key) or []:
                if isinstance(cs, Mapping) and cs.get("name"):
                    containers.setdefault(prefix + str(cs["name"]), _Container()).see(cs)
    return [
        ContainerRecord(
            identity=identity,
            container=name,
            last_state=c.last_state,
            restarts=c.restarts,
            reasons=tuple(c.reasons.items()),
            verdict=c.verdict(),
        )
        for name, c in containers.items()
    ]


def classify(source: Any) -> Classification:
    """Classify the containers of every pod a tracker (or a set of timelines) recorded.

    Args:
        source: A `kwait.Tracker`, a mapping of identities to `kwait.Timeline`,
            timelines, or raw pod objects (each one the last state of its pod).

    >>> from kwait.reports import classify
    >>> pod = {"kind": "Pod", "metadata": {"name": "web-0", "namespace": "ci", "uid": "u1"},
    ...        "status": {"containerStatuses": [{"name": "app", "restartCount": 2,
    ...            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    ...            "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}}
    >>> classify([pod]).records[0].reasons
    (('Error (exit 1)', 1), ('CrashLoopBackOff', 1))
    """
    if hasattr(source, "timelines") and callable(source.timelines):
        source = source.timelines()
    if isinstance(source, Mapping):
        source = source.values()
    records: list[ContainerRecord] = []
    for item in source:
        if isinstance(item, Timeline):
            records.extend(container_records(item.identity, _pod_objects(item)))
        elif isinstance(item, Mapping):
            ident = Identity.of(item)
            records.extend(container_records(ident, [item]))
        else:
            raise TypeError(f"cannot classify {type(item).__name__}")
    return Classification(tuple(records))
