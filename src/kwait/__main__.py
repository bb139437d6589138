"""Command line: ``python -m kwait demo``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kwait command line and return its exit status."""
    parser = argparse.ArgumentParser(prog="kwait", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="track a pod through an image-pull failure and show the timeline"
    )
    demo.add_argument(
        "--kubeconfig",
        help="run against this cluster instead of the in-process API server "
        "(KUBECONFIG is used too when set)",
    )
    demo.add_argument("--namespace", default="default", help="namespace for the demo pod")
    demo.add_argument(
        "--fake",
        action="store_true",
        help="use the in-process API server even when KUBECONFIG is set",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from kwait._demo import run_demo  # noqa: PLC0415 - keeps --help fast

        kubeconfig = args.kubeconfig or os.environ.get("KUBECONFIG") or None
        use_fake = args.fake or kubeconfig is None
        result = run_demo(
            kubeconfig=kubeconfig, use_fake=use_fake, namespace=args.namespace, out=sys.stdout
        )
        return 0 if result.ok else 1
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    raise SystemExit(main())
