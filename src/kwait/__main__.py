"""Command line: ``python -m kwait demo`` and ``python -m kwait wait`` (kubectl wait's flags).

Errors are one line on stderr (``error: ...``) and exit 1, as kubectl's do;
a failed or timed-out wait prints kwait's report and exits 1; a usage error
exits 2 (argparse's convention); an interrupt exits 130.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence

from kwait._version import __version__

__all__ = ["main"]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kwait", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kwait {__version__}")
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
    wait = sub.add_parser(
        "wait",
        help="wait for a condition, as kubectl wait does (and explain a failure)",
        description="Wait as `kubectl wait` does: several --for flags are waited for in "
        "turn; a failure prints the object's timeline.",
    )
    wait.add_argument("target", nargs="+", help="TYPE NAME..., TYPE/NAME..., or TYPE with -l")
    wait.add_argument("--for", dest="conditions", action="append", required=True, metavar="FOR")
    wait.add_argument("-n", "--namespace", default=None)
    wait.add_argument("-A", "--all-namespaces", action="store_true")
    wait.add_argument("-l", "--selector", default=None)
    wait.add_argument("--field-selector", default=None)
    wait.add_argument("--timeout", default="30s", help="e.g. 30s, 5m, 1h (default 30s)")
    wait.add_argument("--kubeconfig", default=None)
    return parser


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration (``30s``, ``1m30s``, ``500ms``) or a bare number of seconds.

    >>> parse_duration("1m30s"), parse_duration("2"), parse_duration("500ms")
    (90.0, 2.0, 0.5)
    """
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"--timeout={text!r} is not a duration such as 30s, 5m or 1h30m")
    return sum(float(n) * _UNIT[u] for n, u in parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kwait command line and return its exit status."""
    args = _parser().parse_args(argv)
    from kwait._errors import KwaitError  # noqa: PLC0415 - keeps --help and --version fast

    try:
        if args.command == "demo":
            return _demo(args)
        return _wait(args)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return EXIT_INTERRUPTED
    except (KwaitError, ValueError, TypeError) as error:
        from kwait._verdict.failures import ExpectationError  # noqa: PLC0415

        if isinstance(error, ExpectationError):
            sys.stderr.write(f"error: {error}\n")
        else:
            sys.stderr.write(f"error: {' '.join(str(error).split())}\n")
        return EXIT_ERROR


def _demo(args: argparse.Namespace) -> int:
    from kwait._check import check_namespace  # noqa: PLC0415
    from kwait._demo import run_demo  # noqa: PLC0415 - keeps --help fast

    check_namespace(args.namespace, "--namespace")
    kubeconfig = args.kubeconfig or os.environ.get("KUBECONFIG") or None
    use_fake = args.fake or kubeconfig is None
    result = run_demo(
        kubeconfig=kubeconfig, use_fake=use_fake, namespace=args.namespace, out=sys.stdout
    )
    return 0 if result.ok else 1


def _targets(words: list[str], selector: bool) -> tuple[str, list[str | None]]:  # noqa: FBT001
    """The target forms kubectl takes: ``TYPE NAME...`` or ``TYPE/NAME...`` (one type)."""
    if "/" in words[0]:
        pairs = [w.partition("/") for w in words]
        kinds = {p[0] for p in pairs}
        if len(kinds) > 1 or any(not p[1] for p in pairs):
            raise ValueError("give TYPE/NAME arguments of one resource type")
        return pairs[0][0], [p[2] for p in pairs]
    resource, names = words[0], words[1:]
    if not names and not selector:
        raise ValueError("resource name must be provided (or a selector: -l, --field-selector)")
    return resource, list(names) or [None]


def _wait(args: argparse.Namespace) -> int:
    from kwait._tracker import Tracker  # noqa: PLC0415 - keeps --help fast
    from kwait._verdict.judge import check_until  # noqa: PLC0415
    from kwait._watch import kube as _kube  # noqa: PLC0415

    check_until(args.conditions)
    timeout = parse_duration(args.timeout)
    selector = bool(args.selector or args.field_selector)
    resource, names = _targets(args.target, selector)
    client = _kube.api_client_from(args.kubeconfig)
    _kube.KubeHttp(client).get_json("/version", None, request="GET /version")
    from kwait._time.deadline import Deadline  # noqa: PLC0415

    deadline = Deadline.after(timeout)
    for name in names:
        tracker = Tracker(
            resource,
            name,
            namespace=args.namespace,
            all_namespaces=args.all_namespaces,
            label_selector=args.selector,
            field_selector=args.field_selector,
            api_client=client,
        )
        with tracker:
            timelines = tracker.wait_for(args.conditions, timeout=deadline)
        # kubectl's name printer: kind/name, "condition met" (for deletions too).
        for timeline in timelines:
            kind = (timeline.identity.kind or resource.split(".")[0]).lower()
            sys.stdout.write(f"{kind}/{timeline.identity.name} condition met\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
