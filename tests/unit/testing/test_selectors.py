"""Tests of internals: the fake server's selector parsers.

Label and field selectors parse, match and fail exactly as the API server's do.
"""

from __future__ import annotations

import pytest

from kwait.testing._selectors import SelectorError, parse_field_selector, parse_label_selector

LABEL_ERRORS = [
    ("app=a b", "found 'b', expected: ',' or 'end of string'"),
    ("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
    ("app in a", "unable to parse requirement: found 'a' expected: '('"),
    ("=x", "found '=', expected: !, identifier, or 'end of string'"),
    ("app=web,", "found '', expected: identifier after ','"),
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    (
        "app=-x",
        (
            'unable to parse requirement: values[0][app]: Invalid value: "-x": a valid label must '
            "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
            "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        ),
    ),
    (
        "-bad=1",
        (
            'unable to parse requirement: <nil>: Invalid value: "-bad": name part must consist of '
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        ),
    ),
    (
        "x>a",
        (
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
            "operators, the value must be an integer"
        ),
    ),
]


@pytest.mark.parametrize(("selector", "message"), LABEL_ERRORS)
def test_label_selector_errors_are_verbatim(selector: str, message: str) -> None:
    """Each malformed label selector fails with the real parser's message."""
    with pytest.raises(SelectorError) as exc:
        parse_label_selector(selector)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("app!=web", {"app": "web"}, False),
        ("app notin (a,b)", {}, True),
        ("app notin (a,b)", {"app": "a"}, False),
        ("app in (a, b)", {"app": "b"}, True),
        ("app in (a, b)", {}, False),
        ("app", {"app": ""}, True),
        ("!app", {"app": ""}, False),
        ("!app", {"x": "y"}, True),
        ("tier=", {"tier": ""}, True),
        ("tier=", {}, False),
        ("n>5", {"n": "7"}, True),
        ("n<5", {"n": "7"}, False),
        ("n>5", {"n": "seven"}, False),
        ("", {}, True),
        ("a=1, b in (2)", {"a": "1", "b": "2"}, True),
        ("example.com/role=db", {"example.com/role": "db"}, True),
    ],
)
def test_label_selector_matching(selector: str, labels: dict[str, str], expected: bool) -> None:  # noqa: FBT001
    """Label requirements match as in apimachinery, including != and notin on absent keys."""
    assert parse_label_selector(selector).matches(labels) is expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("status.phase", "invalid selector: 'status.phase'; can't understand 'status.phase'"),
        (
            "status.phase in (Running)",
            (
                "invalid selector: 'status.phase in (Running)'; can't understand "
                "'status.phase in (Running)'"
            ),
        ),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
    ],
)
def test_field_selector_errors_are_verbatim(selector: str, message: str) -> None:
    """Each malformed field selector fails with the real parser's message."""
    with pytest.raises(SelectorError) as exc:
        parse_field_selector(selector)
    assert str(exc.value) == message


def test_field_selector_escapes_and_trailing_comma() -> None:
    """Escaped commas and equals signs are part of the value, and a trailing comma is allowed."""
    selector = parse_field_selector(r"metadata.name=a\,b\=c,")
    assert selector.terms == (("metadata.name", True, "a,b=c"),)
    values = {"metadata.name": "a,b=c"}
    assert selector.matches(lambda f: values.get(f, ""))
