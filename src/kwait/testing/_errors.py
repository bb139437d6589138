"""The fake API server's errors: `StatusError` and the ``Status`` bodies it renders.

Every layer of the fake (storage, resource rules, request serving) reports a
failed request by raising `StatusError`; the HTTP layer turns it into the
response the real server would send (code, headers and ``Status`` object).
"""

from __future__ import annotations

from typing import Any

from kwait.testing._resources import ResourceType

__all__ = [
    "StatusError",
    "bad_request",
    "conflict",
    "invalid",
    "not_found",
    "not_found_path",
    "status_details",
]


class StatusError(Exception):
    """An API error, rendered as a ``Status`` body with an HTTP code."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Describe the error; `details` is omitted from the body when empty."""
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.metadata = metadata or {}

    def status(self) -> dict[str, Any]:
        """Return the ``Status`` object for this error."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.metadata),
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def status_details(rtype: ResourceType, name: str, kind: str | None = None) -> dict[str, Any]:
    """The ``details`` of a Status about object `name` of `rtype`."""
    details: dict[str, Any] = {"name": name}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = kind if kind is not None else rtype.plural
    return details


def not_found(rtype: ResourceType, name: str) -> StatusError:
    """404 NotFound for `name`."""
    return StatusError(
        404, "NotFound", f'{rtype.qualified} "{name}" not found', status_details(rtype, name)
    )


def not_found_path() -> StatusError:
    """404 NotFound for a path the server does not serve."""
    return StatusError(404, "NotFound", "the server could not find the requested resource", {})


def conflict(rtype: ResourceType, name: str) -> StatusError:
    """409 Conflict for a stale resourceVersion."""
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rtype.qualified} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        status_details(rtype, name),
    )


def bad_request(message: str) -> StatusError:
    """400 BadRequest with `message` and no details."""
    return StatusError(400, "BadRequest", message)


def invalid(rtype: ResourceType, name: str, causes: list[tuple[str, str, str]]) -> StatusError:
    """422 Invalid from ``(field, reason, message)`` causes."""
    texts = [f"{f}: {m}" for f, _, m in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = status_details(rtype, name, kind=rtype.kind)
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    return StatusError(422, "Invalid", f'{rtype.group_kind} "{name}" is invalid: {joined}', details)
