"""Command line: ``python -m kwait demo``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kwait command line and return its exit status."""
    parser = argparse.ArgumentParser(prog="kwait", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="track a pod through an image-pull failure and show the timeline")
    args = parser.parse_args(argv)
    if args.command == "demo":
        sys.stdout.write(
            "kwait demo: not yet available. It will start an in-process API server, track a pod\n"
            "cycling ErrImagePull and ImagePullBackOff, and print the recorded timeline.\n",
        )
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    raise SystemExit(main())
