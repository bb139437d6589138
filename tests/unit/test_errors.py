"""Tests of internals: `api_error_from_status`, the status-to-error mapping.

API errors are typed by status and say what was asked and what the server answered.
"""

from __future__ import annotations

import pytest

import kwait
from kwait._errors import api_error_from_status


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, kwait.errors.ApiBadRequestError),
        (401, kwait.errors.ApiUnauthorizedError),
        (403, kwait.errors.ApiForbiddenError),
        (404, kwait.errors.ApiNotFoundError),
        (422, kwait.errors.ApiBadRequestError),
        (429, kwait.errors.ApiTransientError),
        (500, kwait.errors.ApiTransientError),
        (503, kwait.errors.ApiTransientError),
        (409, kwait.ApiError),
    ],
)
def test_status_maps_to_a_typed_error(status: int, cls: type[kwait.ApiError]) -> None:
    """Each status becomes the error class a caller would catch for it."""
    err = api_error_from_status(status, None)
    assert type(err) is cls
    assert err.status == status


def test_message_names_the_request_and_the_answer() -> None:
    """The message carries what kwait asked and the server's reason and message verbatim."""
    body = {
        "kind": "Status",
        "status": "Failure",
        "message": "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
        "reason": "BadRequest",
        "code": 400,
    }
    err = api_error_from_status(400, body, request="WATCH pods with labelSelector 'a b'")
    assert str(err) == (
        "WATCH pods with labelSelector 'a b': the API server answered 400 BadRequest: "
        "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
    )
    assert err.body == body


def test_retry_after_comes_from_status_details_when_no_header() -> None:
    """A 504 too-large-RV Status carries retryAfterSeconds; the error exposes it."""
    body = {"reason": "Timeout", "message": "Too large", "details": {"retryAfterSeconds": 1}}
    assert api_error_from_status(504, body).retry_after == 1.0
    assert api_error_from_status(429, body, retry_after=7.0).retry_after == 7.0


def test_unknown_resource_suggests_names() -> None:
    """An unknown resource name lists the closest names the server serves."""
    err = kwait.errors.UnknownResourceError("pdos", ["pods", "podtemplates"])
    assert (
        str(err) == "the server has no resource named 'pdos'; did you mean 'pods', 'podtemplates'?"
    )


def test_public_names_are_documented_and_report_the_public_module() -> None:
    """Every exported name has a docstring and presents itself as part of `kwait`."""
    for name in kwait.__all__:
        obj = getattr(kwait, name)
        if name == "__version__":
            assert isinstance(obj, str)
            continue
        assert obj.__doc__, f"kwait.{name} has no docstring"
        assert obj.__module__ == "kwait", f"kwait.{name} reports module {obj.__module__}"
