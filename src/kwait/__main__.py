"""Command line: ``kwait demo``, ``kwait wait``, ``kwait record``, ``kwait show``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kwait command line and return its exit status."""
    from kwait._cli import COMMANDS, run_command  # noqa: PLC0415 - keeps --help fast

    given = list(sys.argv[1:] if argv is None else argv)
    if given and given[0] in COMMANDS:
        return run_command(given[0], given[1:])
    parser = argparse.ArgumentParser(prog="kwait", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in COMMANDS.items():
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
    args = parser.parse_args(argv)
    if args.command == "demo":
        from kwait._demo import run_demo  # noqa: PLC0415 - keeps --help fast

        # Only an explicit --kubeconfig sends the demo pod to a cluster, never a KUBECONFIG
        # exported for other work.
        kubeconfig = args.kubeconfig or None
        use_fake = args.fake or kubeconfig is None
        result = run_demo(
            kubeconfig=kubeconfig, use_fake=use_fake, namespace=args.namespace, out=sys.stdout
        )
        return 0 if result.ok else 1
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    raise SystemExit(main())
