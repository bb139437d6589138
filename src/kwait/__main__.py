"""Command line: ``kwait demo``, ``kwait wait``, ``kwait record``, ``kwait show``.

Errors are one line on stderr (``error: ...``) and exit 1, as kubectl's do; a
failed or timed-out wait prints kwait's report and exits 1; a usage error exits 2
(argparse's convention); an interrupt exits 130. ``kwait --version`` names the
release.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kwait._version import __version__

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def _parser(commands: dict[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kwait", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kwait {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in commands.items():
        sub.add_parser(name, help=text, add_help=False)
    demo = sub.add_parser(
        "demo", help="track a pod through an image-pull failure and show the timeline"
    )
    demo.add_argument(
        "--kubeconfig",
        help="run against the cluster of this kubeconfig instead of the in-process API "
        "server (an exported KUBECONFIG is not used: the demo creates a pod)",
    )
    demo.add_argument("--namespace", default="default", help="namespace for the demo pod")
    demo.add_argument(
        "--fake",
        action="store_true",
        help="use the in-process API server (the default without --kubeconfig)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kwait command line and return its exit status."""
    from kwait._cli import COMMANDS, run_command  # noqa: PLC0415 - keeps --help fast

    given = list(sys.argv[1:] if argv is None else argv)
    if given and given[0] in COMMANDS:
        return run_command(given[0], given[1:])
    args = _parser(COMMANDS).parse_args(given)
    from kwait._errors import KwaitError  # noqa: PLC0415 - keeps --help and --version fast

    try:
        return _demo(args)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return EXIT_INTERRUPTED
    except (KwaitError, ValueError, TypeError) as error:
        sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return EXIT_ERROR


def _demo(args: argparse.Namespace) -> int:
    from kwait._check import check_namespace  # noqa: PLC0415
    from kwait._demo import run_demo  # noqa: PLC0415 - keeps --help fast

    check_namespace(args.namespace, "--namespace")
    # Only an explicit --kubeconfig sends the demo pod to a cluster, never a KUBECONFIG
    # exported for other work.
    kubeconfig = args.kubeconfig or None
    use_fake = args.fake or kubeconfig is None
    result = run_demo(
        kubeconfig=kubeconfig, use_fake=use_fake, namespace=args.namespace, out=sys.stdout
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
