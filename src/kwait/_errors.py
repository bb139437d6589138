"""kwait's exceptions.

::

    KwaitError
    ├── ApiError                     the API server answered with an error Status
    │   ├── ApiUnauthorizedError     401: credentials missing or rejected
    │   ├── ApiForbiddenError        403: RBAC forbids what was asked
    │   ├── ApiNotFoundError         404: the resource or object does not exist
    │   ├── ApiBadRequestError       400/422: the request itself is wrong (bad selector ...)
    │   └── ApiTransientError        429 or 5xx: worth retrying after a while
    ├── ConnectionLostError          the connection dropped or a read timed out
    ├── UnknownResourceError         a resource name discovery does not know
    ├── ConfigError                  the kubeconfig (file, context) is unusable: not retried
    ├── StateFunctionError           a user's state function raised on an observed object
    └── ClockStallError              a FakeClock wait that could never end

Errors that are *not* retried carry what kwait asked and what the server
answered, so a test log says what went wrong without a debugger.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiBadRequestError",
    "ApiError",
    "ApiForbiddenError",
    "ApiNotFoundError",
    "ApiTransientError",
    "ApiUnauthorizedError",
    "ClockStallError",
    "ConfigError",
    "ConnectionLostError",
    "KwaitError",
    "StateFunctionError",
    "UnknownResourceError",
    "api_error_from_status",
]


class KwaitError(Exception):
    """Base class of every exception kwait raises on purpose.

    >>> import kwait
    >>> issubclass(kwait.WaitTimeoutError, kwait.KwaitError)
    True
    """


class ApiError(KwaitError):
    """The API server answered a request with an error.

    Attributes:
        status: The HTTP status code (or the ``code`` of a watch ERROR event).
        reason: The Status ``reason`` (``NotFound``, ``Expired`` ...), or ``""``.
        message: The Status ``message`` the server wrote.
        request: What kwait asked, e.g. ``"WATCH pods in namespace 'default'"``.
        retry_after: Seconds the server asked us to wait (``Retry-After`` or
            ``details.retryAfterSeconds``), or None.
        body: The decoded Status object when there was one.

    >>> import kwait
    >>> err = kwait.ApiError(409, "Conflict", "the object has been modified", request="PUT pods/a")
    >>> print(err)
    PUT pods/a: the API server answered 409 Conflict: the object has been modified
    """

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        request: str = "",
        retry_after: float | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        self.request = request
        self.retry_after = retry_after
        self.body = body
        asked = f"{request}: " if request else ""
        why = f"{reason}: " if reason else ""
        super().__init__(f"{asked}the API server answered {status} {why}{message}".rstrip())


class ApiUnauthorizedError(ApiError):
    """401: the credentials are missing, expired or rejected.

    >>> from kwait.errors import ApiUnauthorizedError
    >>> ApiUnauthorizedError(401, "Unauthorized", "token expired").status
    401
    """


class ApiForbiddenError(ApiError):
    """403: the credentials are valid but not allowed to do what was asked.

    >>> from kwait.errors import ApiForbiddenError
    >>> print(ApiForbiddenError(403, "Forbidden", "pods is forbidden", request="LIST pods"))
    LIST pods: the API server answered 403 Forbidden: pods is forbidden
    """


class ApiNotFoundError(ApiError):
    """404: the resource type, namespace-scoped path or object does not exist.

    >>> from kwait.errors import ApiNotFoundError
    >>> ApiNotFoundError(404, "NotFound", 'pods "web-0" not found').reason
    'NotFound'
    """


class ApiBadRequestError(ApiError):
    """400 or 422: the request is malformed (a bad selector, an invalid option).

    >>> from kwait.errors import ApiBadRequestError
    >>> ApiBadRequestError(400, "BadRequest", "unable to parse requirement").message
    'unable to parse requirement'
    """


class ApiTransientError(ApiError):
    """429 or 5xx: the server is busy or failing; retrying later may succeed.

    >>> from kwait.errors import ApiTransientError
    >>> ApiTransientError(429, "TooManyRequests", "slow down", retry_after=2.0).retry_after
    2.0
    """


class ConnectionLostError(KwaitError):
    """The connection to the API server dropped, was refused, or timed out.

    >>> import kwait
    >>> print(kwait.ConnectionLostError("watch stream closed mid-event"))
    watch stream closed mid-event
    """


class UnknownResourceError(KwaitError):
    """A resource name that discovery does not know.

    Attributes:
        name: The name as the user wrote it.
        suggestions: The closest names the server does serve.

    >>> from kwait.errors import UnknownResourceError
    >>> print(UnknownResourceError("pod", ["pods"]))
    the server has no resource named 'pod'; did you mean 'pods'?
    """

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"the server has no resource named {name!r}{hint}")


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ApiBadRequestError,
    401: ApiUnauthorizedError,
    403: ApiForbiddenError,
    404: ApiNotFoundError,
    422: ApiBadRequestError,
    429: ApiTransientError,
}


def api_error_from_status(
    status: int,
    body: dict[str, Any] | None,
    *,
    request: str = "",
    retry_after: float | None = None,
) -> ApiError:
    """Build the typed `ApiError` for an HTTP status and its Status body.

    >>> err = api_error_from_status(404, {"reason": "NotFound", "message": 'pods "x" not found'})
    >>> type(err).__name__, err.reason
    ('ApiNotFoundError', 'NotFound')
    """
    body = body if isinstance(body, dict) else None
    reason = str(body.get("reason", "")) if body else ""
    message = str(body.get("message", "")) if body else ""
    if retry_after is None and body:
        details = body.get("details")
        if isinstance(details, dict):
            seconds = details.get("retryAfterSeconds")
            if isinstance(seconds, int) and seconds > 0:
                retry_after = float(seconds)
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ApiTransientError if status >= 500 else ApiError  # noqa: PLR2004
    return cls(status, reason, message, request=request, retry_after=retry_after, body=body)


class ConfigError(KwaitError):
    """The client configuration (a kubeconfig, its context, the in-cluster files) is unusable.

    Not transient: retrying does not help, so nothing retries it. The message
    names the file, the context (when known) and the cause.

    Attributes:
        path: The kubeconfig file, or None (a dict, or the in-cluster configuration).
        context: The context that was asked for or is current, or None.
        cause: What is wrong, in one line.

    >>> print(ConfigError("no such file", path="/tmp/missing-kubeconfig"))
    kubeconfig /tmp/missing-kubeconfig: no such file
    """

    def __init__(self, cause: str, *, path: str | None = None, context: str | None = None) -> None:
        self.path = path
        self.context = context
        self.cause = cause
        where = f"kubeconfig {path}" if path else "Kubernetes configuration"
        if context:
            where += f" (context {context!r})"
        super().__init__(f"{where}: {cause}")


class StateFunctionError(KwaitError):
    """A state function or predicate raised while reading an observed object.

    The original exception is the ``__cause__``; the message says which state
    function, which object and at which resourceVersion, so the failing input
    can be found in the timeline.

    Attributes:
        state: The state function's description.
        object_name: ``namespace/name`` of the object (or ``name``), or ``""``.
        resource_version: The observation's resourceVersion, or ``""``.
        error: The exception the state function raised.

    >>> err = StateFunctionError("VM phase", "ci/vm-1", "42", KeyError("status"))
    >>> print(err)
    state function 'VM phase' raised KeyError('status') on ci/vm-1 at resourceVersion 42
    """

    def __init__(
        self, state: str, object_name: str, resource_version: str, error: BaseException
    ) -> None:
        self.state = state
        self.object_name = object_name
        self.resource_version = resource_version
        self.error = error
        where = f" on {object_name}" if object_name else ""
        at = f" at resourceVersion {resource_version}" if resource_version else ""
        super().__init__(f"state function {state!r} raised {error!r}{where}{at}")


class ClockStallError(KwaitError, TimeoutError):
    """A wait on a `kwait.testing.FakeClock` could never end, or outlasted its stall limit.

    Raised instead of hanging: nothing could advance the fake time (autojump is
    off, every participant is blocked on the clock, and no other thread that
    could call ``advance`` is alive), or a ``stall_timeout`` passed.

    >>> from kwait.testing import FakeClock
    >>> FakeClock(idle_timeout=0.05).sleep(5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kwait.errors.ClockStallError: MainThread waits on a FakeClock for fake time 5.0, but ...
    """
