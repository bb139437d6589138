"""Command line for the local control plane: ``python -m tests.controlplane COMMAND``.

Commands:

- ``build``: obtain the binaries as the pull policy says (``--pull`` or
  ``KWAIT_CONTROLPLANE_PULL``) and print where they are;
- ``up``: start a control plane that outlives the command; prints its kubeconfig, and the
  directory that ``down`` takes;
- ``down``: stop the control plane started by ``up`` and check nothing is left;
- ``status``: show the processes of a running control plane and their memory;
- ``compact``: force a watch-history compaction on a running control plane;
- ``stages``: print the kwok Stage documents (for ``kubectl apply`` on a kwok cluster);
- ``versions``: print the pinned versions and the cache directory.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.controlplane import build, stages, versions
from tests.controlplane.cluster import ControlPlane

__all__ = ["main"]

_DEFAULT_LINK = Path(tempfile.gettempdir()) / f"kwait-controlplane-{os.getuid()}.state"


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _state_file(args: argparse.Namespace) -> Path:
    if args.state:
        return Path(args.state)
    if _DEFAULT_LINK.is_file():
        return Path(_DEFAULT_LINK.read_text().strip())
    msg = f"no running control plane recorded in {_DEFAULT_LINK}; pass --state"
    raise SystemExit(msg)


def _cmd_build(args: argparse.Namespace) -> int:
    started = time.monotonic()
    policy = build.PullPolicy(args.pull) if args.pull else None
    try:
        found = build.locate(policy=policy, log=_err)
    except build.ControlPlaneUnavailableError as exc:
        _err(f"error: {exc}")
        return 1
    for name, path in found.items():
        sys.stdout.write(f"{name}\t{path}\n")
    _err(f"binaries ready in {time.monotonic() - started:.1f}s")
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    plane = ControlPlane(
        controllers=not args.no_controllers, scheduler=not args.no_scheduler, log=_err
    )
    plane.start()
    _DEFAULT_LINK.write_text(str(plane.state_file))
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in plane.state.timings.items())
    _err(f"control plane ready ({timings})")
    sys.stdout.write(f"export KUBECONFIG={plane.kubeconfig}\n")
    _err(f"state: {plane.state_file}  (stop with: python -m tests.controlplane down)")
    plane.detach()
    return 0


def _cmd_down(args: argparse.Namespace) -> int:
    state_file = _state_file(args)
    if not state_file.is_file():
        _err(f"no control plane state at {state_file}")
        return 1
    ControlPlane.attach(state_file, log=_err).stop()
    if _DEFAULT_LINK.is_file() and _DEFAULT_LINK.read_text().strip() == str(state_file):
        _DEFAULT_LINK.unlink()
    _err("stopped; no process, port or directory left")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    plane = ControlPlane.attach(_state_file(args), log=_err)
    memory = plane.memory()
    total = 0
    for name, pid in plane.state.pids.items():
        rss = memory.get(name)
        total += rss or 0
        shown = f"{rss / 2**20:.0f} MiB" if rss is not None else "not running"
        sys.stdout.write(f"{name:<24} pid {pid:<8} {shown}\n")
    sys.stdout.write(f"{'total':<24} {'':<12} {total / 2**20:.0f} MiB\n")
    sys.stdout.write(f"kubeconfig: {plane.kubeconfig}\n")
    return 0


def _cmd_compact(args: argparse.Namespace) -> int:
    plane = ControlPlane.attach(_state_file(args), log=_err)
    started = time.monotonic()
    revision = plane.compact()
    _err(f"compacted at revision {revision} in {time.monotonic() - started:.1f}s")
    sys.stdout.write(f"{revision}\n")
    return 0


def _cmd_stages(_: argparse.Namespace) -> int:
    sys.stdout.write(stages.stage_documents())
    return 0


def _cmd_versions(_: argparse.Namespace) -> int:
    for name in ("KUBERNETES", "KUBERNETES_STAGING", "ETCD", "KWOK", "GO_MINIMUM"):
        sys.stdout.write(f"{name.lower()}\t{getattr(versions, name)}\n")
    sys.stdout.write(f"cache\t{build.cache_dir()}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tests.controlplane", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="build or reuse the binaries")
    p.add_argument("--pull", choices=[x.value for x in build.PullPolicy], default=None)
    p.set_defaults(func=_cmd_build)
    p = sub.add_parser("up", help="start a control plane in the background")
    p.add_argument("--no-controllers", action="store_true", help="without kube-controller-manager")
    p.add_argument("--no-scheduler", action="store_true", help="without kube-scheduler")
    p.set_defaults(func=_cmd_up)
    for name, func, text in (
        ("down", _cmd_down, "stop the control plane started by up"),
        ("status", _cmd_status, "processes and memory"),
        ("compact", _cmd_compact, "force a watch-history compaction"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--state", help="state.json of the control plane (default: the last up)")
        p.set_defaults(func=func)
    sub.add_parser("stages", help="print the kwok stages").set_defaults(func=_cmd_stages)
    sub.add_parser("versions", help="print pinned versions").set_defaults(func=_cmd_versions)
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
