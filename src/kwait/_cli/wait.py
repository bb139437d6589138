"""``kwait wait``: ``kubectl wait``'s interface and output, with kwait's report on failure."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kwait._cli.common import (
    WEEK,
    CliError,
    Connection,
    Expectation,
    Parser,
    add_connection_flags,
    connect,
    parse_duration,
    parse_expect,
    raw_formatter,
    resource_args,
)
from kwait._errors import KwaitError, UnknownResourceError
from kwait._match.states import JSONPathError, parse_for
from kwait._time.clock import SystemClock
from kwait._time.deadline import Deadline
from kwait._tracker import Tracker
from kwait._verdict.failures import ExpectationError, WaitTimeoutError
from kwait._verdict.report import Report
from kwait._watch.recording import merge_entries, save_timelines
from kwait._watch.resources import ResourceInfo, resolve_resource

__all__ = ["build_parser", "run"]

DESCRIPTION = """\
Wait for a condition on one or many objects, as `kubectl wait` does: the same
arguments, the same success line per object, the same exit status. Unlike
kubectl, kwait watches from the start and records every state the objects pass
through: when the wait fails, it prints why (the timeline, how far the wait got,
the object's Events and its last state) after kubectl's error line.
"""

EXAMPLES = """\
examples:
  # Wait until the pod web-0 is Ready (default timeout 30s)
  kwait wait --for=condition=Ready pod/web-0

  # Every pod labelled app=web Ready, within two minutes
  kwait wait --for=condition=Ready pods -l app=web --timeout=2m

  # A field reaching a value, and a condition being false
  kwait wait --for=jsonpath='{.status.phase}'=Running pod/web-0
  kwait wait --for=condition=Ready=false pod/web-0

  # Created, then Ready (conditions are waited for in order)
  kwait wait --for=create --for=condition=Ready pod/web-0

  # Deleted (the object that exists now: a new one of the same name does not count)
  kwait wait --for=delete pod/web-0 --timeout=60s

  # Check once, without waiting
  kwait wait --for=condition=Available deployment/web --timeout=0

  # kwait only: the container goes ErrImagePull then ImagePullBackOff, recorded to a file
  kwait wait pod/vm-launcher --expect 'waiting_reason: ErrImagePull, ImagePullBackOff' \\
      --record run.jsonl --timeout=2m

exit status: 0 when every condition is met, 1 otherwise (as kubectl).
"""


def build_parser(prog: str = "kwait wait") -> Parser:
    """The ``kwait wait`` argument parser."""
    parser = Parser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=raw_formatter,
        usage="%(prog)s (TYPE/NAME ... | TYPE NAME ... | TYPE (-l SELECTOR | --all)) "
        "--for=CONDITION [--for=...] [--timeout=30s] [options]",
    )
    parser.add_argument("resources", nargs="*", metavar="TYPE[/NAME]", help="what to wait for")
    parser.add_argument(
        "--for",
        dest="conditions",
        action="append",
        default=[],
        metavar="CONDITION",
        help="create, delete, condition=TYPE[=STATUS] or jsonpath='{EXPR}'[=VALUE]; "
        "repeat it to wait for several, in order",
    )
    parser.add_argument(
        "--timeout",
        default="30s",
        help="how long to wait, in kubectl's syntax (30s, 1m30s); 0 checks once; "
        "negative waits a week (default 30s)",
    )
    parser.add_argument("-l", "--selector", help="label selector, e.g. app=web,tier!=cache")
    parser.add_argument("--field-selector", help="field selector, e.g. status.phase=Running")
    parser.add_argument(
        "--all", action="store_true", help="every object of the type in the namespace"
    )
    add_connection_flags(parser)
    parser.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="'STATE: A, B, ...'",
        help="kwait only: the object's STATE must go through A, B, ... in that order; "
        "!X forbids state X "
        "(e.g. 'waiting_reason: ErrImagePull, ImagePullBackOff')",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="kwait only: save the recorded timelines to FILE (JSON Lines)",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=["json"],
        help="kwait only: print one JSON document (what was met, errors, reports) instead of lines",
    )
    return parser


@dataclass
class _Target:
    info: ResourceInfo
    name: str | None
    tracker: Tracker

    def display(self, name: str) -> str:
        """Kubectl's name printer: ``pod/web-0``, ``deployment.apps/web``."""
        kind = self.info.kind.lower()
        return f"{kind}.{self.info.group}/{name}" if self.info.group else f"{kind}/{name}"

    def object_name(self, name: str) -> str:
        """Kubectl's ``info.ObjectName()``: ``pods/web-0`` (the resource, without its group)."""
        return f"{self.info.plural}/{name}"


@dataclass
class _Outcome:
    met: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)


@dataclass
class _Run:
    """One invocation: what to wait for, the shared deadline, where results go."""

    conditions: Sequence[str]
    expectations: Sequence[Expectation]
    deadline: Deadline
    timeout: float
    out: TextIO
    lines: bool
    outcome: _Outcome = field(default_factory=_Outcome)

    def met(self, shown: str, key: str, what: str, line: str) -> None:
        self.outcome.met.append({"object": shown, key: what})
        if self.lines:
            self.out.write(f"{shown} {line}\n")
            self.out.flush()


def _spec(info: ResourceInfo) -> str:
    return f"{info.plural}.{info.version}.{info.group}" if info.group else info.plural


def _resolve(conn: Connection, names: Sequence[str]) -> dict[str, ResourceInfo]:
    from kwait._watch import kube  # noqa: PLC0415 - the client loads only when a command needs it

    http = kube.KubeHttp(conn.client)
    resources = kube.discovery_for(conn.client).resources(http)
    found: dict[str, ResourceInfo] = {}
    for name in names:
        try:
            found[name] = resolve_resource(name, resources)
        except UnknownResourceError:  # noqa: PERF203 - the first unknown one ends the command
            raise CliError(f'the server doesn\'t have a resource type "{name}"') from None
    return found


def _targets(args: Any, conn: Connection) -> list[_Target]:
    selecting = bool(args.selector or args.field_selector or args.all)
    parsed = resource_args(args.resources, selecting=selecting)
    if parsed.named and args.all_namespaces:
        raise CliError("a resource cannot be retrieved by name across all namespaces")
    if args.all_namespaces and args.namespace:
        raise CliError("give either --namespace or --all-namespaces, not both")
    kinds = [k for k, _ in parsed.named] or [parsed.resource or ""]
    infos = _resolve(conn, list(dict.fromkeys(kinds)))
    namespace = None if args.all_namespaces else (args.namespace or conn.namespace or "default")
    options: dict[str, Any] = {
        "api_client": conn.client,
        "namespace": namespace,
        "all_namespaces": bool(args.all_namespaces),
        "clock": SystemClock(),
    }
    if parsed.named:
        return [
            _Target(infos[kind], name, Tracker(_spec(infos[kind]), name, **options))
            for kind, name in parsed.named
        ]
    info = infos[parsed.resource or ""]
    tracker = Tracker(
        _spec(info),
        label_selector=args.selector or None,
        field_selector=args.field_selector or None,
        **options,
    )
    return [_Target(info, None, tracker)]


def _check_conditions(conditions: Sequence[str], expects: Sequence[str]) -> list[Expectation]:
    if not conditions and not expects:
        raise CliError("unrecognized condition: []: give --for=CONDITION (or --expect)")
    for cond in conditions:
        try:
            parse_for(cond)
        except (ValueError, JSONPathError) as error:  # noqa: PERF203 - the first bad one ends it
            text = str(error)
            if text.startswith("unrecognized condition"):
                text = f'unrecognized condition: "{cond}"'  # as kubectl quotes it
            elif "jsonpath" not in text:
                text = f"--for={cond}: {text}"
            raise CliError(text) from None
    return [parse_expect(e) for e in expects]


def run(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """Run ``kwait wait`` with `argv` (the arguments after ``wait``); return the exit status."""
    parser = build_parser()
    parser.stdout = out
    args = parser.parse_args(list(argv))
    expectations = _check_conditions(args.conditions, args.expect)
    timeout = parse_duration(args.timeout)
    if timeout < 0:
        timeout = WEEK
    conn = connect(args.kubeconfig, args.context)
    targets = _targets(args, conn)
    started: list[Tracker] = []
    outcome = _Outcome()
    try:
        for target in targets:
            target.tracker.start()
            started.append(target.tracker)
        clock = targets[0].tracker.clock
        deadline = Deadline.after(timeout, clock=clock)
        run = _Run(
            args.conditions,
            expectations,
            deadline,
            timeout,
            out,
            lines=args.output != "json",
            outcome=outcome,
        )
        _wait_all(targets, run)
    finally:
        for tracker in started:
            tracker.stop()
    if args.record:
        _record(Path(args.record), targets, expectations, outcome)
    err.writelines(line + "\n" for line in outcome.errors)
    if args.output == "json":
        doc = {
            "ok": not outcome.errors,
            "met": outcome.met,
            "errors": outcome.errors,
            "reports": [r.to_json() for r in outcome.reports],
        }
        out.write(json.dumps(doc, indent=2, default=str) + "\n")
    else:
        err.writelines("\n" + report.to_text() + "\n" for report in outcome.reports)
    return 1 if outcome.errors else 0


def _record(
    path: Path, targets: Sequence[_Target], expectations: Sequence[Expectation], outcome: _Outcome
) -> None:
    entries = merge_entries([t.tracker.recorder for t in targets])
    state = expectations[0].spec if expectations else None
    source = "; ".join(t.tracker.describe() for t in targets)
    report = outcome.reports[0] if outcome.reports else None
    save_timelines(entries, path, report=report, source=source, state=state)


def _wait_all(targets: Sequence[_Target], run: _Run) -> None:
    lowered = [c.lower() for c in run.conditions]
    for_delete = "delete" in lowered
    errors = run.outcome.errors
    if "create" in lowered and not _created(targets, run.deadline, run.timeout):
        errors.append("error: timed out waiting for the condition")
        return
    for target in targets:
        names = _names(target)
        if target.name is not None and not names:
            if not for_delete:
                what = f'{target.info.qualified} "{target.name}"'
                errors.append(f"Error from server (NotFound): {what} not found")
            continue
        if target.name is None and not names and not for_delete:
            errors.append("error: no matching resources found")
            continue
        for name in names:
            _wait_one(target, name, run)


def _names(target: _Target) -> list[str]:
    _, present = target.tracker.recorder.present()
    names = [o.identity.name for o in present]
    if target.name is not None:
        return [target.name] if target.name in names else []
    return list(dict.fromkeys(names))


def _exists(target: _Target) -> bool:
    return bool(_names(target))


def _created(targets: Sequence[_Target], deadline: Deadline, timeout: float) -> bool:
    """Kubectl waits for every named object (or any selected one) to exist first."""
    for target in targets:
        recorder = target.tracker.recorder
        clock = target.tracker.clock
        with recorder.condition:
            if timeout == 0:
                found = bool(_names(target))
            else:
                found = clock.wait_for(
                    recorder.condition, functools.partial(_exists, target), deadline.timeout()
                )
        if not found:
            return False
    return True


def _wait_one(target: _Target, name: str, run: _Run) -> None:
    """Wait in kubectl's order: each condition in turn, stopping at the first that fails."""
    shown = target.display(name)
    budget: float | Deadline = 0.0 if run.timeout == 0 else run.deadline
    tracker = target.tracker
    try:
        for cond in run.conditions:
            if cond.lower() != "create":
                tracker.wait_for(cond, name=name, timeout=budget)
            run.met(shown, "for", cond, "condition met")
        for exp in run.expectations:
            tracker.expect_transitions(exp.state, exp.pattern, name=name, timeout=budget)
            run.met(shown, "expect", exp.text, f"transitions matched ({exp.text})")
    except ExpectationError as error:
        _failed(target, name, run.timeout, error, run.outcome)
    except KwaitError as error:
        run.outcome.errors.append(f"error: {error}")


def _failed(
    target: _Target, name: str, timeout: float, error: ExpectationError, outcome: _Outcome
) -> None:
    what = target.object_name(name)
    if timeout == 0:
        outcome.errors.append(f"error: condition not met for {what}")
    elif isinstance(error, WaitTimeoutError):
        outcome.errors.append(f"error: timed out waiting for the condition on {what}")
    else:
        outcome.errors.append(f"error: {error.report.summary}")
    outcome.reports.append(error.report)
