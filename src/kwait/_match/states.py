"""State functions and predicates: what state an object is in, with words for messages.

A *state function* maps one raw object (the JSON dict the API server sent) to a
value: a pod's phase, a container's waiting reason, whether a condition holds.
Patterns are written over these values, waits wait for a predicate to be True,
and failure reports print the value of every observation in a table. Each one
carries a `description` that messages use ("pod phase", "condition Ready=True").

* `State` wraps any callable. `Predicate` is a `State` whose values are
  booleans; predicates compose with ``&``, ``|`` and ``~``.
* A plain callable works anywhere a state function is expected; its description
  is the first line of its docstring, or its name. `state` and `predicate`
  wrap one with words of your choosing.
* A state function never sees a deleted object: for a DELETED observation the
  value is the sentinel `DELETED` (falsy), except for the predicates that are
  about existence (`exists` is False, `deleted` is True).
* A state function may declare *terminal* values, which an object never leaves
  once it has them (a pod phase of Succeeded or Failed). Matchers use them to
  fail at once when the rest of a pattern can no longer happen.

>>> pod = {"kind": "Pod", "status": {"phase": "Pending", "containerStatuses": [
...     {"name": "app", "state": {"waiting": {"reason": "ErrImagePull"}}, "restartCount": 0}]}}
>>> phase()(pod), waiting_reason()(pod), condition("Ready")(pod)
('Pending', 'ErrImagePull', False)
>>> phase()(DELETED), exists()(DELETED), deleted()(DELETED)
(DELETED, False, True)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Final

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as _jsonpath_parse
from typing_extensions import Self

from kwait._errors import KwaitError

__all__ = [
    "DELETED",
    "DeletedType",
    "JSONPathError",
    "Predicate",
    "State",
    "as_predicate",
    "as_state",
    "condition",
    "condition_status",
    "container_state",
    "deleted",
    "exists",
    "field",
    "field_equals",
    "generation",
    "generation_observed",
    "image",
    "image_id",
    "jsonpath",
    "jsonpath_value",
    "parse_for",
    "phase",
    "predicate",
    "restart_count",
    "rollout_complete",
    "rollout_status",
    "state",
    "terminated_reason",
    "waiting_reason",
]

Obj = Mapping[str, Any]


class DeletedType:
    """The type of `DELETED`: the state of an object that no longer exists."""

    _instance: DeletedType | None = None

    def __new__(cls) -> Self:
        """Return the one instance."""
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance  # type: ignore[return-value]

    def __repr__(self) -> str:
        """Read as the name users write in patterns."""
        return "DELETED"

    def __bool__(self) -> bool:
        """Be falsy, so a predicate's value for a deleted object does not count as met."""
        return False

    def __reduce__(self) -> str:
        """Pickle as the module-level singleton."""
        return "DELETED"


DELETED: Final = DeletedType()
"""The value of every state function for a DELETED observation (falsy).

>>> bool(DELETED), repr(DELETED)
(False, 'DELETED')
"""


class JSONPathError(KwaitError, ValueError):
    """A JSONPath expression is malformed, or its result cannot be compared.

    The messages are kubectl's, so they read the same as ``kubectl wait``'s.
    """


Terminal = Collection[Any] | Callable[[Obj], bool] | None


def _describe(fn: Callable[..., Any]) -> str:
    doc = (getattr(fn, "__doc__", None) or "").strip()
    if doc:
        return doc.splitlines()[0].strip().rstrip(".")
    return str(getattr(fn, "__name__", None) or repr(fn))


class State:
    """A named function from a raw object to the state it is in.

    Args:
        fn: Called with the raw object (never with `DELETED`).
        description: Words for messages and report headings.
        terminal: Values the object never leaves once it has them, or a
            callable deciding from the object whether its state is final.
        on_deleted: The value for a DELETED observation (default `DELETED`).
        name: How the state reads in code, for reprs (default: the description).

    >>> replicas = State(lambda o: o["status"]["replicas"], "replica count")
    >>> replicas({"status": {"replicas": 3}}), replicas.description
    (3, 'replica count')
    >>> phase().is_terminal({"status": {"phase": "Failed"}})
    True
    """

    __slots__ = ("_fn", "_name", "_on_deleted", "_terminal", "description")

    def __init__(
        self,
        fn: Callable[[Obj], Any],
        description: str,
        *,
        terminal: Terminal = None,
        on_deleted: Any = DELETED,
        name: str | None = None,
    ) -> None:
        self._fn = fn
        self.description: str = description
        self._on_deleted = on_deleted
        self._name = name
        self._terminal = _terminal_test(fn, terminal)

    def __call__(self, obj: Obj | DeletedType) -> Any:
        """Return the state of `obj` (`DELETED` stands for a deleted object)."""
        if isinstance(obj, DeletedType):
            return self._on_deleted
        return self._fn(obj)

    def is_terminal(self, obj: Obj | DeletedType) -> bool:
        """Return True when the object can never leave the state it is in now.

        Deletion is always terminal. A state with no terminal values never is.
        """
        if isinstance(obj, DeletedType):
            return True
        return self._terminal is not None and bool(self._terminal(obj))

    def equals(self, value: Any) -> Predicate:
        """Return the predicate "this state is `value`".

        >>> phase().equals("Running")({"status": {"phase": "Running"}})
        True
        >>> phase().equals("Running")
        phase() == 'Running'
        """
        return Predicate(
            lambda obj: same_value(self._fn(obj), value),
            f"{self.description} == {value!r}",
            terminal=self._terminal,
            name=f"{self!r} == {value!r}",
            reads_objects=True,
        )

    def one_of(self, *values: Any) -> Predicate:
        """Return the predicate "this state is one of `values`".

        >>> phase().one_of("Succeeded", "Failed")({"status": {"phase": "Failed"}})
        True
        """
        shown = ", ".join(repr(v) for v in values)
        return Predicate(
            lambda obj: any(same_value(self._fn(obj), v) for v in values),
            f"{self.description} in ({shown})",
            terminal=self._terminal,
            name=f"{self!r}.one_of({shown})",
            reads_objects=True,
        )

    def __repr__(self) -> str:
        """Read like the code that built it."""
        return self._name if self._name is not None else f"state({self.description!r})"


def _terminal_test(fn: Callable[[Obj], Any], terminal: Terminal) -> Callable[[Obj], bool] | None:
    if terminal is None:
        return None
    if isinstance(terminal, str):
        raise TypeError("terminal must be a collection of values or a callable, not a string")
    if callable(terminal):
        return terminal
    values = list(terminal)
    if not values:
        return None
    return lambda obj: any(same_value(fn(obj), v) for v in values)


def same_value(a: Any, b: Any) -> bool:
    """Compare two state values the way patterns do: ``==``, but True is not 1.

    >>> same_value(True, 1), same_value(1, 1.0), same_value("a", "a")
    (False, True, True)
    """
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an odd __eq__ means "not the same", not a crash
        return False


class Predicate(State):
    """A state function whose value is True or False; compose with ``&``, ``|``, ``~``.

    As a state function a predicate reads objects. Used as a pattern element
    (`kwait.in_order`...) it reads the *values* of the pattern's state function
    instead; `kwait.one_of` and `kwait.matches` build such value predicates.

    >>> ready = condition("Ready")
    >>> running = phase().equals("Running")
    >>> both = ready & running
    >>> both
    (condition('Ready') & phase() == 'Running')
    >>> both.description
    "(condition Ready=True and pod phase == 'Running')"
    >>> (~ready)({"status": {}})
    True
    """

    __slots__ = ("reads_objects",)

    def __init__(
        self,
        fn: Callable[[Any], Any],
        description: str,
        *,
        terminal: Terminal = None,
        on_deleted: Any = DELETED,
        name: str | None = None,
        reads_objects: bool = False,
    ) -> None:
        super().__init__(
            lambda obj: bool(fn(obj)),
            description,
            terminal=terminal,
            on_deleted=on_deleted,
            name=name,
        )
        #: True for kwait's predicates that only make sense on whole objects
        #: (conditions, JSONPath...): patterns refuse them as elements.
        self.reads_objects: bool = reads_objects

    def __and__(self, other: Callable[[Any], Any]) -> Predicate:
        """Both hold. Final once both are final, or once a final one is False."""
        right = as_predicate(other)
        return Predicate(
            lambda obj: self(obj) and right(obj),
            f"({self.description} and {right.description})",
            terminal=_combine_terminal(self, right, settles=False),
            on_deleted=_combine_deleted(self, right, all),
            name=f"({self!r} & {right!r})",
            reads_objects=self.reads_objects or right.reads_objects,
        )

    def __or__(self, other: Callable[[Any], Any]) -> Predicate:
        """Either holds. Final once both are final, or once a final one is True."""
        right = as_predicate(other)
        return Predicate(
            lambda obj: self(obj) or right(obj),
            f"({self.description} or {right.description})",
            terminal=_combine_terminal(self, right, settles=True),
            on_deleted=_combine_deleted(self, right, any),
            name=f"({self!r} | {right!r})",
            reads_objects=self.reads_objects or right.reads_objects,
        )

    def __rand__(self, other: Callable[[Any], Any]) -> Predicate:
        """Support ``plain_callable & predicate``."""
        return as_predicate(other) & self

    def __ror__(self, other: Callable[[Any], Any]) -> Predicate:
        """Support ``plain_callable | predicate``."""
        return as_predicate(other) | self

    def __invert__(self) -> Predicate:
        """The opposite; final when the operand is."""
        on_deleted = self(DELETED)
        return Predicate(
            lambda obj: not self(obj),
            f"not {self.description}",
            terminal=self._terminal,
            on_deleted=on_deleted if isinstance(on_deleted, DeletedType) else not on_deleted,
            name=f"~{self!r}",
            reads_objects=self.reads_objects,
        )


def _combine_deleted(a: Predicate, b: Predicate, how: Callable[[Iterable[Any]], bool]) -> Any:
    va, vb = a(DELETED), b(DELETED)
    if isinstance(va, DeletedType) and isinstance(vb, DeletedType):
        return DELETED
    return how((bool(va), bool(vb)))


def _combine_terminal(a: Predicate, b: Predicate, *, settles: bool) -> Callable[[Obj], bool]:
    # `settles` is the value that decides the combination on its own: False for
    # "and", True for "or". The combination is final when both operands are,
    # or when one final operand already has the deciding value.
    def terminal(obj: Obj) -> bool:
        fa, fb = a.is_terminal(obj), b.is_terminal(obj)
        if fa and fb:
            return True
        return (fa and bool(a(obj)) is settles) or (fb and bool(b(obj)) is settles)

    return terminal


def as_state(fn: Callable[[Any], Any]) -> State:
    """Return `fn` as a `State` (unchanged if it already is one).

    >>> def vm_phase(obj):
    ...     '''VM phase.'''
    ...     return obj["status"]["phase"]
    >>> as_state(vm_phase).description
    'VM phase'
    """
    if isinstance(fn, State):
        return fn
    if not callable(fn):
        raise TypeError(f"a state function must be callable, got {fn!r}")
    return State(fn, _describe(fn), name=getattr(fn, "__name__", None))


def as_predicate(fn: Callable[[Any], Any]) -> Predicate:
    """Return `fn` as a `Predicate` (unchanged if it already is one)."""
    if isinstance(fn, Predicate):
        return fn
    if isinstance(fn, State):
        raise TypeError(f"{fn!r} is a state, not a predicate; use {fn!r}.equals(value) to test it")
    if not callable(fn):
        raise TypeError(f"a predicate must be callable, got {fn!r}")
    return Predicate(fn, _describe(fn), name=getattr(fn, "__name__", None))


def state(
    fn: Callable[[Obj], Any],
    description: str | None = None,
    *,
    terminal: Terminal = None,
) -> State:
    """Wrap a callable as a state function with a description (and terminal values).

    >>> vm = state(lambda o: o["status"]["printableStatus"], "VM status", terminal={"Failed"})
    >>> vm({"status": {"printableStatus": "Stopped"}}), vm.description
    ('Stopped', 'VM status')
    """
    return State(fn, description or _describe(fn), terminal=terminal)


def predicate(
    fn: Callable[[Obj], Any],
    description: str | None = None,
    *,
    terminal: Terminal = None,
) -> Predicate:
    """Wrap a callable returning a truth value as a `Predicate` with a description.

    >>> has_ip = predicate(lambda o: bool(o.get("status", {}).get("podIP")), "has a pod IP")
    >>> has_ip({"status": {"podIP": "10.0.0.7"}}), has_ip.description
    (True, 'has a pod IP')
    """
    return Predicate(fn, description or _describe(fn), terminal=terminal)


# ---------------------------------------------------------------- helpers


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _statuses(obj: Obj, *, init: bool) -> list[Mapping[str, Any]]:
    key = "initContainerStatuses" if init else "containerStatuses"
    found = _get(obj, "status", key)
    statuses = [s for s in found if isinstance(s, Mapping)] if isinstance(found, list) else []
    spec = _get(obj, "spec", "initContainers" if init else "containers")
    if not isinstance(spec, list):
        return statuses
    order = {c.get("name"): i for i, c in enumerate(spec) if isinstance(c, Mapping)}
    # Statuses are sorted by name on the wire; put them in spec order (unknown names last).
    return sorted(statuses, key=lambda s: order.get(s.get("name"), len(order)))


def _container(obj: Obj, name: str, *, init: bool) -> Mapping[str, Any] | None:
    for status in _statuses(obj, init=init):
        if status.get("name") == name:
            return status
    return None


def _which(container: str | None, *, init: bool) -> str:
    kind = "init container" if init else "container"
    return f"{kind} {container!r}" if container is not None else f"any {kind}"


def _call_repr(fn: str, container: str | None, *, init: bool, **flags: bool) -> str:
    args = [repr(container)] if container is not None else []
    if init:
        args.append("init=True")
    args.extend(f"{k}=True" for k, v in flags.items() if v)
    return f"{fn}({', '.join(args)})"


# ---------------------------------------------------------------- pods


PHASE: Final = State(
    lambda obj: _get(obj, "status", "phase"),
    "pod phase",
    terminal=("Succeeded", "Failed"),
    name="phase()",
)


def phase() -> State:
    """``status.phase`` (None before the server sets it); Succeeded and Failed are terminal.

    >>> phase()({"status": {"phase": "Running"}})
    'Running'
    """
    return PHASE


def waiting_reason(container: str | None = None, *, init: bool = False) -> State:
    """The reason a container is waiting (``ErrImagePull``, ``CrashLoopBackOff``...), or None.

    Args:
        container: A container name; None means any container: the reason of
            the first waiting container in spec order (None if none is waiting).
        init: Read init containers instead of regular ones.

    >>> pod = {"spec": {"containers": [{"name": "b"}, {"name": "a"}]}, "status": {
    ...     "containerStatuses": [
    ...         {"name": "a", "state": {"waiting": {"reason": "ErrImagePull"}}},
    ...         {"name": "b", "state": {"waiting": {"reason": "ContainerCreating"}}}]}}
    >>> waiting_reason()(pod), waiting_reason("a")(pod)
    ('ContainerCreating', 'ErrImagePull')
    """

    def reason(status: Mapping[str, Any] | None) -> str | None:
        waiting = _get(status, "state", "waiting")
        if not isinstance(waiting, Mapping):
            return None
        return str(waiting.get("reason") or "Waiting")

    return _per_container(reason, "waiting reason", "waiting_reason", container, init=init)


def terminated_reason(
    container: str | None = None, *, init: bool = False, last: bool = False
) -> State:
    """The reason a container terminated (``Completed``, ``Error``, ``OOMKilled``...), or None.

    Args:
        container: A container name; None means the first terminated container in
            spec order.
        init: Read init containers instead of regular ones.
        last: Read ``lastState`` (the previous run, e.g. during CrashLoopBackOff)
            instead of the current state.

    >>> pod = {"status": {"containerStatuses": [{"name": "app", "state": {"waiting": {
    ...     "reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"reason": "Error"}}}]}}
    >>> terminated_reason()(pod), terminated_reason(last=True)(pod)
    (None, 'Error')
    """
    where = "lastState" if last else "state"

    def reason(status: Mapping[str, Any] | None) -> str | None:
        terminated = _get(status, where, "terminated")
        if not isinstance(terminated, Mapping):
            return None
        return str(terminated.get("reason") or "Terminated")

    words = "last termination reason" if last else "termination reason"
    return _per_container(reason, words, "terminated_reason", container, init=init, last=last)


def container_state(container: str | None = None, *, init: bool = False) -> State:
    """What ``kubectl get pods`` would say about a container: ``Running``, or the reason.

    The value is the waiting reason while waiting, ``Running`` while running, the
    termination reason once terminated, and None before the container has a
    status. For any container (the default) it is the first container in spec
    order that is not running, or ``Running`` when all are.

    >>> pod = {"status": {"containerStatuses": [
    ...     {"name": "a", "state": {"running": {"startedAt": "2025-01-01T00:00:04Z"}}},
    ...     {"name": "b", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}}
    >>> container_state()(pod), container_state("a")(pod)
    ('Completed', 'Running')
    """

    def summary(status: Mapping[str, Any] | None) -> str | None:
        st = _get(status, "state")
        if not isinstance(st, Mapping):
            return None
        for key, default in (("waiting", "Waiting"), ("terminated", "Terminated")):
            sub = st.get(key)
            if isinstance(sub, Mapping):
                return str(sub.get("reason") or default)
        return "Running" if isinstance(st.get("running"), Mapping) else None

    if container is not None:
        return _per_container(summary, "state", "container_state", container, init=init)

    def any_container(obj: Obj) -> str | None:
        values = [summary(s) for s in _statuses(obj, init=init)]
        for value in values:
            if value not in (None, "Running"):
                return value
        return "Running" if values and all(v == "Running" for v in values) else None

    return State(
        any_container,
        f"state of {_which(None, init=init)}",
        name=_call_repr("container_state", None, init=init),
    )


def _per_container(
    read: Callable[[Mapping[str, Any] | None], str | None],
    words: str,
    fn_name: str,
    container: str | None,
    *,
    init: bool,
    **flags: bool,
) -> State:
    if container is not None:

        def named(obj: Obj) -> str | None:
            return read(_container(obj, container, init=init))

        fn: Callable[[Obj], Any] = named
    else:

        def first(obj: Obj) -> str | None:
            for status in _statuses(obj, init=init):
                value = read(status)
                if value is not None:
                    return value
            return None

        fn = first
    return State(
        fn,
        f"{words} of {_which(container, init=init)}",
        name=_call_repr(fn_name, container, init=init, **flags),
    )


def restart_count(container: str | None = None, *, init: bool = False) -> State:
    """``restartCount`` of a container, or the sum over all containers (0 before any status).

    >>> pod = {"status": {"containerStatuses": [
    ...     {"name": "a", "restartCount": 2}, {"name": "b", "restartCount": 1}]}}
    >>> restart_count()(pod), restart_count("a")(pod)
    (3, 2)
    """

    def count(obj: Obj) -> int:
        if container is not None:
            return _int(_get(_container(obj, container, init=init), "restartCount")) or 0
        return sum(_int(s.get("restartCount")) or 0 for s in _statuses(obj, init=init))

    words = "restart count" if container is not None else "total restart count"
    return State(
        count,
        f"{words} of {_which(container, init=init)}".replace("any ", "every "),
        name=_call_repr("restart_count", container, init=init),
    )


def image(container: str | None = None, *, init: bool = False) -> State:
    """The image a container runs, as the runtime reports it in its status (or None).

    None for `container` means the first container in spec order.

    >>> pod = {"status": {"containerStatuses": [{"name": "app",
    ...     "image": "docker.io/library/nginx:1.27",
    ...     "imageID": "docker.io/library/nginx@sha256:0a1b"}]}}
    >>> image()(pod), image_id("app")(pod)
    ('docker.io/library/nginx:1.27', 'docker.io/library/nginx@sha256:0a1b')
    """
    return _status_field("image", "image", container, init=init)


def image_id(container: str | None = None, *, init: bool = False) -> State:
    """The ``imageID`` (digest) of a container's image; ``""`` until it runs, None before a status.

    None for `container` means the first container in spec order.
    """
    return _status_field("imageID", "image_id", container, init=init)


def _status_field(key: str, fn_name: str, container: str | None, *, init: bool) -> State:
    def read(obj: Obj) -> str | None:
        if container is not None:
            status = _container(obj, container, init=init)
        else:
            statuses = _statuses(obj, init=init)
            status = statuses[0] if statuses else None
        value = _get(status, key)
        return None if value is None else str(value)

    which = _which(container, init=init).replace("any ", "first ")
    return State(read, f"{key} of {which}", name=_call_repr(fn_name, container, init=init))


# ---------------------------------------------------------------- conditions


def _observed_generation(obj: Obj, cond: Mapping[str, Any]) -> int | None:
    own = _int(cond.get("observedGeneration"))
    return own if own is not None else _int(_get(obj, "status", "observedGeneration"))


def _condition_entry(obj: Obj, type_: str) -> tuple[str, bool] | None:
    """Return (status, stale) of the first entry of `type_` with a status, as kubectl reads it."""
    conditions = _get(obj, "status", "conditions")
    if not isinstance(conditions, list):
        return None
    wanted = type_.casefold()
    for cond in conditions:
        if not isinstance(cond, Mapping):
            continue
        name, status = cond.get("type"), cond.get("status")
        if not isinstance(name, str) or name.casefold() != wanted or not isinstance(status, str):
            continue
        gen = _int(_get(obj, "metadata", "generation"))
        observed = _observed_generation(obj, cond) if gen is not None else None
        return status, observed is not None and gen is not None and observed < gen
    return None


def condition(type_: str, status: str = "True") -> Predicate:
    """A status condition holds, by ``kubectl wait --for=condition=TYPE[=STATUS]``'s rules.

    The type and status are compared case-insensitively; the first entry of that
    type decides; an entry whose ``observedGeneration`` (its own, or else
    ``status.observedGeneration``) is older than ``metadata.generation`` is
    stale and does not count as met.

    >>> pod = {"metadata": {"generation": 2}, "status": {"conditions": [
    ...     {"type": "Ready", "status": "True", "observedGeneration": 2}]}}
    >>> condition("ready")(pod), condition("Ready", "false")(pod)
    (True, False)
    >>> pod["metadata"]["generation"] = 3
    >>> condition("Ready")(pod)
    False
    """

    def holds(obj: Obj) -> bool:
        entry = _condition_entry(obj, type_)
        return entry is not None and not entry[1] and entry[0].casefold() == status.casefold()

    shown = "" if status.casefold() == "true" else f", {status!r}"
    return Predicate(
        holds,
        f"condition {type_}={status}",
        name=f"condition({type_!r}{shown})",
        reads_objects=True,
    )


def condition_status(type_: str) -> State:
    """The status string of a condition (``True``/``False``/``Unknown``), or None.

    None when the condition is absent, or stale by `condition`'s rule.

    >>> pod = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    >>> condition_status("Ready")(pod)
    'False'
    """

    def read(obj: Obj) -> str | None:
        entry = _condition_entry(obj, type_)
        return None if entry is None or entry[1] else entry[0]

    return State(read, f"condition {type_}", name=f"condition_status({type_!r})")


# ---------------------------------------------------------------- JSONPath

_RELAXED = re.compile(r"^\{\.?([^{}]+)\}$|^\.?([^{}]+)$")


def _relaxed(expr: str) -> str:
    """Turn kubectl's relaxed forms (``a.b``, ``.a.b``, ``{a.b}``, ``{.a.b}``) into ``{.a.b}``."""
    found = _RELAXED.match(expr)
    if found is None:
        raise JSONPathError(
            "unexpected path string, expected a 'name1.name2' or '.name1.name2' or "
            "'{name1.name2}' or '{.name1.name2}'"
        )
    return "{." + (found.group(1) or found.group(2)) + "}"


def _compile_jsonpath(expr: str) -> tuple[str, JSONPath]:
    if not expr:
        raise JSONPathError("jsonpath expression cannot be empty")
    relaxed = _relaxed(expr)
    body = relaxed[2:-1]  # without "{." and "}"
    if body.startswith("$"):
        body = body[1:].lstrip(".")
    text = "$" if not body else "$" + ("" if body.startswith("[") else ".") + body
    try:
        return relaxed, _jsonpath_parse(text)
    except (JsonPathLexerError, JsonPathParserError, ValueError) as exc:
        raise JSONPathError(f"invalid jsonpath {expr!r}: {exc}") from exc


def _split_kubectl(text: str) -> list[str]:
    """Split on single ``=`` signs; ``==`` stays in the element (kubectl's splitter)."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "=":
            if i + 1 < len(text) and text[i + 1] == "=":
                current.append("==")
                i += 2
                continue
            parts.append("".join(current))
            current = []
        else:
            current.append(text[i])
        i += 1
    parts.append("".join(current))
    return parts


def _go_text(value: Any) -> str:
    """Format a scalar as Go's ``%v`` does for decoded JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:  # noqa: PLR2004
        return str(int(value))
    return str(value)


_MISSING: Final = object()


def _find_one(path: JSONPath, obj: Obj) -> Any:
    """Return the single value at `path`, `_MISSING`, or raise kubectl's errors."""
    found = [m.value for m in path.find(obj) if m.value is not None]
    if not found:
        return _MISSING
    if len(found) > 1:
        raise JSONPathError("given jsonpath expression matches more than one value")
    return found[0]


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return _go_text(value)
    return str(value)


def jsonpath(expr: str, value: Any = None) -> Predicate:
    """``kubectl wait --for=jsonpath=EXPR=VALUE`` (or ``=EXPR`` alone) as a predicate.

    `expr` takes kubectl's relaxed forms (``.status.phase``, ``{.status.phase}``,
    filters such as ``{.status.conditions[?(@.type=="Ready")].status}``). With
    no `value`, `expr` may carry it kubectl's way: ``"{.status.phase}=Running"``
    (split on a single ``=``; ``==`` inside a filter stays).

    With a value, the path must lead to exactly one scalar, compared with the
    value as text after trimming spaces (quotes around the value are trimmed
    first, an empty value is an error, a map or list result is an error). A
    missing field, or null, is "not met". Without a value, any one result, even
    a map or list, is met.

    >>> pod = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    >>> jsonpath("{.status.phase}=Running")(pod)
    True
    >>> jsonpath('{.status.conditions[?(@.type=="Ready")].status}', "True")(pod)
    True
    >>> jsonpath(".status.podIP")(pod)
    False
    >>> jsonpath("{.status.conditions}", "x")(pod)
    Traceback (most recent call last):
    ...
    kwait.errors.JSONPathError: jsonpath leads to a nested object or list which is not supported
    """
    if value is None:
        parts = _split_kubectl(expr)
        if len(parts) > 2:  # noqa: PLR2004
            raise JSONPathError(
                "jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 "
                "or --for=jsonpath='{.status.readyReplicas}'"
            )
        expr, text = parts[0], (parts[1] if len(parts) == 2 else None)  # noqa: PLR2004
    else:
        text = _value_text(value)
    relaxed, path = _compile_jsonpath(expr)
    if text is None:

        def present(obj: Obj) -> bool:
            return _find_one(path, obj) is not _MISSING

        return Predicate(
            present,
            f"jsonpath {relaxed} is set",
            name=f"jsonpath({relaxed!r})",
            reads_objects=True,
        )
    wanted = text.strip("'\"")
    if not wanted:
        raise JSONPathError(
            "jsonpath wait has to have a value after equal sign, like "
            "--for=jsonpath='{.status.readyReplicas}'=3"
        )

    def equal(obj: Obj) -> bool:
        found = _find_one(path, obj)
        if found is _MISSING:
            return False
        if isinstance(found, Mapping | list):
            raise JSONPathError("jsonpath leads to a nested object or list which is not supported")
        return _go_text(found).strip() == wanted.strip()

    return Predicate(
        equal,
        f"jsonpath {relaxed}={wanted}",
        name=f"jsonpath({relaxed!r}, {wanted!r})",
        reads_objects=True,
    )


def jsonpath_value(expr: str) -> State:
    """The value at a kubectl JSONPath as text (None when missing), for patterns and reports.

    Scalars read as kubectl prints them (``true``, ``3``); maps and lists as
    compact JSON. More than one result is an error, as in `jsonpath`.

    >>> jsonpath_value(".status.readyReplicas")({"status": {"readyReplicas": 3}})
    '3'
    """
    relaxed, path = _compile_jsonpath(expr)

    def read(obj: Obj) -> str | None:
        found = _find_one(path, obj)
        if found is _MISSING:
            return None
        if isinstance(found, Mapping | list):
            return json.dumps(found, separators=(",", ":"), sort_keys=True)
        return _go_text(found)

    return State(read, f"jsonpath {relaxed}", name=f"jsonpath_value({relaxed!r})")


# ---------------------------------------------------------------- fields

FieldPath = str | Sequence[str | int]


def _field_reader(path: FieldPath) -> tuple[str, Callable[[Obj], Any]]:
    if isinstance(path, str):
        shown = path.lstrip(".")
        compiled = _compile_jsonpath("{." + shown + "}")[1]

        def read(obj: Obj) -> Any:
            found = _find_one(compiled, obj)
            return None if found is _MISSING else found

        return shown, read
    keys = tuple(path)

    def walk(obj: Obj) -> Any:
        current: Any = obj
        for key in keys:
            if isinstance(key, int) and isinstance(current, list):
                current = current[key] if -len(current) <= key < len(current) else None
            elif isinstance(key, str) and isinstance(current, Mapping):
                current = current.get(key)
            else:
                return None
        return current

    return ".".join(str(k) for k in keys), walk


def field(path: FieldPath) -> State:
    """The raw JSON value at a dotted path (None when missing).

    `path` is ``"spec.containers[0].image"`` style (brackets for indexes and for
    keys with dots: ``metadata.labels['app.kubernetes.io/name']``), or a
    sequence of keys and indexes.

    >>> pod = {"metadata": {"labels": {"app.kubernetes.io/name": "web"}},
    ...        "spec": {"containers": [{"image": "nginx:1.27"}]}}
    >>> field("spec.containers[0].image")(pod)
    'nginx:1.27'
    >>> field(("metadata", "labels", "app.kubernetes.io/name"))(pod)
    'web'
    """
    shown, read = _field_reader(path)
    return State(read, shown, name=f"field({shown!r})")


def field_equals(path: FieldPath, value: Any) -> Predicate:
    """The value at `path` equals `value` (JSON equality: ``3`` is not ``"3"``, True is not 1).

    >>> field_equals("spec.replicas", 3)({"spec": {"replicas": 3}})
    True
    """
    shown, read = _field_reader(path)
    return Predicate(
        lambda obj: same_value(read(obj), value),
        f"{shown} == {value!r}",
        name=f"field_equals({shown!r}, {value!r})",
        reads_objects=True,
    )


# ---------------------------------------------------------------- existence


EXISTS: Final = Predicate(lambda _obj: True, "exists", on_deleted=False, name="exists()")


def exists() -> Predicate:
    """True while the object exists; False for its DELETED observation.

    Existence is per identity (``metadata.uid``): an object deleted and created
    again under the same name is a new identity with a timeline of its own, so the
    first one's deletion is still a deletion.
    """
    return EXISTS


IS_DELETED: Final = Predicate(lambda _obj: False, "deleted", on_deleted=True, name="deleted()")


def deleted() -> Predicate:
    """True for the DELETED observation of an object (per identity, see `exists`)."""
    return IS_DELETED


def _generation(obj: Obj) -> int:
    return _int(_get(obj, "metadata", "generation")) or 0


GENERATION: Final = State(_generation, "generation", name="generation()")


def generation() -> State:
    """``metadata.generation`` (0 when the kind has none)."""
    return GENERATION


def _observed(obj: Obj) -> bool:
    gen = _int(_get(obj, "metadata", "generation"))
    if gen is None:
        return True
    observed = _int(_get(obj, "status", "observedGeneration"))
    return observed is not None and observed >= gen


GENERATION_OBSERVED: Final = Predicate(
    _observed, "generation observed", name="generation_observed()", reads_objects=True
)


def generation_observed() -> Predicate:
    """``status.observedGeneration >= metadata.generation``: the controller saw the latest spec.

    True for kinds without a generation; False while ``observedGeneration`` is absent.

    >>> generation_observed()({"metadata": {"generation": 2}, "status": {"observedGeneration": 2}})
    True
    """
    return GENERATION_OBSERVED


# ---------------------------------------------------------------- rollout

ROLLED_OUT: Final = "successfully rolled out"
DEADLINE_EXCEEDED: Final = "exceeded its progress deadline"


def _rollout(obj: Obj) -> str:
    status = _get(obj, "status")
    status = status if isinstance(status, Mapping) else {}
    if _generation(obj) > (_int(status.get("observedGeneration")) or 0):
        return "waiting for spec update to be observed"
    conditions = status.get("conditions")
    for cond in conditions if isinstance(conditions, list) else []:
        if isinstance(cond, Mapping) and cond.get("type") == "Progressing":
            if cond.get("reason") == "ProgressDeadlineExceeded":
                return DEADLINE_EXCEEDED
            break
    wanted = _int(_get(obj, "spec", "replicas"))
    updated = _int(status.get("updatedReplicas")) or 0
    replicas = _int(status.get("replicas")) or 0
    available = _int(status.get("availableReplicas")) or 0
    if wanted is not None and updated < wanted:
        return f"{updated} out of {wanted} new replicas have been updated"
    if replicas > updated:
        return f"{replicas - updated} old replicas are pending termination"
    if available < updated:
        return f"{available} of {updated} updated replicas are available"
    return ROLLED_OUT


def _deadline(obj: Obj) -> bool:
    return _rollout(obj) == DEADLINE_EXCEEDED


ROLLOUT_STATUS: Final = State(
    _rollout, "rollout status", terminal=_deadline, name="rollout_status()"
)


def rollout_status() -> State:
    """A Deployment's rollout as ``kubectl rollout status`` words it.

    One of ``waiting for spec update to be observed``, ``N out of M new replicas
    have been updated``, ``N old replicas are pending termination``, ``N of M
    updated replicas are available``, ``successfully rolled out``, or ``exceeded
    its progress deadline``. The last is terminal: ``kubectl rollout status`` gives
    up there, and so do matchers (a later spec change would start a new rollout,
    which a new expectation should wait for).

    >>> rollout_status()({"metadata": {"generation": 2}, "spec": {"replicas": 3},
    ...     "status": {"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3}})
    '1 old replicas are pending termination'
    """
    return ROLLOUT_STATUS


ROLLOUT_COMPLETE: Final = Predicate(
    lambda obj: _rollout(obj) == ROLLED_OUT,
    "rollout complete",
    terminal=_deadline,
    name="rollout_complete()",
    reads_objects=True,
)


def rollout_complete() -> Predicate:
    """A Deployment rolled out, by ``kubectl rollout status``'s rules (see `rollout_status`).

    Its observedGeneration caught up, every replica is updated, no old replica is
    left, every updated replica is available. A Progressing condition with reason
    ProgressDeadlineExceeded makes it final (False), so waits fail at once.
    """
    return ROLLOUT_COMPLETE


# ---------------------------------------------------------------- kubectl --for


def parse_for(spec: str) -> Predicate:
    """Parse a ``kubectl wait --for=...`` value into a predicate.

    Accepts ``delete``, ``create``, ``condition=TYPE[=STATUS]`` and
    ``jsonpath=EXPR[=VALUE]``.

    >>> parse_for("condition=Available")
    condition('Available')
    >>> parse_for("condition=Ready=false").description
    'condition Ready=false'
    >>> parse_for("jsonpath={.status.phase}=Running")
    jsonpath('{.status.phase}', 'Running')
    >>> parse_for("delete")
    deleted()
    """
    lowered = spec.lower()
    if lowered == "delete":
        return IS_DELETED
    if lowered == "create":
        return EXISTS
    if spec.startswith("condition="):
        name, sep, value = spec[len("condition=") :].partition("=")
        return condition(name, value if sep else "true")
    if spec.startswith("jsonpath="):
        return jsonpath(spec[len("jsonpath=") :])
    raise ValueError(f"unrecognized condition: {spec!r}")
