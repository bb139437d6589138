"""Fault injection for the fake API server.

`Faults` is reached as ``server.faults``. Each method arms a fault that the
server applies to the matching requests or watches that come *after* the
call (``expire_open_watches`` acts on the watches open right now), so a test
says exactly where the failure happens:

>>> from kwait.testing import Faults
>>> faults = Faults()
>>> faults.fail_next(2, status=429, retry_after=3, verb="LIST")
>>> faults.take_failure("LIST", "/api/v1/pods").status
429
>>> faults.take_failure("GET", "/api/v1/namespaces/default/pods/a") is None
True
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from kwait._check import check_int, check_seconds

__all__ = ["Faults", "InjectedFailure", "WatchFault"]

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Expired",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass
class _Rule:
    count: int
    verb: str | None
    path: re.Pattern[str] | None

    def matches(self, verb: str, path: str) -> bool:
        if self.verb is not None and self.verb != verb:
            return False
        return self.path is None or self.path.search(path) is not None


@dataclass(frozen=True)
class InjectedFailure:
    """An error response the server sends instead of serving a request.

    Attributes:
        status: The HTTP status code.
        reason: The Status ``reason``.
        message: The Status ``message``.
        retry_after: Seconds for ``Retry-After`` and ``details.retryAfterSeconds``, or None.

    >>> from kwait.testing import Faults
    >>> faults = Faults()
    >>> faults.fail_next(status=503, verb="LIST")
    >>> faults.take_failure("LIST", "/api/v1/pods").reason
    'ServiceUnavailable'
    """

    status: int
    reason: str
    message: str
    retry_after: int | None


@dataclass
class _FailureRule(_Rule):
    failure: InjectedFailure


@dataclass
class _DelayRule(_Rule):
    seconds: float


@dataclass(frozen=True)
class WatchFault:
    """What goes wrong on one watch connection.

    Attributes:
        after_events: How many events are written normally first.
        action: ``drop`` (abrupt close), ``truncate`` (half a line, then a
            clean end), ``expire`` (a 410 ERROR event, then a clean end),
            ``expire_http`` (HTTP 410 instead of the stream), ``end`` (a
            clean end, as if the watch timed out) or ``raw`` (write `raw` as
            a line, then carry on).
        raw: The bytes for ``raw``.
        replay: Ignore the requested resourceVersion and start with an
            ``ADDED`` event for every matching object, as a misbehaving
            server (or proxy) that replays state on every watch would.

    >>> from kwait.testing import Faults
    >>> faults = Faults()
    >>> faults.drop_watch(after_events=3, path="/pods")
    >>> faults.take_watch_fault("/api/v1/pods")
    WatchFault(after_events=3, action='drop', raw=b'', replay=False)
    """

    after_events: int
    action: str
    raw: bytes = b""
    replay: bool = False


@dataclass
class _WatchRule(_Rule):
    fault: WatchFault


def _compile(path: str | None) -> re.Pattern[str] | None:
    if path is None:
        return None
    if not isinstance(path, str):
        raise TypeError(f"path= takes a regular expression string, got {path!r}")
    try:
        return re.compile(path)
    except re.error as error:
        raise ValueError(f"path={path!r} is not a valid regular expression: {error}") from None


_VERBS = frozenset(
    {
        "GET",
        "LIST",
        "WATCH",
        "CREATE",
        "UPDATE",
        "PATCH",
        "DELETE",
        "DELETECOLLECTION",
        "POST",
        "PUT",
    }
)


def _verb(verb: str | None) -> str | None:
    if verb is None:
        return None
    if not isinstance(verb, str) or verb.upper() not in _VERBS:
        raise ValueError(f"verb= takes one of {', '.join(sorted(_VERBS))}, got {verb!r}")
    return verb.upper()


def _count(what: str, value: int, minimum: int) -> int:
    return check_int(what, value, minimum=minimum)


class Faults:
    """Arms failures for the requests and watches that follow.

    Verbs are the API server's: ``GET``, ``LIST``, ``WATCH``, ``CREATE``,
    ``UPDATE``, ``PATCH``, ``DELETE``. `path` is a regular expression searched
    in the URL path (``"/pods"`` matches every pod URL). Every method is
    thread-safe.

    >>> from kwait.testing import Faults
    >>> faults = Faults()
    >>> faults.fail_next(2, status=429, retry_after=3, verb="LIST")
    >>> [faults.take_failure("LIST", "/api/v1/pods").status for _ in range(2)]
    [429, 429]
    >>> faults.take_failure("LIST", "/api/v1/pods") is None
    True
    """

    def __init__(self) -> None:
        """Start with nothing armed."""
        self._lock = threading.Lock()
        self._failures: list[_FailureRule] = []
        self._delays: list[_DelayRule] = []
        self._watch: list[_WatchRule] = []
        self.on_expire_now: Callable[[], None] | None = None

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: int | None = None,
        message: str | None = None,
        verb: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests with an error Status.

        Args:
            count: How many requests fail.
            status: The HTTP status (429 and 500 are the usual ones).
            retry_after: Seconds to send as ``Retry-After`` (and in the Status details).
            message: The Status message; a sensible default per status otherwise.
            verb: Only requests with this verb.
            path: Only requests whose path matches this regular expression.
        """
        _count("count", count, 1)
        check_int("status", status, minimum=400, maximum=599)
        if retry_after is not None:
            check_int("retry_after", retry_after, minimum=0)
        if message is not None and not isinstance(message, str):
            raise TypeError(f"message= takes a string, got {message!r}")
        reason = _REASONS.get(status, "InternalError")
        if message is None:
            message = {
                429: "Too many requests, please try again later.",
                500: "Internal error occurred: injected fault",
                503: "the server is currently unable to handle the request",
            }.get(status, f"injected fault {status}")
        failure = InjectedFailure(status, reason, message, retry_after)
        with self._lock:
            self._failures.append(_FailureRule(count, _verb(verb), _compile(path), failure))

    def delay(
        self,
        seconds: float,
        *,
        count: int | None = None,
        verb: str | None = None,
        path: str | None = None,
    ) -> None:
        """Hold matching requests for `seconds` of the server's clock before serving them.

        Args:
            seconds: The delay.
            count: How many requests are delayed; None means every one from now on.
            verb: Only requests with this verb.
            path: Only requests whose path matches this regular expression.
        """
        check_seconds("seconds", seconds)
        if count is not None:
            _count("count", count, 1)
        with self._lock:
            self._delays.append(
                _DelayRule(-1 if count is None else count, _verb(verb), _compile(path), seconds)
            )

    def drop_watch(self, after_events: int = 0, *, count: int = 1, path: str | None = None) -> None:
        """Cut the next `count` watch connections abruptly after `after_events` events."""
        self._arm_watch(WatchFault(after_events, "drop"), count, path)

    def truncate_watch_line(
        self, after_events: int = 0, *, count: int = 1, path: str | None = None
    ) -> None:
        """Send half of the event after `after_events`, without its newline, then end cleanly."""
        self._arm_watch(WatchFault(after_events, "truncate"), count, path)

    def end_watch(
        self,
        after_events: int = 0,
        *,
        count: int = 1,
        path: str | None = None,
        replay: bool = False,
    ) -> None:
        """End the next `count` watches cleanly after `after_events` events.

        With ``replay=True`` each of them first sends every matching object as
        ``ADDED``, whatever resourceVersion the client asked for: a server
        that sends the same event again and hangs up, on every watch.

        >>> faults = Faults()
        >>> faults.end_watch(1, count=3, replay=True)
        >>> faults.take_watch_fault("/api/v1/pods")
        WatchFault(after_events=1, action='end', raw=b'', replay=True)
        """
        self._arm_watch(WatchFault(after_events, "end", replay=replay), count, path)

    def expire_watch(
        self,
        after_events: int = 0,
        *,
        count: int = 1,
        path: str | None = None,
        http: bool = False,
    ) -> None:
        """Make the next `count` watches end in 410 Gone.

        With ``http=False`` (what a real API server does) the watch sends
        `after_events` events, then an ERROR event with the 410 Status, then
        ends. With ``http=True`` the connection is refused with HTTP 410.
        """
        action = "expire_http" if http else "expire"
        self._arm_watch(WatchFault(after_events, action), count, path)

    def inject_watch_line(
        self, raw: bytes, after_events: int = 0, *, count: int = 1, path: str | None = None
    ) -> None:
        """Write `raw` and a newline into the next `count` watches (``b""``: a blank line)."""
        self._arm_watch(WatchFault(after_events, "raw", raw), count, path)

    def expire_open_watches(self) -> None:
        """Send a 410 ERROR event to every watch open right now and end them."""
        if self.on_expire_now is not None:
            self.on_expire_now()

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._failures.clear()
            self._delays.clear()
            self._watch.clear()

    # ------------------------------------------------------------ used by the server

    def _arm_watch(self, fault: WatchFault, count: int, path: str | None) -> None:
        _count("after_events", fault.after_events, 0)
        _count("count", count, 1)
        with self._lock:
            self._watch.append(_WatchRule(count, "WATCH", _compile(path), fault))

    def take_failure(self, verb: str, path: str) -> InjectedFailure | None:
        """Consume and return the failure armed for this request, if any."""
        with self._lock:
            for rule in self._failures:
                if rule.count > 0 and rule.matches(verb, path):
                    rule.count -= 1
                    return rule.failure
            self._failures = [r for r in self._failures if r.count > 0]
        return None

    def take_delay(self, verb: str, path: str) -> float:
        """Consume and return the delay armed for this request (0 if none)."""
        with self._lock:
            for rule in self._delays:
                if rule.count != 0 and rule.matches(verb, path):
                    if rule.count > 0:
                        rule.count -= 1
                    return rule.seconds
            self._delays = [r for r in self._delays if r.count != 0]
        return 0.0

    def take_watch_fault(self, path: str) -> WatchFault | None:
        """Consume and return the fault armed for a new watch on `path`, if any."""
        with self._lock:
            for rule in self._watch:
                if rule.count > 0 and rule.matches("WATCH", path):
                    rule.count -= 1
                    return rule.fault
            self._watch = [r for r in self._watch if r.count > 0]
        return None
