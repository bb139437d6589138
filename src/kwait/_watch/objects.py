"""Objects at the edge: a raw JSON dict, or an official-client model converted once.

Everything inside kwait works on the dicts the API server sends. Users often
hold the client's model objects (``V1Pod``...) instead; `as_raw` accepts both,
detecting a model by its shape (see `kwait._check.is_model`) and converting it
with the adapter (`kwait._watch.kube.model_to_raw`), the only module that
imports the client, which is loaded only when a model object is actually seen.

>>> as_raw({"kind": "Pod"}, "manifest")
{'kind': 'Pod'}
>>> as_raw("pod.yaml", "manifest")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
TypeError: manifest= takes a Kubernetes object (a dict or a client model such as V1Pod), got ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kwait._check import is_model, shown

__all__ = ["as_raw", "is_model", "maybe_raw"]


def maybe_raw(value: Any) -> Any:
    """`value` as a raw dict if it is a client model object; anything else unchanged."""
    if isinstance(value, Mapping) or not is_model(value):
        return value
    from kwait._watch import kube  # noqa: PLC0415 - loads the client only for a model object

    return kube.model_to_raw(value)


def as_raw(value: Any, what: str) -> Mapping[str, Any]:
    """A Kubernetes object as a raw mapping, or a `TypeError` naming parameter `what`."""
    converted = maybe_raw(value)
    if isinstance(converted, Mapping):
        return converted
    raise TypeError(
        f"{what}= takes a Kubernetes object (a dict or a client model such as V1Pod), "
        f"got {shown(value)} ({type(value).__name__})"
    )
