"""Failure reports: what an object went through, how far the expectation got, and why.

An `ObjectReport` joins, for one object:

* its timeline as a table: time offset, event, resourceVersion, the state as
  the check's state function sees it, and a note (matched steps, counted
  changes, the entry that decided); gaps and reconnects are rows of their own;
* the expectation and its progress: what matched, and what it was waiting for;
* the object's recent Events (reason, type, count, message, time);
* its last state, with ``managedFields`` dropped and Secret data redacted.

A `Report` is a headline plus one `ObjectReport` per object concerned. Both
render as bounded text for exception messages (`to_text`) and as a
JSON-serialisable dict for CI artifacts (`to_json`).

>>> redact({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}})
{'kind': 'Secret', 'data': {'password': '<redacted>'}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kwait._match.states import DELETED, DeletedType, State
from kwait._match.verdict import Check, Outcome, Progress, Status
from kwait._verdict.classify import Classification, ContainerRecord, classify
from kwait._watch.redaction import (
    REDACTED,
    contains_secret,
    redact_object,
    scrub,
    scrub_json,
    secrets_of,
    secrets_shown,
)
from kwait._watch.timeline import Gap, Identity, Observation, Reconnect, Timeline

__all__ = [
    "EventRow",
    "ObjectReport",
    "Report",
    "Row",
    "format_value",
    "object_report",
    "redact",
    "stale_conditions",
    "to_yamlish",
]


def redact(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `obj` that is safe to print.

    ``metadata.managedFields`` is dropped. For a Secret, every value of
    ``data`` and ``stringData`` is replaced by ``<redacted>``; so is every
    container ``env[].value``, any string under a credential-like key
    (``password``, ``token`` ...), and then the last-applied-configuration
    annotation (it holds them too). ``KWAIT_SHOW_SECRETS=1`` opts out.

    >>> secret = {"kind": "Secret", "metadata": {"name": "db", "managedFields": [{}],
    ...     "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"}},
    ...     "stringData": {"user": "admin"}}
    >>> safe = redact(secret)
    >>> safe["stringData"], "managedFields" in safe["metadata"]
    ({'user': '<redacted>'}, False)
    >>> safe["metadata"]["annotations"]
    {'kubectl.kubernetes.io/last-applied-configuration': '<redacted>'}
    """
    return redact_object(obj)


def format_value(value: Any, width: int = 60) -> str:
    """Render a state value for a table cell.

    Strings as they are, None as ``-``, `DELETED` as ``<deleted>``, other values
    as compact JSON; cut to `width` characters.

    >>> format_value("ErrImagePull"), format_value(None), format_value(DELETED), format_value(3)
    ('ErrImagePull', '-', '<deleted>', '3')
    >>> format_value({"b": [1, 2]})
    '{"b":[1,2]}'
    """
    if isinstance(value, DeletedType):
        text = "<deleted>"
    elif value is None:
        text = "-"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = str(value)
    else:
        try:
            text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=repr)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


_PLAIN = re.compile(r"^[A-Za-z0-9_./@+-][A-Za-z0-9_ ./@:+=,()\[\]-]*$")
_RESERVED = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        plain = (
            _PLAIN.match(value)
            and ": " not in value
            and not value.endswith((":", " "))
            and value.lower() not in _RESERVED
            and not _looks_numeric(value)
        )
        return value if plain else json.dumps(value, ensure_ascii=False)
    return json.dumps(value, default=repr)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_yamlish(value: Any, indent: int = 0) -> list[str]:
    """Render JSON data as YAML-like lines (block style; strings quoted only when needed).

    >>> data = {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80, "name": "http"}],
    ...         "selector": {}}, "data": {"v": "1.0"}}
    >>> for line in to_yamlish(data):
    ...     print(line)
    metadata:
      name: web
    spec:
      ports:
      - port: 80
        name: http
      selector: {}
    data:
      v: "1.0"
    """
    pad = " " * indent
    if isinstance(value, Mapping) and value:
        lines: list[str] = []
        for key, item in value.items():
            head = f"{pad}{_scalar(str(key))}:"
            if isinstance(item, Mapping | list) and item:
                lines.append(head)
                lines.extend(to_yamlish(item, indent + (0 if isinstance(item, list) else 2)))
            else:
                lines.append(f"{head} {_flow(item)}")
        return lines
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            if isinstance(item, Mapping | list) and item:
                sub = to_yamlish(item, indent + 2)
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines.extend(sub[1:])
            else:
                lines.append(f"{pad}- {_flow(item)}")
        return lines
    return [f"{pad}{_flow(value)}"]


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, DeletedType):
        return "<deleted>"
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _offset(seconds: float) -> str:
    return f"+{seconds:.3f}s" if seconds >= 0 else f"{seconds:.3f}s"


@dataclass(frozen=True)
class Row:
    """One row of a timeline table.

    Attributes:
        seq: The entry's sequence number in the tracker's log.
        offset: Seconds since the start of the table.
        event: ``LISTED``/``ADDED``/``MODIFIED``/``DELETED``, ``GAP`` or ``RECONNECT``.
        resource_version: The resourceVersion (``from..to`` for a gap).
        state: The state value as text (a gap's or reconnect's reason).
        note: Matched steps, counted changes, the deciding entry.
        value: The state value itself (JSON-safe), None for gaps and reconnects.
        flags: ``synthetic``/``evicted`` for observations derived from a relist or
            dropped from memory.

    >>> from kwait.matchers import Matcher
    >>> from kwait.reports import object_report
    >>> from kwait.states import phase
    >>> from kwait.watch import Recorder
    >>> recorder, matcher = Recorder(clock=None), Matcher(phase(), ["Pending", "Running"])
    >>> for rv, now in [("1", "Pending"), ("2", "Failed")]:
    ...     _ = matcher.feed(recorder.add_observation("MODIFIED", {"kind": "Pod", "metadata": {
    ...         "name": "web-0", "uid": "u1", "resourceVersion": rv}, "status": {"phase": now}}))
    >>> report = object_report(recorder.timeline_of("u1"), matcher)
    >>> [(row.event, row.resource_version, row.state, row.note) for row in report.rows]
    [('MODIFIED', '1', 'Pending', "step 1: 'Pending'"), ('MODIFIED', '2', 'Failed', 'failed here')]
    """

    seq: int
    offset: float
    event: str
    resource_version: str
    state: str
    note: str = ""
    value: Any = None
    flags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the row as a JSON-serialisable dict."""
        return {
            "seq": self.seq,
            "offset": round(self.offset, 6),
            "event": self.event,
            "resource_version": self.resource_version,
            "state": self.state,
            "value": self.value,
            "note": self.note,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class EventRow:
    """One core/v1 Event about the object, reduced to what a reader needs.

    >>> from kwait.reports import EventRow
    >>> row = EventRow.of({"type": "Warning", "reason": "BackOff", "count": 3,
    ...                    "message": "Back-off pulling image",
    ...                    "lastTimestamp": "2025-01-01T12:00:00Z"})
    >>> row.reason, row.count
    ('BackOff', 3)
    """

    time: str
    type: str
    reason: str
    count: int
    message: str

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> EventRow:
        """Read a raw core/v1 (or events.k8s.io/v1) Event dict."""
        series: Mapping[str, Any] = event.get("series") or {}
        meta: Mapping[str, Any] = event.get("metadata") or {}
        series = series if isinstance(series, Mapping) else {}
        meta = meta if isinstance(meta, Mapping) else {}
        time = (
            event.get("lastTimestamp")
            or series.get("lastObservedTime")
            or event.get("eventTime")
            or event.get("firstTimestamp")
            or meta.get("creationTimestamp")
            or ""
        )
        count = event.get("count") or series.get("count") or event.get("deprecatedCount") or 1
        return cls(
            time=str(time),
            type=str(event.get("type") or ""),
            reason=str(event.get("reason") or ""),
            count=count if isinstance(count, int) else 1,
            message=str(event.get("message") or event.get("note") or "").strip(),
        )

    def to_json(self) -> dict[str, Any]:
        """Return the event as a JSON-serialisable dict."""
        return {
            "time": self.time,
            "type": self.type,
            "reason": self.reason,
            "count": self.count,
            "message": self.message,
        }


def _state_cell(state: State, obs: Observation) -> tuple[str, Any]:
    if obs.type == "DELETED":
        value = state(DELETED)
        return format_value(value), _jsonable(value)
    obj = obs.object
    if obj is None:
        return "<evicted>", None
    try:
        value = state(obj)
    except Exception as exc:  # noqa: BLE001 - a report must render whatever the state did
        return f"<error: {exc}>", None
    if not secrets_shown() and contains_secret(value, secrets_of(obs.object)):
        return REDACTED, REDACTED
    return format_value(value), _jsonable(value)


def _decision_note(outcome: Outcome) -> str:
    if outcome.status is Status.MATCHED:
        return "matched here"
    if outcome.status is Status.IMPOSSIBLE:
        return "failed here"
    if outcome.status is Status.UNDECIDABLE:
        return "undecidable here"
    return ""


def _rows(
    timeline: Timeline,
    state: State,
    notes: Mapping[int, str],
    reconnects: Iterable[Reconnect],
    start: float | None,
) -> tuple[Row, ...]:
    entries: list[Observation | Gap | Reconnect] = [*timeline.entries, *reconnects]
    entries.sort(key=lambda e: e.seq)
    if not entries:
        return ()
    t0 = entries[0].time if start is None else start
    rows: list[Row] = []
    for entry in entries:
        note = notes.get(entry.seq, "")
        if isinstance(entry, Observation):
            text, value = _state_cell(state, entry)
            flags = tuple(
                f for f, on in (("synthetic", entry.synthetic), ("evicted", entry.evicted)) if on
            )
            event = entry.type + (" (relist)" if entry.synthetic else "")
            rows.append(
                Row(
                    entry.seq,
                    entry.time - t0,
                    event,
                    entry.resource_version,
                    text,
                    note,
                    value,
                    flags,
                )
            )
        elif isinstance(entry, Gap):
            rv = f"{entry.from_rv}..{entry.to_rv}"
            rows.append(Row(entry.seq, entry.time - t0, "GAP", rv, entry.reason, note))
        else:
            rows.append(
                Row(
                    entry.seq,
                    entry.time - t0,
                    "RECONNECT",
                    entry.resource_version,
                    entry.reason,
                    note,
                )
            )
    return tuple(rows)


@dataclass(frozen=True)
class ObjectReport:
    """Everything a reader needs about one object's failed (or undecided) expectation.

    Attributes:
        identity: The object.
        expected: The expectation as text (a pattern, a count).
        state: The description of the state function shown in the table.
        outcome: The check's verdict.
        progress: How far it got.
        rows: The timeline table.
        events: Recent Events about the object, oldest first.
        last_state: The last full object seen (redacted), None if not held.
        last_where: Which observation `last_state` is, e.g. ``MODIFIED rv 105``.
        differences: What the last state lacks of the expectation, when its
            predicate can say (`kwait.compare.matches` can), one line each.
        containers: For a pod, each container's verdict, restarts, last state
            and the reasons it went through (`kwait.reports.classify`).
        logs: For a pod, the last lines of each container's log, and of its
            previous run after a restart (dicts: container, previous, text).
        stale: Conditions of the last state written for an older generation of
            the object (kubectl's rule ignores them), one sentence each.

    >>> from kwait.matchers import Matcher
    >>> from kwait.reports import object_report
    >>> from kwait.states import phase
    >>> from kwait.watch import Recorder
    >>> recorder, matcher = Recorder(clock=None), Matcher(phase(), ["Pending", "Running"])
    >>> for rv, now in [("1", "Pending"), ("2", "Failed")]:
    ...     _ = matcher.feed(recorder.add_observation("MODIFIED", {"kind": "Pod", "metadata": {
    ...         "name": "web-0", "uid": "u1", "resourceVersion": rv}, "status": {"phase": now}}))
    >>> report = object_report(recorder.timeline_of("u1"), matcher)
    >>> report.expected, report.outcome.status.value, report.progress.summary
    ("in_order('Pending', 'Running')", 'impossible', '1 of 2 steps matched')
    """

    identity: Identity
    expected: str
    state: str
    outcome: Outcome
    progress: Progress
    rows: tuple[Row, ...]
    events: tuple[EventRow, ...] = ()
    last_state: dict[str, Any] | None = None
    last_where: str = ""
    differences: tuple[str, ...] = ()
    containers: tuple[ContainerRecord, ...] = ()
    logs: tuple[Mapping[str, Any], ...] = ()
    stale: tuple[str, ...] = ()
    secrets: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def to_text(
        self,
        *,
        max_rows: int = 40,
        max_events: int = 10,
        max_state_lines: int = 60,
    ) -> str:
        """Render as text, bounded.

        Long tables keep their first and last rows and the rows with a note (or
        gaps and reconnects); a long last state keeps its first lines. Secrets
        the object held never appear (see `kwait.reports.redact`).
        """
        text = self._text(max_rows, max_events, max_state_lines)
        return scrub(text, self.secrets)

    def _text(self, max_rows: int, max_events: int, max_state_lines: int) -> str:
        out = [f"{self.identity}: {self.outcome.status.value}: {self.outcome.reason}".rstrip()]
        out.append(f"  expected: {self.expected}")
        out.append(f"  state: {self.state}")
        out.append(f"  progress: {self.progress.summary}")
        out.extend(
            f"    {self.progress.step_name} {i}: {step.element} at #{step.entry.seq} "
            f"{_entry_where(step.entry)}"
            for i, step in enumerate(self.progress.steps, 1)
        )
        if self.progress.waiting_for:
            was = "was " if self.outcome.done else ""
            out.append(f"  {was}waiting for: {' or '.join(self.progress.waiting_for)}")
        if self.progress.constraints:
            out.append(f"  counting: {'; '.join(self.progress.constraints)}")
        if self.progress.lost:
            out.append(f"  earlier: {self.progress.lost}")
        out.append(f"  timeline ({_plural(len(self.rows), 'entry', 'entries')}):")
        out.extend("    " + line for line in _table(self.rows, max_rows))
        if self.events:
            shown = self.events[-max_events:]
            more = len(self.events) - len(shown)
            head = f"  events ({len(self.events)}, oldest first"
            out.append(head + (f", last {len(shown)} shown):" if more else "):"))
            out.extend(
                f"    {e.time or '-'}  {e.type or '-'}  {e.reason or '-'}"
                f"{f' (x{e.count})' if e.count > 1 else ''}: {e.message}"
                for e in shown
            )
        else:
            out.append("  events: none recorded")
        if self.containers:
            out.append("  containers:")
            out.extend(
                f"    {line}".rstrip()
                for line in Classification(self.containers).to_lines(objects=False)
            )
        out.extend(f"  stale: {line}" for line in self.stale)
        for log in self.logs:
            run = "previous run" if log.get("previous") else "current run"
            lines = str(log.get("text") or "").rstrip("\n").splitlines() or ["(empty)"]
            out.append(f"  log of {log.get('container')} ({run}, last {len(lines)} lines):")
            out.extend(f"    {line}" for line in lines[-max_events * 2 :])
        if self.differences:
            out.append(f"  differences in the last state ({len(self.differences)}):")
            out.extend(f"    {line}" for line in self.differences[: max_events * 2])
        if self.last_state is None:
            out.append("  last state: not held")
        else:
            out.append(f"  last state ({self.last_where}):")
            lines = to_yamlish(self.last_state)
            if len(lines) > max_state_lines:
                cut = len(lines) - max_state_lines
                lines = [*lines[:max_state_lines], f"… {cut} more lines (see to_json())"]
            out.extend("    " + line for line in lines)
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        """Return the whole report as a JSON-serialisable dict (nothing cut, secrets redacted)."""
        data: dict[str, Any] = scrub_json(self._json(), self.secrets)
        return data

    def _json(self) -> dict[str, Any]:
        ident = self.identity
        return {
            "identity": {
                "kind": ident.kind,
                "namespace": ident.namespace,
                "name": ident.name,
                "uid": ident.uid,
            },
            "expected": self.expected,
            "state": self.state,
            "outcome": {
                "status": self.outcome.status.value,
                "reason": self.outcome.reason,
                "seq": self.outcome.entry.seq if self.outcome.entry is not None else None,
                "unknown": [u.seq for u in self.outcome.unknown],
            },
            "progress": {
                "summary": self.progress.summary,
                "steps": [
                    {
                        "element": s.element,
                        "seq": s.entry.seq,
                        "resource_version": _rv(s.entry),
                    }
                    for s in self.progress.steps
                ],
                "waiting_for": list(self.progress.waiting_for),
                "constraints": list(self.progress.constraints),
                "lost": self.progress.lost,
            },
            "timeline": [r.to_json() for r in self.rows],
            "events": [e.to_json() for e in self.events],
            "last_state": self.last_state,
            "differences": list(self.differences),
            "containers": [c.to_json() for c in self.containers],
            "logs": [dict(log) for log in self.logs],
            "stale": list(self.stale),
        }


def _rv(entry: Observation | Gap) -> str:
    if isinstance(entry, Gap):
        return f"{entry.from_rv}..{entry.to_rv}"
    return entry.resource_version


def _entry_where(entry: Observation | Gap) -> str:
    if isinstance(entry, Gap):
        return f"(inside gap rv {entry.from_rv}..{entry.to_rv}, unseen)"
    return f"({entry.type} rv {entry.resource_version})"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _table(rows: Sequence[Row], max_rows: int) -> list[str]:
    if not rows:
        return ["(no entries)"]
    keep = _kept(rows, max_rows)
    header = ("time", "event", "rv", "state", "note")
    cells = [(_offset(r.offset), r.event, r.resource_version, r.state, r.note) for r in rows]
    shown = [cells[i] for i in sorted(keep)]
    widths = [max(len(c[k]) for c in [header, *shown]) for k in range(4)]

    def line(c: tuple[str, str, str, str, str]) -> str:
        text = (
            f"{c[0]:>{widths[0]}}  {c[1]:<{widths[1]}}  {c[2]:<{widths[2]}}  "
            f"{c[3]:<{widths[3]}}  {c[4]}"
        )
        return text.rstrip()

    out = [line(header)]
    previous = -1
    for i in sorted(keep):
        if i != previous + 1:
            out.append(f"… {_plural(i - previous - 1, 'row', 'rows')} omitted …")
        out.append(line(cells[i]))
        previous = i
    if previous != len(rows) - 1:
        out.append(f"… {_plural(len(rows) - 1 - previous, 'row', 'rows')} omitted …")
    return out


def _kept(rows: Sequence[Row], max_rows: int) -> set[int]:
    """Pick the rows to show: the first few, the last ones, and those with a note."""
    n = len(rows)
    if n <= max_rows:
        return set(range(n))
    head = max(1, max_rows // 4)
    tail = max(1, max_rows // 2)
    keep = set(range(head)) | set(range(n - tail, n))
    noted = [i for i, r in enumerate(rows) if r.note or r.event in ("GAP", "RECONNECT")]
    room = max(0, max_rows - len(keep))
    keep.update([i for i in noted if i not in keep][-room:] if room else [])
    return keep


def object_report(
    timeline: Timeline,
    check: Check,
    *,
    events: Iterable[Mapping[str, Any]] = (),
    reconnects: Iterable[Reconnect] = (),
    start: float | None = None,
    logs: Iterable[Mapping[str, Any]] = (),
) -> ObjectReport:
    """Build the report for one object from its timeline and the check that judged it.

    Args:
        timeline: The object's timeline (its observations and the gaps that concern it).
        check: The `kwait.matchers.Matcher` or `kwait.matchers.CountMatcher` fed with that timeline.
        events: Raw Event dicts about the object (already matched by
            ``involvedObject.uid``), in any order.
        reconnects: Reconnects of the tracker's watch to show as rows (those
            whose sequence numbers fall inside the timeline are the useful ones).
        start: Time the offsets count from (default: the first row's time).
        logs: Container logs to show (see `ObjectReport.logs`).

    >>> from kwait.matchers import Matcher
    >>> from kwait.reports import object_report
    >>> from kwait.states import phase
    >>> from kwait.watch import Recorder
    >>> recorder, matcher = Recorder(clock=None), Matcher(phase(), ["Pending", "Running"])
    >>> for rv, now in [("1", "Pending"), ("2", "Failed")]:
    ...     _ = matcher.feed(recorder.add_observation("MODIFIED", {"kind": "Pod", "metadata": {
    ...         "name": "web-0", "uid": "u1", "resourceVersion": rv}, "status": {"phase": now}}))
    >>> report = object_report(recorder.timeline_of("u1"), matcher)
    >>> print(report.to_text(max_rows=5))
    pod/web-0 (uid u1): impossible: 'Failed' at #1 MODIFIED rv 2 is terminal for pod phase; ...
      expected: in_order('Pending', 'Running')
      state: pod phase
      progress: 1 of 2 steps matched
        step 1: 'Pending' at #0 (MODIFIED rv 1)
      was waiting for: 'Running'
      timeline (2 entries):
           time  event     rv  state    note
        +0.000s  MODIFIED  1   Pending  step 1: 'Pending'
        +0.000s  MODIFIED  2   Failed   failed here
      events: none recorded
      last state (#1 MODIFIED rv 2):
      ...
    """
    progress = check.progress()
    notes = dict(progress.notes())
    marks = [(u.seq, "the answer depends on this") for u in check.outcome.unknown]
    decided = check.outcome.entry
    if decided is not None and _decision_note(check.outcome):
        marks.append((decided.seq, _decision_note(check.outcome)))
    for seq, text in marks:
        old = notes.get(seq)
        if not old or text not in old:
            notes[seq] = f"{old}; {text}" if old else text
    first, last = (
        (timeline.entries[0].seq, timeline.entries[-1].seq) if timeline.entries else (0, 0)
    )
    shown_reconnects = [r for r in reconnects if first <= r.seq <= last]
    rows = _rows(timeline, check.state, notes, shown_reconnects, start)
    event_rows = sorted((EventRow.of(e) for e in events), key=lambda e: e.time)
    secrets: set[str] = set()
    for obs in timeline.observations:
        if obs.object is not None:
            secrets |= secrets_of(obs.object)
    last_obs = timeline.last
    last_state = None
    last_where = ""
    for obs in reversed(timeline.observations):
        obj = obs.object
        if obj is not None:
            last_state = redact(obj)
            last_where = f"#{obs.seq} {obs.type} rv {obs.resource_version}"
            break
    if last_obs is not None and last_state is not None and last_obs.evicted:
        last_where += f"; newer observations were evicted, the latest is #{last_obs.seq}"
    explain = getattr(check.state, "explain", None)
    differences: tuple[str, ...] = ()
    if callable(explain) and last_state is not None:
        differences = tuple(str(line) for line in explain(last_state))
    return ObjectReport(
        identity=timeline.identity,
        expected=check.describe(),
        state=check.state.description,
        outcome=check.outcome,
        progress=progress,
        rows=rows,
        events=tuple(event_rows),
        last_state=last_state,
        last_where=last_where,
        differences=differences,
        containers=classify([timeline]).records,
        logs=tuple(logs),
        stale=tuple(stale_conditions(last_state)) if last_state is not None else (),
        secrets=frozenset(secrets),
    )


def stale_conditions(obj: Mapping[str, Any]) -> list[str]:
    """Say which conditions were written for an older generation of the object.

    kubectl wait (and `kwait.states.condition`) ignore a condition whose
    observedGeneration is behind the object's generation, which surprises a
    reader who sees ``Ready: True`` in the last state.

    >>> stale_conditions({"metadata": {"generation": 3}, "status": {"conditions": [
    ...     {"type": "Ready", "status": "True", "observedGeneration": 2}]}})
    ['condition Ready=True was observed at generation 2; the object is at generation 3']
    """
    meta = obj.get("metadata") or {}
    generation = meta.get("generation")
    if not isinstance(generation, int):
        return []
    out = []
    for cond in (obj.get("status") or {}).get("conditions") or []:
        seen = cond.get("observedGeneration") if isinstance(cond, Mapping) else None
        if isinstance(seen, int) and seen < generation:
            out.append(
                f"condition {cond.get('type')}={cond.get('status')} was observed at generation "
                f"{seen}; the object is at generation {generation}"
            )
    return out


ReportKind = Literal["transitions", "wait", "never", "count"]


@dataclass(frozen=True)
class Report:
    """A failed expectation: a headline and the objects it concerns.

    Attributes:
        kind: What was expected: ``transitions``, ``wait``, ``never`` (and
            consistently) or ``count``. It picks the exception class.
        summary: One sentence, e.g. ``pod/ci/web did not go in_order(...) within 30s``.
        objects: The objects concerned, those that failed first.
        details: Extra facts for the JSON form (timeout, selector...).
        connection: What went wrong with the watch while the expectation ran
            (expirations, disconnections, replayed events), one sentence each.

    >>> import kwait
    >>> report = kwait.Report("wait", "pod/ci/web-0 did not become Ready within 30 s")
    >>> print(report.to_text())
    pod/ci/web-0 did not become Ready within 30 s
    """

    kind: ReportKind
    summary: str
    objects: tuple[ObjectReport, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    connection: tuple[str, ...] = ()

    def to_text(self, *, max_objects: int = 5, max_rows: int = 40) -> str:
        """Render as text: the summary, then up to `max_objects` object reports."""
        parts = [self.summary]
        parts.extend(f"  watch: {line}" for line in self.connection)
        for obj in self.objects[:max_objects]:
            parts.extend(("", obj.to_text(max_rows=max_rows)))
        more = len(self.objects) - max_objects
        if more > 0:
            parts.extend(("", f"… {_plural(more, 'more object', 'more objects')} in to_json()"))
        return scrub("\n".join(parts), self._secrets())

    def _secrets(self) -> frozenset[str]:
        return frozenset().union(*(o.secrets for o in self.objects))

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON-serialisable dict."""
        data: dict[str, Any] = scrub_json(
            {
                "kind": self.kind,
                "summary": self.summary,
                "details": {k: _jsonable(v) for k, v in self.details.items()},
                "connection": list(self.connection),
                "objects": [o.to_json() for o in self.objects],
            },
            self._secrets(),
        )
        return data

    def __str__(self) -> str:
        """Render as `to_text`."""
        return self.to_text()

    def statuses(self) -> set[Status]:
        """Return the verdicts of the objects in the report."""
        return {o.outcome.status for o in self.objects}
