"""State functions and predicates: what kwait reads from an object.

A *state function* (`State`) turns an object into a value: a pod's phase, a
container's waiting reason. A *predicate* (`Predicate`) is a state function whose
value is True or False: a condition holds, a JSONPath has a value. Every one of
them is built by calling a function here, with or without arguments::

    kwait.states.phase()                  # a State
    kwait.states.waiting_reason("app")    # a State
    kwait.states.condition("Ready")       # a Predicate
    kwait.states.parse_for("condition=Ready")  # kubectl wait's --for forms

>>> from kwait import states
>>> pod = {"status": {"phase": "Pending", "containerStatuses": [
...     {"name": "app", "state": {"waiting": {"reason": "ErrImagePull"}}}]}}
>>> states.phase()(pod), states.waiting_reason()(pod)
('Pending', 'ErrImagePull')
"""

from __future__ import annotations

from kwait._match.states import (
    DELETED,
    DeletedType,
    Either,
    Predicate,
    State,
    condition,
    condition_status,
    container_state,
    deleted,
    either,
    exists,
    field,
    field_equals,
    generation,
    generation_observed,
    image,
    image_id,
    jsonpath,
    jsonpath_value,
    parse_for,
    phase,
    predicate,
    restart_count,
    rollout_complete,
    rollout_status,
    state,
    terminated_reason,
    waiting_reason,
)
from kwait._publish import publish

__all__ = [
    "DELETED",
    "DeletedType",
    "Either",
    "Predicate",
    "State",
    "condition",
    "condition_status",
    "container_state",
    "deleted",
    "either",
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

publish(__name__, globals(), __all__)
