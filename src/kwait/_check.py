"""Argument checks for the public entry points: fail at the call, in words.

Every check raises `TypeError` (wrong kind of value) or `ValueError` (right kind,
wrong value) with a message that names the parameter, shows what it got, and
says what it accepts, before any request is made. The rules for names are the
API server's (DNS-1123), so a name that could never exist is refused here
instead of being waited for until the timeout.

>>> check_namespace("ci-1")
'ci-1'
>>> check_namespace("Bad_NS!")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: namespace='Bad_NS!' is not a valid namespace: it must be a DNS-1123 label ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Final, Protocol

__all__ = [
    "ModelObject",
    "check_bool",
    "check_callable",
    "check_int",
    "check_name",
    "check_namespace",
    "check_optional_str",
    "check_seconds",
    "is_model",
    "one_line",
    "shown",
]

_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_MAX: Final = 63
_SUBDOMAIN_MAX: Final = 253
_SHOWN_MAX: Final = 80


def shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length.

    >>> shown("x" * 200)[-5:]
    "...'"
    """
    text = repr(value)
    if len(text) > _SHOWN_MAX:
        text = text[: _SHOWN_MAX - 4] + "..." + text[-1]
    return text


class ModelObject(Protocol):
    """An official-client model object (``V1Pod``...), accepted wherever a manifest is.

    kwait converts it to the raw dict once, with the client's own serializer.

    >>> from kubernetes.client import V1ObjectMeta, V1Pod
    >>> import kwait
    >>> kwait.states.phase()(V1Pod(metadata=V1ObjectMeta(name="web-0")))
    """

    def to_dict(self) -> Any:
        """The model as a dict (kwait converts it with the client's own serializer)."""
        ...


def _type(value: Any) -> str:
    return type(value).__name__


def is_model(value: Any) -> bool:
    """True for an official-client model object (``V1Pod``...), detected by its shape.

    Generated models have ``openapi_types`` and ``attribute_map``; nothing here
    imports the client.

    >>> is_model({"kind": "Pod"}), is_model("pods")
    (False, False)
    """
    return (
        not isinstance(value, type)
        and hasattr(value, "to_dict")
        and isinstance(getattr(value, "openapi_types", None), dict)
        and isinstance(getattr(value, "attribute_map", None), dict)
    )


def check_bool(what: str, value: Any) -> bool:
    """A real bool (not 0/1, not a string).

    >>> check_bool("all_namespaces", "yes")
    Traceback (most recent call last):
    ...
    TypeError: all_namespaces= takes True or False, got 'yes' (str)
    """
    if not isinstance(value, bool):
        raise TypeError(f"{what}= takes True or False, got {shown(value)} ({_type(value)})")
    return value


def check_int(
    what: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """An int (not a bool, not a float) within bounds.

    >>> check_int("count", 1.5, minimum=1)
    Traceback (most recent call last):
    ...
    TypeError: count= takes a whole number, got 1.5 (float)
    >>> check_int("count", 0, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: count= must be at least 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}= takes a whole number, got {shown(value)} ({_type(value)})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what}= must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{what}= must be at most {maximum}, got {value}")
    return value


def check_seconds(what: str, value: Any, *, positive: bool = False) -> float:
    """A finite number of seconds, not negative (or strictly positive).

    >>> check_seconds("start_timeout", "5")
    Traceback (most recent call last):
    ...
    TypeError: start_timeout= takes a number of seconds, got '5' (str)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what}= takes a number of seconds, got {shown(value)} ({_type(value)})")
    seconds = float(value)
    if not math.isfinite(seconds):
        raise ValueError(f"{what}= must be a finite number of seconds, got {value!r}")
    if seconds < 0 or (positive and seconds == 0):
        bound = "more than 0" if positive else "0 or more"
        raise ValueError(f"{what}= must be {bound} seconds, got {value!r}")
    return seconds


def check_optional_str(what: str, value: Any, *, accepts: str = "a string") -> str | None:
    """None or a string (a list or a number is refused, not turned into text).

    >>> check_optional_str("namespace", ["default"], accepts="one namespace name")
    Traceback (most recent call last):
    ...
    TypeError: namespace= takes one namespace name, got ['default'] (list)
    """
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{what}= takes {accepts}, got {shown(value)} ({_type(value)})")


def check_name(what: str, value: Any) -> str | None:
    """None or an object name the API server could hold (DNS-1123 subdomain, or a path segment).

    Most kinds use DNS-1123 subdomains; some (RBAC roles, ...) allow any path
    segment, so only what no object can be named is refused: empty, ``.``,
    ``..``, a ``/`` or ``%``, or more than 253 characters.

    >>> check_name("name", "")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: name='' is empty: resource name must be provided ...
    """
    text = check_optional_str(what, value, accepts="an object name (a string) or None")
    if text is None:
        return None
    if not text:
        raise ValueError(
            f"{what}='' is empty: resource name must be provided "
            "(or pass name=None to track every object)"
        )
    if text in {".", ".."} or "/" in text or "%" in text or len(text) > _SUBDOMAIN_MAX:
        raise ValueError(
            f"{what}={shown(text)} can never be an object's name: names may not be '.' or '..', "
            f"contain '/' or '%', or be longer than {_SUBDOMAIN_MAX} characters"
        )
    if text != text.strip():
        raise ValueError(f"{what}={shown(text)} has spaces around it; object names have none")
    return text


def check_namespace(value: Any, what: str = "namespace") -> str | None:
    """None or a namespace name (a DNS-1123 label)."""
    text = check_optional_str(what, value, accepts="one namespace name (a string) or None")
    if text is None:
        return None
    if not text:
        raise ValueError(
            f"{what}='' is empty: pass a namespace name, or None for the default namespace"
        )
    if len(text) > _LABEL_MAX or not _LABEL.match(text):
        raise ValueError(
            f"{what}={shown(text)} is not a valid namespace: it must be a DNS-1123 label "
            "(lower-case letters, digits and '-', starting and ending with a letter or digit, "
            f"at most {_LABEL_MAX} characters)"
        )
    return text


def check_callable(what: str, value: Any, accepts: str) -> Callable[..., Any]:
    """A callable (a class counts only if it is meant to be called as a function)."""
    if not callable(value):
        raise TypeError(f"{what}= takes {accepts}, got {shown(value)} ({_type(value)})")
    return value  # type: ignore[no-any-return]


def one_line(text: str, limit: int = 200) -> str:
    r"""Squeeze a body (an HTML page, a long message) into one readable line.

    Tags are dropped, a page's ``<title>`` kept, white space collapsed, the
    result cut to `limit` characters with its full length said.

    >>> one_line("<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 3000 + "</body>")
    'an HTML page titled "502 Bad Gateway" (3062 characters), not a Kubernetes API answer'
    >>> one_line("plain\n   text")
    'plain text'
    """
    stripped = text.strip()
    lowered = stripped[:200].lower()
    if lowered.startswith(("<!doctype html", "<html")) or "<body" in lowered:
        title = re.search(r"<title[^>]*>(.*?)</title>", stripped, re.IGNORECASE | re.DOTALL)
        name = f' titled "{" ".join(title.group(1).split())[:80]}"' if title else ""
        return f"an HTML page{name} ({len(text)} characters), not a Kubernetes API answer"
    flat = " ".join(re.sub(r"<[^>]+>", " ", stripped).split())
    if len(flat) > limit:
        flat = f"{flat[: limit - 1]}… ({len(text)} characters)"
    return flat
