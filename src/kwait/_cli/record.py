"""``kwait record``: record timelines to a file while a command runs, with a live view."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from kwait._cli.common import (
    CliError,
    Parser,
    add_connection_flags,
    connect,
    parse_duration,
    parse_state,
    raw_formatter,
    resource_args,
)
from kwait._cli.wait import _resolve, _spec
from kwait._errors import KwaitError
from kwait._match.states import State
from kwait._time.clock import SystemClock
from kwait._time.deadline import Deadline
from kwait._tracker import Tracker
from kwait._verdict.report import format_value
from kwait._verdict.svg import default_state
from kwait._watch.recording import RecordingWriter
from kwait._watch.timeline import Entry, Gap, Observation, Reconnect

__all__ = ["LiveView", "build_parser", "run"]

DESCRIPTION = """\
Record every state of the selected objects to FILE (JSON Lines: a versioned
header, then one line per observation, gap and reconnect; see docs/how-to/cli.md)
while a command runs, for a duration, or until Ctrl-C. On a terminal a live
view shows one line per object: its current state, its transitions so far and
the time since it was first seen; otherwise one plain line per change.
"""

EXAMPLES = """\
examples:
  # Record the app=web pods while the end-to-end tests run; exit with their status
  kwait record pods -l app=web -o run.jsonl -- pytest tests/e2e

  # Record one pod for two minutes, showing its containers' waiting reason
  kwait record pod/web-0 -o web.jsonl --duration 2m --state waiting_reason

  # Then look at it
  kwait show run.jsonl
  kwait show run.jsonl --svg run.svg
"""


def build_parser(prog: str = "kwait record") -> Parser:
    """The ``kwait record`` argument parser."""
    parser = Parser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=raw_formatter,
        usage="%(prog)s TYPE[/NAME] [NAME] [-l SELECTOR] -o FILE "
        "[--duration D | -- COMMAND [ARGS...]]",
    )
    parser.add_argument("resources", nargs="*", metavar="TYPE[/NAME]", help="what to record")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the recording")
    parser.add_argument("-l", "--selector", help="label selector, e.g. app=web")
    parser.add_argument("--field-selector", help="field selector, e.g. status.phase=Running")
    parser.add_argument("--duration", help="stop after this long (kubectl's syntax: 90s, 2m)")
    parser.add_argument(
        "--state", help="the state the live view (and kwait show) shows, e.g. waiting_reason"
    )
    parser.add_argument(
        "--plain", action="store_true", help="plain lines even on a terminal (no live view)"
    )
    add_connection_flags(parser)
    return parser


@dataclass
class _Line:
    label: str
    first: float
    state: str = "-"
    transitions: int = 0
    deleted: bool = False


class LiveView:
    """One line per object: current state, transitions so far, time since first seen.

    On a terminal the lines are redrawn in place; otherwise each change is one
    plain line (for CI logs).
    """

    def __init__(self, out: TextIO, state: State | None, *, live: bool) -> None:
        """Show on `out`; `state` picks what is shown (default: a summary per kind)."""
        self.out = out
        self.state = state
        self.live = live
        self.lines: dict[str, _Line] = {}
        self.start: float | None = None
        self._drawn = 0

    def _value(self, obs: Observation) -> str:
        if obs.type == "DELETED":
            return "<deleted>"
        if obs.object is None:
            return "<evicted>"
        state = self.state or default_state(obs.identity.kind)
        try:
            return format_value(state(obs.object), 40)
        except Exception as error:  # noqa: BLE001 - a live view shows whatever the state did
            return f"<error: {error}>"

    def update(self, entries: Sequence[Entry], now: float) -> None:
        """Take new entries; print plain lines for changes, or redraw."""
        for entry in entries:
            if self.start is None:
                self.start = entry.time
            if isinstance(entry, Observation):
                self._observe(entry)
            elif not self.live:
                self._plain_other(entry)
        if self.live:
            self.draw(now)

    def _observe(self, obs: Observation) -> None:
        uid = obs.identity.uid
        ident = obs.identity
        line = self.lines.get(uid)
        value = self._value(obs)
        if line is None:
            where = f"{ident.namespace}/" if ident.namespace else ""
            label = f"{ident.kind.lower()}/{where}{ident.name}"
            line = self.lines[uid] = _Line(label, obs.time, value)
        elif value != line.state:
            line.state = value
            line.transitions += 1
        else:
            return
        line.deleted = obs.type == "DELETED"
        if not self.live:
            offset = obs.time - (self.start or 0.0)
            self.out.write(
                f"+{offset:.3f}s  {line.label}  {value}  ({_transitions(line.transitions)})\n"
            )
            self.out.flush()

    def _plain_other(self, entry: Gap | Reconnect) -> None:
        offset = entry.time - (self.start or 0.0)
        if isinstance(entry, Gap):
            self.out.write(
                f"+{offset:.3f}s  GAP rv {entry.from_rv}..{entry.to_rv}: {entry.reason}\n"
            )
        else:
            self.out.write(f"+{offset:.3f}s  RECONNECT at rv {entry.resource_version}\n")
        self.out.flush()

    def draw(self, now: float) -> None:
        """Redraw every line in place (terminal only)."""
        if self._drawn:
            self.out.write(f"\x1b[{self._drawn}F")
        rows = [
            f"{line.label:<40}  {line.state:<24}  {_transitions(line.transitions):>15}  "
            f"{now - line.first:7.1f}s"
            for line in self.lines.values()
        ] or ["(nothing recorded yet)"]
        for row in rows:
            self.out.write("\x1b[2K" + row + "\n")
        self._drawn = len(rows)
        self.out.flush()


def _transitions(n: int) -> str:
    return f"{n} transition" if n == 1 else f"{n} transitions"


def _tracker(args: Any) -> Tracker:
    selecting = bool(args.selector or args.field_selector)
    parsed = (
        resource_args(args.resources, selecting=True)
        if len(args.resources) == 1 and "/" not in args.resources[0]
        else resource_args(args.resources, selecting=selecting)
    )
    if len(parsed.named) > 1:
        raise CliError("record one object by name, or several with a selector (-l)")
    conn = connect(args.kubeconfig, args.context)
    kind = parsed.named[0][0] if parsed.named else parsed.resource or ""
    info = _resolve(conn, [kind])[kind]
    namespace = None if args.all_namespaces else (args.namespace or conn.namespace or "default")
    return Tracker(
        _spec(info),
        parsed.named[0][1] if parsed.named else None,
        namespace=namespace,
        all_namespaces=bool(args.all_namespaces),
        label_selector=args.selector or None,
        field_selector=args.field_selector or None,
        api_client=conn.client,
        clock=SystemClock(),
    )


def run(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """Run ``kwait record``; return the command's exit status (0 without a command)."""
    argv = list(argv)
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    parser.stdout = out
    args = parser.parse_args(argv)
    duration = parse_duration(args.duration, "--duration") if args.duration else None
    state = parse_state(args.state) if args.state else None
    tracker = _tracker(args)
    live = not args.plain and out.isatty()
    view = LiveView(out, state, live=live)
    with Path(args.output).open("w", encoding="utf-8") as file, tracker:
        writer = RecordingWriter(file, source=tracker.describe(), state=args.state)
        clock = tracker.clock
        deadline = Deadline.after(duration, clock=clock) if duration is not None else None
        err.write(f"recording {tracker.describe()} to {args.output}\n")
        proc = _start(command) if command else None
        cursor = 0
        try:
            while True:
                new = tracker.recorder.wait_for_entries(cursor, 0.2)
                cursor += len(new)
                writer.write(new)
                view.update(new, clock.monotonic())
                if proc is not None and proc.poll() is not None:
                    break
                if deadline is not None and deadline.expired():
                    break
        except KeyboardInterrupt:
            if proc is not None:
                proc.terminate()
        with contextlib.suppress(KwaitError):
            tracker.sync(timeout=5.0)  # what the command did last is recorded too
        rest = tracker.recorder.entries(cursor)
        writer.write(rest)
        view.update(rest, clock.monotonic())
    code = 0 if proc is None else (proc.wait() if proc.returncode is None else proc.returncode)
    err.write(
        f"recorded {cursor + len(rest)} entries of {len(view.lines)} objects to {args.output}\n"
    )
    return code


def _start(command: Sequence[str]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(list(command))  # noqa: S603 - the user's own command
    except OSError as error:
        raise CliError(f"cannot run {command[0]!r}: {error.strerror or error}") from None
