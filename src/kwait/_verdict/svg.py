"""Timelines as a picture: one lane per object, its states as coloured spans over time.

`to_svg` draws a `Report` (a failed expectation), `Timeline` s, or a recording
loaded from a file as a standalone SVG document, written by hand (it is simple
XML; no drawing library is needed):

* one lane per object, labelled ``kind/namespace/name``;
* each state (as the state function shows it) a coloured span from the
  observation that entered it to the next change; states that look like
  failures (``ErrImagePull``, ``CrashLoopBackOff``, ``False`` ...) in warm
  colours; a deletion ends the lane with a cross;
* gaps (continuity lost: what happened there is unknown) as a hatched red
  band, reconnects (resumed without loss) as a dotted line;
* the steps a pattern matched as numbered dots, and the entry that decided a
  failure as a red line labelled ``failed here``.

Every element a reader (or a test) looks for has a ``class``: ``lane`` (with
``data-object``), ``span`` (with ``data-state``, ``data-start``, ``data-end``),
``gap``, ``reconnect``, ``deleted``, ``step``, ``decision``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from kwait._match.states import (
    State,
    condition_status,
    container_state,
    phase,
    rollout_status,
)
from kwait._verdict.report import ObjectReport, Report, Row, _rows
from kwait._watch.recording import Recording, _key
from kwait._watch.timeline import Identity, Reconnect, Timeline

__all__ = ["default_state", "to_svg"]

_BAD = re.compile(
    r"err|backoff|fail|crash|oom|evicted|error|false|deadline|invalid|<deleted>", re.IGNORECASE
)
_GOOD = re.compile(
    r"^(running|true|succeeded|completed|successfully rolled out|ready)$", re.IGNORECASE
)
_WARM = ("#d62728", "#ff7f0e", "#e377c2", "#8c564b", "#bcbd22", "#f7b6d2")
_COOL = ("#1f77b4", "#9467bd", "#17becf", "#aec7e8", "#c5b0d5", "#9edae5")
_GREEN = "#2ca02c"
_NONE = "#d9d9d9"


def _pod_summary() -> State:
    containers = container_state()
    pod_phase = phase()

    def read(obj: Any) -> Any:
        return containers(obj) or pod_phase(obj)

    return State(read, "container state (or phase)", name="container_state() or phase()")


def default_state(kind: str) -> State:
    """The state a picture shows for an object of `kind` when none is given.

    Pods: their containers' state (``ContainerCreating``, ``ErrImagePull``,
    ``Running`` ...), or the phase before there is one. Deployments: the
    rollout, as ``kubectl rollout status`` words it. Anything else: its Ready
    condition's status, or else its phase.

    >>> default_state("Pod")({"status": {"phase": "Pending"}})
    'Pending'
    """
    lowered = kind.lower()
    if lowered == "pod":
        return _pod_summary()
    if lowered == "deployment":
        return rollout_status()
    ready = condition_status("Ready")
    pod_phase = phase()

    def read(obj: Any) -> Any:
        value = ready(obj)
        return value if value is not None else pod_phase(obj)

    return State(read, "Ready condition (or phase)", name="condition_status('Ready') or phase()")


@dataclass
class _Lane:
    label: str
    rows: Sequence[Row]
    decision: str = ""
    extra_notes: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Span:
    state: str
    start: float
    end: float


def _palette(states: Iterable[str]) -> dict[str, str]:
    colours: dict[str, str] = {}
    warm = cool = 0
    for state in states:
        if state in colours:
            continue
        if state in ("-", "", "None"):
            colours[state] = _NONE
        elif _GOOD.match(state):
            colours[state] = _GREEN
        elif _BAD.search(state):
            colours[state] = _WARM[warm % len(_WARM)]
            warm += 1
        else:
            colours[state] = _COOL[cool % len(_COOL)]
            cool += 1
    return colours


def _spans(rows: Sequence[Row], end: float) -> tuple[list[_Span], float | None]:
    """The state spans of a lane, and the time of its deletion (if it ended in one)."""
    spans: list[_Span] = []
    current: tuple[str, float] | None = None
    deleted_at: float | None = None
    for row in rows:
        event = row.event.split(" ")[0]
        if event in ("GAP", "RECONNECT"):
            continue
        if event == "DELETED":
            if current is not None:
                spans.append(_Span(current[0], current[1], row.offset))
            current = None
            deleted_at = row.offset
            continue
        deleted_at = None
        if current is None or current[0] != row.state:
            if current is not None:
                spans.append(_Span(current[0], current[1], row.offset))
            current = (row.state, row.offset)
    if current is not None:
        spans.append(_Span(current[0], current[1], max(end, current[1])))
    return spans, deleted_at


def _nice_step(total: float) -> float:
    for step in (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if total / step <= 10:  # noqa: PLR2004 - at most ten ticks
            return float(step)
    return float(3600 * max(1, round(total / 36000)))


def _fmt_time(seconds: float) -> str:
    if seconds >= 60:  # noqa: PLR2004
        minutes, rest = divmod(seconds, 60)
        return f"{int(minutes)}m{rest:g}s" if rest else f"{int(minutes)}m"
    return f"{seconds:g}s"


def _text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f" {k.rstrip('_').replace('_', '-')}={quoteattr(v)}" for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


class _Canvas:
    left = 250.0
    right = 30.0
    top = 100.0
    lane_h = 30.0
    lane_gap = 36.0

    def __init__(self, width: float, t_end: float) -> None:
        self.width = width
        self.t_end = t_end if t_end > 0 else 1.0

    def x(self, t: float) -> float:
        usable = self.width - self.left - self.right
        return self.left + usable * max(0.0, t) / self.t_end

    def lane_y(self, index: int) -> float:
        return self.top + index * (self.lane_h + self.lane_gap)


def _lanes_from_timelines(
    timelines: Sequence[Timeline],
    state: State | None,
    reconnects: Sequence[Reconnect],
    reports: Sequence[Mapping[str, Any]],
) -> list[_Lane]:
    starts = [t.entries[0].time for t in timelines if t.entries]
    start = min(starts) if starts else 0.0
    marks = _report_marks(reports)
    lanes = []
    for timeline in timelines:
        chosen = state or default_state(timeline.identity.kind)
        keyed = marks.get(timeline.identity.uid, {})
        notes: dict[int, str] = {}
        for entry in timeline.entries:
            note = keyed.get(_key(entry))
            if note:
                notes[entry.seq] = note
        first = timeline.entries[0].seq if timeline.entries else 0
        last = timeline.entries[-1].seq if timeline.entries else 0
        shown = [r for r in reconnects if first <= r.seq <= last]
        rows = _rows(timeline, chosen, notes, shown, start)
        lanes.append(_Lane(_label(timeline.identity), rows))
    return lanes


def _report_marks(reports: Sequence[Mapping[str, Any]]) -> dict[str, dict[tuple[str, str], str]]:
    """Notes of saved reports, by object uid, then by (event, resourceVersion)."""
    marks: dict[str, dict[tuple[str, str], str]] = {}
    for report in reports:
        for obj in report.get("objects") or ():
            uid = str((obj.get("identity") or {}).get("uid", ""))
            for row in obj.get("timeline") or ():
                if row.get("note"):
                    key = (str(row.get("event")), str(row.get("resource_version")))
                    marks.setdefault(uid, {})[key] = str(row["note"])
    return marks


def _label(identity: Identity) -> str:
    kind = identity.kind.lower() or "object"
    return (
        f"{kind}/{identity.namespace}/{identity.name}"
        if identity.namespace
        else (f"{kind}/{identity.name}")
    )


def _lanes(subject: Any, state: State | None) -> tuple[list[_Lane], str]:
    if isinstance(subject, Report):
        lanes = [_Lane(_label(o.identity), o.rows, o.outcome.status.value) for o in subject.objects]
        return lanes, subject.summary
    if isinstance(subject, ObjectReport):
        return [_Lane(_label(subject.identity), subject.rows, subject.outcome.status.value)], (
            f"{subject.identity}: {subject.outcome.reason}"
        )
    if isinstance(subject, Recording):
        timelines = list(subject.timelines().values())
        title = str(subject.header.get("source") or "recorded timelines")
        if subject.reports:
            title = str(subject.reports[-1].get("summary") or title)
        return _lanes_from_timelines(timelines, state, subject.reconnects(), subject.reports), title
    if isinstance(subject, Timeline):
        return _lanes_from_timelines([subject], state, (), ()), str(subject.identity)
    if isinstance(subject, Mapping):
        subject = list(subject.values())
    timelines = list(subject)
    if not all(isinstance(t, Timeline) for t in timelines):
        raise TypeError(
            "to_svg draws a Report, an ObjectReport, a Timeline, timelines or a loaded "
            f"recording, not {type(subject).__name__}"
        )
    return _lanes_from_timelines(timelines, state, (), ()), "timelines"


def to_svg(
    subject: Any,
    *,
    state: State | None = None,
    title: str | None = None,
    width: int = 1100,
) -> str:
    """Draw timelines as an SVG document (a string): one lane per object, states over time.

    `subject` is a failed expectation's `kwait.Report` (``error.report``), one
    `kwait.reports.ObjectReport`, a `kwait.Timeline`, several (a list, or the
    dict ``tracker.timelines()`` returns), or a recording from
    `kwait.watch.load_timelines`. For timelines, `state` picks what the spans
    show (default: `default_state` for the object's kind); a report shows the
    state its expectation judged. Matched pattern steps and the failure point
    are highlighted when the report (or the recording) holds them.

    >>> from kwait.watch import Recorder
    >>> rec = Recorder(clock=None)
    >>> pod = {"kind": "Pod", "metadata": {"name": "web", "uid": "u1", "resourceVersion": "1"},
    ...        "status": {"phase": "Pending"}}
    >>> _ = rec.add_observation("ADDED", pod)
    >>> svg = to_svg(rec.timelines())
    >>> svg.startswith("<svg"), 'data-state="Pending"' in svg
    (True, True)
    """
    lanes, default_title = _lanes(subject, state)
    offsets = [r.offset for lane in lanes for r in lane.rows]
    last = max(offsets, default=0.0)
    t_end = last * 1.08 if last > 0 else 1.0
    canvas = _Canvas(float(width), t_end)
    states = [s.state for lane in lanes for s in _spans(lane.rows, t_end)[0]]
    colours = _palette(states)
    legend_rows = (len(colours) + 3) // 4
    height = canvas.lane_y(len(lanes)) + 50 + 22 * legend_rows
    svg_open = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">'
    )
    hatch = (
        '<defs><pattern id="kwait-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#fde0dd"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#d62728" stroke-width="2"/></pattern></defs>'
    )
    out = [
        svg_open,
        hatch,
        f'<rect width="{width}" height="{height:.0f}" fill="#ffffff"/>',
        _title(title or default_title, width),
    ]
    out.extend(_axis(canvas, len(lanes)))
    for index, lane in enumerate(lanes):
        out.extend(_lane(canvas, index, lane, colours))
    out.extend(_legend(canvas, len(lanes), colours))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _title(text: str, width: int) -> str:
    room = max(20, int((width - 24) / 8))
    shown = text if len(text) <= room else text[: room - 1] + "…"
    return (
        _text(12, 22, shown, font_size="15", font_weight="bold", class_="title")[:-7]
        + f"<title>{escape(text)}</title></text>"
    )


def _axis(canvas: _Canvas, n_lanes: int) -> list[str]:
    step = _nice_step(canvas.t_end)
    bottom = canvas.lane_y(n_lanes) - canvas.lane_gap
    out = ['<g class="axis" stroke="#999999">']
    tick = 0.0
    while tick <= canvas.t_end + 1e-9:
        x = canvas.x(tick)
        out.append(
            f'<line x1="{x:.1f}" y1="{canvas.top - 26:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" '
            'stroke="#eeeeee"/>'
        )
        out.append(
            _text(
                x,
                canvas.top - 32,
                _fmt_time(round(tick, 6)),
                text_anchor="middle",
                fill="#555555",
                stroke="none",
            )
        )
        tick += step
    out.append("</g>")
    return out


def _lane(canvas: _Canvas, index: int, lane: _Lane, colours: Mapping[str, str]) -> list[str]:
    y = canvas.lane_y(index)
    h = canvas.lane_h
    spans, deleted_at = _spans(lane.rows, canvas.t_end)
    out = [f'<g class="lane" data-object={quoteattr(lane.label)}>']
    lane_w = canvas.width - canvas.left - canvas.right
    out.append(
        f'<rect x="{canvas.left:.1f}" y="{y:.1f}" width="{lane_w:.1f}" height="{h:.1f}" '
        'fill="#f7f7f7"/>'
    )
    label = lane.label if len(lane.label) <= 36 else "…" + lane.label[-35:]  # noqa: PLR2004
    out.append(_text(10, y + h / 2 + 4, label, class_="label"))
    rows_used: list[list[tuple[float, float]]] = [[], []]
    for span in spans:
        x0 = canvas.x(span.start)
        w = max(2.0, canvas.x(span.end) - x0)
        colour = colours.get(span.state, _NONE)
        out.append(
            f'<rect class="span" data-state={quoteattr(span.state)} '
            f'data-start="{span.start:.3f}" data-end="{span.end:.3f}" x="{x0:.1f}" '
            f'y="{y + 3:.1f}" width="{w:.1f}" height="{h - 6:.1f}" rx="3" fill="{colour}">'
            f"<title>{escape(span.state)}: +{span.start:.3f}s to +{span.end:.3f}s</title></rect>"
        )
        if w >= 7 * len(span.state) + 6:
            fill = (
                "#333333"
                if colour in (_NONE, "#aec7e8", "#c5b0d5", "#9edae5", "#f7b6d2")
                else ("#ffffff")
            )
            out.append(_text(x0 + 4, y + h / 2 + 4, span.state, fill=fill, class_="span-label"))
        elif span.state not in ("-", ""):
            # Too narrow to hold its name (a short-lived state): label it above the lane,
            # on the first of two rows where it does not overlap another label.
            row = _free_row(rows_used, x0, x0 + 6.2 * len(span.state) + 4)
            if row is not None:
                out.append(
                    _text(
                        x0,
                        y - 9 - 11 * row,
                        span.state,
                        fill=colour,
                        font_size="10",
                        font_weight="bold",
                        class_="span-label",
                    )
                )
    if deleted_at is not None:
        x = canvas.x(deleted_at)
        out.append(
            f'<g class="deleted"><title>deleted at +{deleted_at:.3f}s</title>'
            f'<line x1="{x - 5:.1f}" y1="{y + h / 2 - 5:.1f}" x2="{x + 5:.1f}" '
            f'y2="{y + h / 2 + 5:.1f}" stroke="#000000" stroke-width="2"/>'
            f'<line x1="{x - 5:.1f}" y1="{y + h / 2 + 5:.1f}" x2="{x + 5:.1f}" '
            f'y2="{y + h / 2 - 5:.1f}" stroke="#000000" stroke-width="2"/></g>'
        )
    out.extend(_marks(canvas, y, lane))
    out.append("</g>")
    return out


def _free_row(rows: list[list[tuple[float, float]]], start: float, end: float) -> int | None:
    """Take the first row where [start, end] overlaps nothing; None if every row is full."""
    for index, taken in enumerate(rows):
        if all(end <= a or start >= b for a, b in taken):
            taken.append((start, end))
            return index
    return None


def _marks(canvas: _Canvas, y: float, lane: _Lane) -> list[str]:
    out: list[str] = []
    h = canvas.lane_h
    for row in lane.rows:
        x = canvas.x(row.offset)
        if row.event == "GAP":
            x0 = canvas.x(_previous_time(lane.rows, row))
            out.append(
                f'<rect class="gap" x="{x0:.1f}" y="{y:.1f}" width="{max(4.0, x - x0):.1f}" '
                f'height="{h:.1f}" fill="url(#kwait-hatch)" opacity="0.85">'
                f"<title>gap rv {escape(row.resource_version)}: {escape(row.state)}</title></rect>"
            )
        elif row.event == "RECONNECT":
            out.append(
                f'<line class="reconnect" x1="{x:.1f}" y1="{y - 3:.1f}" x2="{x:.1f}" '
                f'y2="{y + h + 3:.1f}" stroke="#555555" stroke-dasharray="2,2">'
                f"<title>reconnect at rv {escape(row.resource_version)}: "
                f"{escape(row.state)}</title></line>"
            )
        for part in (p.strip() for p in row.note.split(";") if p.strip()):
            step = re.match(r"^(step|change) (\d+): (.*)$", part)
            if step:
                out.append(
                    f'<g class="step" data-step="{step.group(2)}">'
                    f"<title>{escape(part)}</title>"
                    f'<circle cx="{x:.1f}" cy="{y + h:.1f}" r="7" fill="#ffffff" '
                    'stroke="#000000" stroke-width="1.5"/>'
                    + _text(
                        x,
                        y + h + 4,
                        step.group(2),
                        text_anchor="middle",
                        font_size="10",
                        font_weight="bold",
                    )
                    + "</g>"
                )
            elif part.endswith(" here") or part == "the answer depends on this":
                colour = "#2ca02c" if part == "matched here" else "#b00000"
                near_end = x > canvas.width - canvas.right - 7 * len(part)
                out.append(
                    f'<g class="decision" data-note={quoteattr(part)}>'
                    f'<line x1="{x:.1f}" y1="{y - 6:.1f}" x2="{x:.1f}" y2="{y + h + 6:.1f}" '
                    f'stroke="{colour}" stroke-width="3"/>'
                    + _text(
                        x - 5 if near_end else x + 5,
                        y + h + 13,
                        part,
                        fill=colour,
                        font_weight="bold",
                        font_size="11",
                        text_anchor="end" if near_end else "start",
                    )
                    + "</g>"
                )
    return out


def _previous_time(rows: Sequence[Row], gap: Row) -> float:
    before = [r.offset for r in rows if r.seq < gap.seq and r.event not in ("GAP", "RECONNECT")]
    return before[-1] if before else gap.offset


def _legend(canvas: _Canvas, n_lanes: int, colours: Mapping[str, str]) -> list[str]:
    y = canvas.lane_y(n_lanes) + 20
    out = ['<g class="legend">']
    for i, (state, colour) in enumerate(colours.items()):
        col, row = i % 4, i // 4
        x = canvas.left + col * 200
        yy = y + row * 22
        out.append(
            f'<rect x="{x:.1f}" y="{yy:.1f}" width="14" height="14" rx="2" fill="{colour}"/>'
        )
        out.append(_text(x + 20, yy + 11, state if len(state) <= 28 else state[:27] + "…"))  # noqa: PLR2004
    out.append(_text(10, y + 11, "states:", fill="#555555"))
    below = y + 22 * ((len(colours) + 3) // 4) + 11
    out.append(
        _text(
            canvas.left,
            below,
            "hatched: gap (unobserved) · dotted line: reconnect · "
            "✕: deleted · numbered dots: matched steps",
            fill="#555555",
        )
    )
    out.append("</g>")
    return out
