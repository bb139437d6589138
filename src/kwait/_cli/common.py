"""What the subcommands share: errors, kubectl's durations, state specs, resource arguments."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

from kwait._errors import KwaitError
from kwait._match import states as st
from kwait._match.pattern import in_order
from kwait._match.states import State

__all__ = [
    "CliError",
    "Connection",
    "Parser",
    "ResourceArgs",
    "connect",
    "parse_duration",
    "parse_expect",
    "parse_state",
    "resource_args",
]

WEEK = 168 * 3600.0


class CliError(Exception):
    """A one-line error for the user; ``main`` prints ``error: <message>`` and exits."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are kubectl's: one line, exit status 1."""

    stdout: TextIO | None = None

    def print_help(self, file: Any = None) -> None:
        """Print the help to the command's output stream."""
        super().print_help(file or self.stdout)

    def error(self, message: str) -> NoReturn:
        """Raise the usage error as a `CliError` (kubectl exits 1 on bad flags)."""
        raise CliError(f"{message} (see '{self.prog} --help')")


def raw_formatter(prog: str) -> argparse.HelpFormatter:
    """Keep the examples in ``--help`` as written."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str, flag: str = "--timeout") -> float:
    """Parse a Go duration as kubectl's flags do: ``30s``, ``1m30s``, ``1.5h``, ``0``, ``-1s``.

    >>> parse_duration("1m30s"), parse_duration("0"), parse_duration("250ms")
    (90.0, 0.0, 0.25)
    >>> parse_duration("30")
    Traceback (most recent call last):
    ...
    kwait._cli.common.CliError: invalid argument "30" for "--timeout" flag: time: missing unit ...
    """
    value = text.strip()
    sign = 1.0
    body = value
    if body[:1] in "+-" and body:
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        raise _bad_duration(text, flag, "invalid duration")
    total = 0.0
    pos = 0
    while pos < len(body):
        match = _PART.match(body, pos)
        if match is None or match.group(1) in ("", "."):
            number = re.match(r"\d*\.?\d*", body[pos:])
            if number and number.group(0) and pos + len(number.group(0)) == len(body):
                raise _bad_duration(text, flag, "missing unit in duration")
            unit = re.match(r"\d*\.?\d*([^\d.]+)", body[pos:])
            if number and number.group(0) and unit:
                raise _bad_duration(text, flag, f'unknown unit "{unit.group(1)}" in duration')
            raise _bad_duration(text, flag, "invalid duration")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def _bad_duration(text: str, flag: str, why: str) -> CliError:
    return CliError(f'invalid argument "{text}" for "{flag}" flag: time: {why} "{text}"')


# ------------------------------------------------------------------ states on the command line

_STATES: dict[str, Any] = {
    "phase": st.phase,
    "waiting_reason": st.waiting_reason,
    "terminated_reason": st.terminated_reason,
    "container_state": st.container_state,
    "restart_count": st.restart_count,
    "image": st.image,
    "condition_status": st.condition_status,
    "jsonpath": st.jsonpath_value,
    "jsonpath_value": st.jsonpath_value,
    "field": st.field,
    "generation": st.generation,
    "rollout_status": st.rollout_status,
}
_SPEC = re.compile(r"^\s*([a-z_]+)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def parse_state(spec: str) -> State:
    """Turn ``waiting_reason``, ``waiting_reason(app)``, ``condition_status(Ready)`` into a state.

    The names are those of `kwait.states`; an argument in parentheses is the
    container, condition type, JSONPath or field path.

    >>> parse_state("condition_status(Ready)")
    condition_status('Ready')
    """
    match = _SPEC.match(spec)
    if not match or match.group(1) not in _STATES:
        names = ", ".join(sorted(_STATES))
        raise CliError(f"unknown state {spec.strip()!r}; use one of: {names}")
    fn = _STATES[match.group(1)]
    arg = (match.group(2) or "").strip().strip("'\"")
    try:
        return fn(arg) if arg else fn()  # type: ignore[no-any-return]
    except TypeError:
        raise CliError(
            f"the state {match.group(1)} needs an argument, e.g. {match.group(1)}(Ready)"
        ) from None
    except (ValueError, KwaitError) as error:
        raise CliError(f"state {spec.strip()!r}: {error}") from None


def _value(text: str) -> Any:
    """A pattern element: JSON numbers, true/false/null as such, anything else as text."""
    stripped = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?|true|false|null", stripped):
        return json.loads(stripped)
    return stripped.strip("'\"")


@dataclass(frozen=True)
class Expectation:
    """``--expect "STATE: A, B, !C"``: the states to go through in order; ``!C`` is forbidden."""

    text: str
    spec: str
    state: State
    pattern: Any


def parse_expect(text: str) -> Expectation:
    """Parse ``--expect "waiting_reason: ErrImagePull, ImagePullBackOff"``.

    >>> e = parse_expect("waiting_reason: ErrImagePull, ImagePullBackOff")
    >>> e.spec, e.pattern
    ('waiting_reason', ['ErrImagePull', 'ImagePullBackOff'])
    >>> parse_expect("container_state: Running, !ErrImagePull").pattern
    in_order('Running').without('ErrImagePull')
    """
    spec, sep, rest = text.partition(":")
    if not sep or not rest.strip():
        raise CliError(
            f"--expect {text!r}: write STATE: A, B, ... e.g. "
            "--expect 'waiting_reason: ErrImagePull, ImagePullBackOff'"
        )
    if spec.count("(") > spec.count(")"):  # a ':' inside the state's argument
        inner, sep2, rest = rest.partition(":")
        spec = f"{spec}:{inner}"
        if not sep2:
            raise CliError(f"--expect {text!r}: no ':' after the state")
    parts = [part.strip() for part in rest.split(",") if part.strip()]
    wanted = [_value(p) for p in parts if not p.startswith("!")]
    forbidden = [_value(p[1:]) for p in parts if p.startswith("!")]
    if not wanted:
        raise CliError(f"--expect {text!r}: name at least one state to go through")
    pattern: Any = in_order(*wanted).without(*forbidden) if forbidden else wanted
    return Expectation(text, spec.strip(), parse_state(spec), pattern)


# ------------------------------------------------------------------ resources


@dataclass(frozen=True)
class ResourceArgs:
    """What the positional arguments name: (resource, name) pairs, or one resource to select."""

    named: tuple[tuple[str, str], ...] = ()
    resource: str | None = None


def resource_args(args: Sequence[str], *, selecting: bool) -> ResourceArgs:
    """Read kubectl's forms: ``TYPE/NAME ...``, ``TYPE NAME ...``, or ``TYPE`` with a selector.

    >>> resource_args(["pod/a", "deploy/b"], selecting=False).named
    (('pod', 'a'), ('deploy', 'b'))
    >>> resource_args(["pods", "a", "b"], selecting=False).named
    (('pods', 'a'), ('pods', 'b'))
    """
    if not args:
        raise CliError(
            "you must provide one or more resources, e.g. 'pod/web-0', 'pods web-0' or "
            "'pods -l app=web'"
        )
    if all("/" in a for a in args):
        named = []
        for arg in args:
            kind, _, name = arg.partition("/")
            if not kind or not name or "/" in name:
                raise CliError(
                    f"arguments in resource/name form must have a single resource and name: {arg!r}"
                )
            named.append((kind, name))
        if selecting:
            raise CliError("name cannot be provided when a selector is specified")
        return ResourceArgs(named=tuple(named))
    if any("/" in a for a in args):
        raise CliError(
            "there is no need to specify a resource type as a separate argument when passing "
            "arguments in resource/name form (e.g. 'kwait wait pod/web-0' instead of "
            "'kwait wait pod pod/web-0')"
        )
    resource, *names = args
    if names:
        if selecting:
            raise CliError("name cannot be provided when a selector is specified")
        return ResourceArgs(named=tuple((resource, n) for n in names))
    if not selecting:
        raise CliError("resource(s) were provided, but no name was specified")
    return ResourceArgs(resource=resource)


@dataclass
class Connection:
    """An API client and the namespace the kubeconfig's context sets."""

    client: Any
    namespace: str | None
    host: str


def connect(kubeconfig: str | None, context: str | None) -> Connection:
    """Connect as kubectl would: ``--kubeconfig``, else ``KUBECONFIG``, else ``~/.kube/config``."""
    from kwait._watch import kube  # noqa: PLC0415 - the client loads only when a command needs it

    try:
        client = kube.api_client_from(kubeconfig, context)
    except KwaitError:
        raise
    except Exception as error:  # noqa: BLE001 - the client raises many types for a bad config
        raise CliError(f"cannot load the kubeconfig: {error}") from None
    return Connection(
        client, kube.kubeconfig_namespace(kubeconfig, context), client.configuration.host
    )


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """``--kubeconfig``, ``--context``, ``-n``, ``-A``: kubectl's spelling and meaning."""
    parser.add_argument(
        "--kubeconfig",
        help="path to the kubeconfig file (default: KUBECONFIG, then ~/.kube/config)",
    )
    parser.add_argument("--context", help="the kubeconfig context to use")
    parser.add_argument(
        "-n", "--namespace", help="the namespace (default: the context's, else 'default')"
    )
    parser.add_argument(
        "-A", "--all-namespaces", action="store_true", help="across every namespace"
    )


def say_error(message: str, err: TextIO | None = None) -> None:
    """Print kubectl's error line."""
    (err or sys.stderr).write(f"error: {message}\n")
