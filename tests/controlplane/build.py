"""Obtain the control-plane binaries: build them from Go modules, cache them, or take them as given.

Where binaries come from, per binary, first match wins:

1. ``KWAIT_CONTROLPLANE_BIN_DIR``: a directory of pre-built binaries, used as they are.
2. The cache, ``${XDG_CACHE_HOME:-~/.cache}/kwait/controlplane/<versions-key>/``, filled by
   ``go build`` of the wrapper modules in ``gomod/`` according to the pull policy
   (``KWAIT_CONTROLPLANE_PULL``):

   - ``missing`` (default): build what the cache lacks;
   - ``never``: use the cache or fail with a message that says what is missing and how to get it;
   - ``always``: rebuild (with a warm Go build cache this is mostly linking).

The versions key names the pinned versions and the platform, and ends with a digest of the
wrapper modules and the build flags, so a change to any of them gets a fresh directory.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.controlplane import versions

__all__ = [
    "BIN_DIR_ENV",
    "COMPONENTS",
    "GOMOD_DIR",
    "PULL_ENV",
    "STANDARD_GO",
    "BuildError",
    "Component",
    "ControlPlaneUnavailableError",
    "PullPolicy",
    "binary_names",
    "cache_dir",
    "find_go",
    "go_version",
    "locate",
    "versions_key",
]

BIN_DIR_ENV = "KWAIT_CONTROLPLANE_BIN_DIR"
PULL_ENV = "KWAIT_CONTROLPLANE_PULL"
GOMOD_DIR = Path(__file__).parent / "gomod"
#: Where Go's official installer puts the toolchain; tried when ``go`` is not on PATH.
STANDARD_GO = Path("/usr/local/go/bin/go")

Log = Callable[[str], None]


class ControlPlaneUnavailableError(RuntimeError):
    """The control plane cannot be had here; the message says why and what to do."""


class BuildError(ControlPlaneUnavailableError):
    """``go build`` failed; the message holds the end of its output and the log's path."""


class PullPolicy(enum.Enum):
    """When to build the binaries, like a container runtime's image pull policy."""

    MISSING = "missing"
    NEVER = "never"
    ALWAYS = "always"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PullPolicy:
        """Read the policy from ``KWAIT_CONTROLPLANE_PULL`` (default ``missing``)."""
        env = os.environ if environ is None else environ
        raw = env.get(PULL_ENV, "").strip().lower() or cls.MISSING.value
        try:
            return cls(raw)
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            msg = f"{PULL_ENV}={raw!r} is not a pull policy; use one of {choices}"
            raise ValueError(msg) from None


def _version_ldflags() -> tuple[str, ...]:
    major, minor, _ = versions.KUBERNETES.lstrip("v").split(".")
    flags = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={versions.KUBERNETES}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
        ]
    return tuple(flags)


@dataclass(frozen=True)
class Component:
    """One wrapper module under ``gomod/`` and the binaries built from it.

    Attributes:
        name: the wrapper module's folder name.
        version: the pinned version, from :mod:`tests.controlplane.versions`.
        binaries: binary name -> Go package of its ``main``.
        ldflags: extra linker flags (``-X`` version stamps).
    """

    name: str
    version: str
    binaries: Mapping[str, str]
    ldflags: tuple[str, ...] = field(default=())

    @property
    def module_dir(self) -> Path:
        """The wrapper module's folder."""
        return GOMOD_DIR / self.name


COMPONENTS: tuple[Component, ...] = (
    Component(
        "kubernetes",
        versions.KUBERNETES,
        {
            "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
            "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
            "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
            # Not part of the control plane: the tests compare `kwait wait` with `kubectl wait`
            # built from the same release.
            "kubectl": "k8s.io/kubernetes/cmd/kubectl",
        },
        _version_ldflags(),
    ),
    Component("etcd", versions.ETCD, {"etcd": versions.ETCD_MODULE}),
    Component("kwok", versions.KWOK, {"kwok": f"{versions.KWOK_MODULE}/cmd/kwok"}),
)


def binary_names() -> tuple[str, ...]:
    """Every binary the harness knows, in build order."""
    return tuple(name for c in COMPONENTS for name in c.binaries)


def _platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    return f"{platform.system().lower()}-{arch.get(machine, machine)}"


def versions_key() -> str:
    """Name the cache directory for the pinned versions, the platform and the build inputs."""
    digest = hashlib.sha256()
    for component in COMPONENTS:
        for name in ("go.mod", "go.sum"):
            digest.update((component.module_dir / name).read_bytes())
        digest.update("\0".join(component.ldflags).encode())
    return (
        f"k8s-{versions.KUBERNETES}_etcd-{versions.ETCD}_kwok-{versions.KWOK}"
        f"_{_platform()}_{digest.hexdigest()[:12]}"
    )


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return the cache directory for the current versions key (it may not exist yet)."""
    env = os.environ if environ is None else environ
    root = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "kwait" / "controlplane" / versions_key()


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_go(environ: Mapping[str, str] | None = None) -> str | None:
    """Return the ``go`` command: from PATH, else ``$GOROOT/bin``, else Go's standard place."""
    env = os.environ if environ is None else environ
    found = shutil.which("go", path=env.get("PATH"))
    if found:
        return found
    candidates = [Path(env["GOROOT"]) / "bin" / "go"] if env.get("GOROOT") else []
    candidates.append(STANDARD_GO)
    return next((str(c) for c in candidates if _executable(c)), None)


def go_version(go: str) -> str:
    """Return ``go env GOVERSION`` of the given go command (e.g. ``go1.26.8``)."""
    done = subprocess.run(  # noqa: S603 - a resolved go binary, fixed arguments
        [go, "env", "GOVERSION"], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(component: Component, dest: Path, go: str, log: Log) -> None:
    log_path = dest / f"build-{component.name}.log"
    names = ", ".join(component.binaries)
    log(
        f"building {names} ({component.name} {component.version}) with {go_version(go)}; "
        f"log: {log_path}"
    )
    env = dict(os.environ, CGO_ENABLED="0", GOWORK="off")
    with tempfile.TemporaryDirectory(prefix="kwait-gobuild-") as tmp:
        module = Path(tmp) / "module"
        out = Path(tmp) / "out"
        shutil.copytree(component.module_dir, module)
        out.mkdir()
        packages = list(component.binaries.values())
        target = str(out / next(iter(component.binaries))) if len(packages) == 1 else f"{out}/"
        ldflags = " ".join(("-s", "-w", *component.ldflags))
        cmd = [go, "build", "-trimpath", "-ldflags", ldflags, "-o", target, *packages]
        with log_path.open("w") as out_file:
            out_file.write("+ " + " ".join(cmd) + "\n")
            out_file.flush()
            done = subprocess.run(  # noqa: S603 - fixed arguments
                cmd, cwd=module, env=env, stdout=out_file, stderr=subprocess.STDOUT, check=False
            )
        if done.returncode != 0:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
            msg = (
                f"go build of {component.name} failed (exit {done.returncode}); {log_path}:\n{tail}"
            )
            raise BuildError(msg)
        for name in component.binaries:
            staged = dest / f".{name}.new"
            shutil.copy2(out / name, staged)
            staged.replace(dest / name)


def _missing_message(missing: Iterable[str], cache: Path, reason: str) -> str:
    return (
        f"control-plane binaries missing: {', '.join(missing)} ({reason}). Looked in "
        f"{BIN_DIR_ENV} (unset or lacking them) and the cache {cache}. To get them, run "
        f"`python -m tests.controlplane build` on a machine with Go {versions.GO_MINIMUM} or "
        f"newer and module access (it builds Kubernetes {versions.KUBERNETES}, etcd "
        f"{versions.ETCD} and kwok {versions.KWOK}), or point {BIN_DIR_ENV} at a directory "
        "holding them."
    )


def _plan(
    wanted: list[str], found: dict[str, Path], cache: Path, policy: PullPolicy
) -> tuple[list[Component], list[str]]:
    """Take cached binaries into `found`; return the components to build and what is missing."""
    todo: list[Component] = []
    missing: list[str] = []
    for component in COMPONENTS:
        cached = {n: cache / n for n in component.binaries if n in wanted and n not in found}
        if not cached:
            continue
        if policy is not PullPolicy.ALWAYS and all(_executable(p) for p in cached.values()):
            found.update(cached)
            continue
        todo.append(component)
        missing += [n for n, p in cached.items() if not _executable(p)]
    return todo, missing


def locate(
    names: Iterable[str] | None = None,
    *,
    policy: PullPolicy | None = None,
    environ: Mapping[str, str] | None = None,
    log: Log = print,
) -> dict[str, Path]:
    """Return the path of each wanted binary, building into the cache as the policy says.

    Args:
        names: the binaries wanted (default: all of :func:`binary_names`).
        policy: the pull policy (default: from ``KWAIT_CONTROLPLANE_PULL``).
        environ: the environment to read (default: ``os.environ``).
        log: where progress lines go.

    Raises:
        ControlPlaneUnavailableError: a binary is missing and may not or cannot be built.
        BuildError: a build was attempted and failed.
    """
    env = os.environ if environ is None else environ
    wanted = list(names or binary_names())
    policy = policy or PullPolicy.from_env(env)
    given = env.get(BIN_DIR_ENV, "").strip()
    found = {n: Path(given) / n for n in wanted if given and _executable(Path(given) / n)}
    cache = cache_dir(env)
    todo, missing = _plan(wanted, found, cache, policy)
    if todo and policy is PullPolicy.NEVER:
        reason = f"{PULL_ENV}=never forbids building"
        raise ControlPlaneUnavailableError(_missing_message(missing, cache, reason))
    go = find_go(env) if todo else None
    if todo and go is None:
        reason = "no `go` command on PATH to build them"
        raise ControlPlaneUnavailableError(_missing_message(missing or wanted, cache, reason))
    for component in todo:
        assert go is not None
        cached = {n: cache / n for n in component.binaries if n in wanted}
        with _locked(cache):
            # Another process may have built them while this one waited for the lock.
            if policy is PullPolicy.ALWAYS or not all(_executable(p) for p in cached.values()):
                _build(component, cache, go, log)
        found.update(cached)
    return {name: found[name] for name in wanted}
