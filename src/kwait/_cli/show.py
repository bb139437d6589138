"""``kwait show FILE``: a recording as the report's timeline table, or as a picture."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from kwait._cli.common import CliError, Parser, parse_state, raw_formatter
from kwait._match.states import State
from kwait._verdict.report import _rows, _table
from kwait._verdict.svg import _report_marks, default_state, to_svg
from kwait._watch.recording import Recording, RecordingFormatError, _key, load_timelines
from kwait._watch.timeline import Reconnect, Timeline

__all__ = ["build_parser", "run"]

DESCRIPTION = """\
Show timelines recorded by `kwait record`, `kwait wait --record` or
kwait.watch.save_timelines: per object, the table failure reports use (time,
event, resourceVersion, state, notes), or with --svg a picture with one lane
per object and its states as coloured spans over time.
"""

EXAMPLES = """\
examples:
  # Every object's timeline, as text
  kwait show run.jsonl

  # One object, showing its containers' waiting reason
  kwait show run.jsonl --object pod/web-0 --state waiting_reason

  # A picture, for a bug report or a CI artifact
  kwait show run.jsonl --svg run.svg
"""


def build_parser(prog: str = "kwait show") -> Parser:
    """The ``kwait show`` argument parser."""
    parser = Parser(
        prog=prog, description=DESCRIPTION, epilog=EXAMPLES, formatter_class=raw_formatter
    )
    parser.add_argument("file", metavar="FILE", help="a recording (JSON Lines)")
    parser.add_argument(
        "--object",
        action="append",
        default=[],
        metavar="NAME",
        help="only this object: NAME, KIND/NAME, NAMESPACE/NAME or a uid prefix (repeatable)",
    )
    parser.add_argument(
        "--state",
        metavar="STATE",
        help="what to show, e.g. waiting_reason, phase, condition_status(Ready) "
        "(default: the recording's, else a summary for the object's kind)",
    )
    parser.add_argument("--svg", metavar="OUT", help="write the picture to OUT instead")
    parser.add_argument("--max-rows", type=int, default=200, help="rows per table (default 200)")
    return parser


def _chosen(recording: Recording, wanted: Sequence[str]) -> list[Timeline]:
    timelines = list(recording.timelines().values())
    if not wanted:
        return timelines
    picked: list[Timeline] = []
    for name in wanted:
        try:
            timeline = recording.timeline(name)
        except LookupError as error:
            raise CliError(str(error).strip("'\"")) from None
        if timeline not in picked:
            picked.append(timeline)
    return picked


def run(argv: Sequence[str], out: TextIO, err: TextIO) -> int:  # noqa: ARG001 - same signature
    """Run ``kwait show`` with `argv`; return the exit status."""
    parser = build_parser()
    parser.stdout = out
    args = parser.parse_args(list(argv))
    try:
        recording = load_timelines(args.file)
    except OSError as error:
        raise CliError(f"cannot read {args.file}: {error.strerror or error}") from None
    except RecordingFormatError as error:
        raise CliError(f"{args.file}: {error}") from None
    spec = args.state or recording.header.get("state")
    state: State | None = parse_state(str(spec)) if spec else None
    timelines = _chosen(recording, args.object)
    if args.svg:
        picture = Recording(
            recording.header,
            tuple(e for e in recording.entries if _kept(e, timelines)),
            recording.reports,
        )
        Path(args.svg).write_text(to_svg(picture, state=state), encoding="utf-8")
        out.write(f"wrote {args.svg} ({len(timelines)} objects)\n")
        return 0
    out.write(_text(recording, timelines, state, args.max_rows))
    return 0


def _kept(entry: object, timelines: Sequence[Timeline]) -> bool:
    """Keep the chosen objects' entries, and the reconnects (they concern every object)."""
    if isinstance(entry, Reconnect):
        return True
    return any(any(e is entry for e in t.entries) for t in timelines)


def _text(
    recording: Recording, timelines: Sequence[Timeline], state: State | None, max_rows: int
) -> str:
    source = recording.header.get("source")
    lines = [f"recording of {source}" if source else "recording", ""]
    starts = [t.entries[0].time for t in recording.timelines().values() if t.entries]
    start = min(starts) if starts else 0.0
    marks = _report_marks(recording.reports)
    reconnects = recording.reconnects()
    for timeline in timelines:
        chosen = state or default_state(timeline.identity.kind)
        keyed = marks.get(timeline.identity.uid, {})
        notes = {e.seq: keyed[_key(e)] for e in timeline.entries if _key(e) in keyed}
        first, last = timeline.entries[0].seq, timeline.entries[-1].seq
        shown = [r for r in reconnects if first <= r.seq <= last]
        rows = _rows(timeline, chosen, notes, shown, start)
        lines.append(f"{timeline.identity}  ({chosen.description})")
        lines.extend("  " + line for line in _table(rows, max_rows))
        lines.append("")
    lines.extend(f"failure recorded: {r.get('summary', '')}" for r in recording.reports)
    return "\n".join(lines).rstrip() + "\n"
