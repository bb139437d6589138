"""The command line's subcommands: ``kwait wait``, ``kwait record``, ``kwait show``.

It sits above every other layer (it drives trackers and the one-call forms'
judging loops); ``kwait.__main__`` routes these subcommands here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from kwait._cli.common import CliError
from kwait._errors import KwaitError

__all__ = ["COMMANDS", "main", "run_command"]

COMMANDS: dict[str, str] = {
    "wait": "wait for conditions like kubectl wait; explain failures",
    "record": "record timelines to a file while a command runs",
    "show": "show recorded timelines as a table or an SVG picture",
}


def _runner(name: str) -> Callable[[Sequence[str], TextIO, TextIO], int]:
    # Imported on use, so `kwait --help` stays fast.
    if name == "wait":
        from kwait._cli.wait import run  # noqa: PLC0415
    elif name == "record":
        from kwait._cli.record import run  # noqa: PLC0415
    else:
        from kwait._cli.show import run  # noqa: PLC0415
    return run


def run_command(
    name: str,
    argv: Sequence[str],
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one subcommand; print errors as one ``error: ...`` line; return the exit status."""
    stdout = out or sys.stdout
    stderr = err or sys.stderr
    try:
        return _runner(name)(argv, stdout, stderr)
    except CliError as error:
        stderr.write(f"error: {error}\n")
        return error.code
    except KwaitError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        stderr.write(f"error: {first}\n")
        return 1
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    except KeyboardInterrupt:
        stderr.write("interrupted\n")
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """``kwait wait|record|show ...`` from `argv` (default: the process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        sys.stderr.write(f"error: give a command: {', '.join(COMMANDS)}\n")
        return 1
    return run_command(args[0], args[1:])
