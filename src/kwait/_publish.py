"""Name public objects after the public module that exports them (reprs, docs, pickling)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["publish"]


def publish(module: str, namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class and function in `names` to `module`.

    Only objects defined in a private module (``kwait._...`` or ``kwait.testing._...``)
    are renamed, so a name re-exported from a dependency keeps its own module.
    """
    for name in names:
        obj = namespace[name]
        home = getattr(obj, "__module__", None)
        if isinstance(home, str) and ("._" in home or home == "kwait._publish"):
            try:
                obj.__module__ = module
            except (AttributeError, TypeError):  # aliases of typing constructs
                continue
