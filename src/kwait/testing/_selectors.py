"""Label and field selectors, parsed the way the API server parses them.

The label-selector lexer and parser follow apimachinery's ``labels/selector.go``
token for token, so a malformed selector fails with the server's error message
verbatim; the field-selector parser follows ``fields/selector.go``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "FieldSelector",
    "LabelSelector",
    "SelectorError",
    "parse_field_selector",
    "parse_label_selector",
]


class SelectorError(ValueError):
    """A selector did not parse; the message is the API server's, verbatim."""


# ---------------------------------------------------------------- validation messages

_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile(f"^{_QNAME_FMT}$")
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)
_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL + "(\\." + _DNS1123_LABEL + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Format a validation message like apimachinery's ``RegexError``."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{example}', "
    return msg + f"regex used for validation is '{fmt}')"


def qualified_name_errors(value: str) -> list[str]:
    """Return apimachinery's ``IsQualifiedName`` errors for `value` (empty if valid)."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:  # noqa: PLR2004 - prefix/name
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain_errors(prefix))
    else:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:  # noqa: PLR2004 - qualifiedNameMaxLength
        errs.append("name part must be no more than 63 characters")
    if not _QNAME_RE.match(name):
        errs.append(
            "name part " + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    """Return apimachinery's ``IsDNS1123Subdomain`` errors for `value`."""
    errs: list[str] = []
    if len(value) > 253:  # noqa: PLR2004 - DNS1123SubdomainMaxLength
        errs.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def label_value_errors(value: str) -> list[str]:
    """Return apimachinery's ``IsValidLabelValue`` errors for `value`."""
    errs: list[str] = []
    if len(value) > 63:  # noqa: PLR2004 - LabelValueMaxLength
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(
            _regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errs


def _go_quote(value: str) -> str:
    """Quote a string the way Go's ``%q`` does for printable ASCII."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _invalid(path: str, value: str, detail: str) -> str:
    """Format a ``field.Invalid`` error."""
    return f"{path}: Invalid value: {_go_quote(value)}: {detail}"


# ---------------------------------------------------------------- label selector lexer

_SPECIAL = frozenset("=!(),><")
_SYMBOLS = {")": ")", ",": ",", "!": "!", "==": "==", "=": "=", ">": ">", "<": "<"}
_SYMBOLS.update({"!=": "!=", "(": "("})
_KEYWORDS = {"in": "in", "notin": "notin"}
_ID = "id"
_EOS = "eos"
_ERR = "err"


def _lex(selector: str) -> list[tuple[str, str]]:
    """Split `selector` into (token, literal) pairs, ending with an end-of-string token."""
    items: list[tuple[str, str]] = []
    pos = 0
    n = len(selector)
    while True:
        while pos < n and selector[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            items.append((_EOS, ""))
            return items
        ch = selector[pos]
        if ch in _SPECIAL:
            buffer = ""
            last: tuple[str, str] | None = None
            while pos < n and selector[pos] in _SPECIAL:
                buffer += selector[pos]
                pos += 1
                if buffer in _SYMBOLS:
                    last = (_SYMBOLS[buffer], buffer)
                elif last is not None:
                    pos -= 1
                    break
            if last is None:
                items.append((_ERR, f"error expected: keyword found '{buffer}'"))
                items.append((_EOS, ""))
                return items
            items.append(last)
        else:
            start = pos
            while pos < n and selector[pos] not in _SPECIAL and selector[pos] not in " \t\r\n":
                pos += 1
            word = selector[start:pos]
            items.append((_KEYWORDS.get(word, _ID), word))


_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"


@dataclass(frozen=True)
class _Requirement:
    key: str
    operator: str  # in notin = == != exists !exists gt lt
    values: tuple[str, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:  # noqa: PLR0911 - mirrors the API server's decision table
        op = self.operator
        if op in {"=", "==", "in"}:
            return self.key in labels and labels[self.key] in self.values
        if op in {"!=", "notin"}:
            return self.key not in labels or labels[self.key] not in self.values
        if op == "exists":
            return self.key in labels
        if op == "!exists":
            return self.key not in labels
        if self.key not in labels:
            return False
        try:
            have = int(labels[self.key])
        except ValueError:
            return False
        want = int(self.values[0])
        return have > want if op == ">" else have < want


class _LabelParser:
    """A port of apimachinery's label selector parser."""

    def __init__(self, selector: str) -> None:
        self.items = _lex(selector)
        self.pos = 0

    def lookahead(self, *, values: bool) -> tuple[str, str]:
        tok, lit = self.items[self.pos]
        if values and tok in {"in", "notin"}:
            tok = _ID
        return tok, lit

    def consume(self, *, values: bool) -> tuple[str, str]:
        tok, lit = self.lookahead(values=values)
        if self.pos < len(self.items) - 1:
            self.pos += 1
        return tok, lit

    def parse(self) -> list[_Requirement]:
        requirements: list[_Requirement] = []
        while True:
            tok, lit = self.lookahead(values=True)
            if tok in {_ID, "!"}:
                try:
                    requirements.append(self.parse_requirement())
                except SelectorError as err:
                    raise SelectorError(f"unable to parse requirement: {err}") from None
                tok, lit = self.consume(values=True)
                if tok == _EOS:
                    return requirements
                if tok == ",":
                    tok2, lit2 = self.lookahead(values=True)
                    if tok2 not in {_ID, "!"}:
                        raise SelectorError(f"found '{lit2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return requirements
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> _Requirement:
        operator = ""
        tok, key = self.consume(values=True)
        if tok == "!":
            operator = "!exists"
            tok, key = self.consume(values=True)
        if tok != _ID:
            raise SelectorError(f"found '{key}', expected: identifier")
        errs = qualified_name_errors(key)
        if errs:
            raise SelectorError(_invalid("<nil>", key, "; ".join(errs)))
        nxt, _ = self.lookahead(values=True)
        if nxt in {_EOS, ","} and operator != "!exists":
            operator = "exists"
        if operator in {"exists", "!exists"}:
            return _Requirement(key, operator, ())
        tok, lit = self.consume(values=False)
        if tok not in {"in", "notin", "=", "==", "!=", ">", "<"}:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        operator = tok
        values = self.parse_values() if operator in {"in", "notin"} else self.parse_exact_value()
        return _new_requirement(key, operator, sorted(values))

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(values=True)
        if tok != "(":
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(values=True)
        if tok in {_ID, ","}:
            values = self.parse_identifiers()
            tok, _ = self.consume(values=True)
            if tok != ")":
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == ")":
            self.consume(values=True)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(values=True)
            if tok == _ID:
                values.add(lit)
                tok2, lit2 = self.lookahead(values=True)
                if tok2 == ",":
                    continue
                if tok2 == ")":
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == ",":
                if not values:
                    values.add("")
                tok2, _ = self.lookahead(values=True)
                if tok2 == ")":
                    values.add("")
                    return values
                if tok2 == ",":
                    self.consume(values=True)
                    values.add("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        tok, _ = self.lookahead(values=True)
        if tok in {_EOS, ","}:
            return {""}
        tok, lit = self.consume(values=True)
        if tok == _ID:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def _new_requirement(key: str, operator: str, values: list[str]) -> _Requirement:
    """Validate like apimachinery's ``NewRequirement``."""
    errs: list[str] = []
    if operator in {">", "<"}:
        errs.extend(
            _invalid(
                f"values[{i}]", value, "for 'Gt', 'Lt' operators, the value must be an integer"
            )
            for i, value in enumerate(values)
            if not re.fullmatch(r"[+-]?[0-9]+", value)
        )
    for i, value in enumerate(values):
        value_errs = label_value_errors(value)
        if value_errs:
            errs.append(_invalid(f"values[{i}][{key}]", value, "; ".join(value_errs)))
    if len(errs) == 1:
        raise SelectorError(errs[0])
    if errs:
        raise SelectorError("[" + ", ".join(errs) + "]")
    return _Requirement(key, operator, tuple(values))


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector: all requirements must hold."""

    requirements: tuple[_Requirement, ...]

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Return whether an object with `labels` is selected."""
        have = labels or {}
        return all(r.matches(have) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """Whether the selector selects everything."""
        return not self.requirements


def parse_label_selector(selector: str) -> LabelSelector:
    """Parse a label selector, raising `SelectorError` with the server's message.

    >>> parse_label_selector("app in (web, db), !canary").matches({"app": "db"})
    True
    >>> parse_label_selector("app=a b")
    Traceback (most recent call last):
    ...
    kwait.testing._selectors.SelectorError: found 'b', expected: ',' or 'end of string'
    """
    return LabelSelector(tuple(_LabelParser(selector).parse()))


# ---------------------------------------------------------------- field selectors


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split on `sep` where it is not escaped by a backslash."""
    parts: list[str] = []
    current = ""
    escaped = False
    for ch in text:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            current += ch
            escaped = True
        elif ch == sep:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _unescape(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out = ""
    in_slash = False
    for ch in value:
        if in_slash:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out += ch
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out += ch
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return out


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: ``(field, equal, value)`` terms, all ANDed."""

    terms: tuple[tuple[str, bool, str], ...]

    def matches(self, fields: Callable[[str], str]) -> bool:
        """Return whether an object whose field values `fields` returns is selected."""
        return all((fields(f) == v) == eq for f, eq, v in self.terms)

    @property
    def empty(self) -> bool:
        """Whether the selector selects everything."""
        return not self.terms

    def fields(self) -> list[str]:
        """Return the field names the selector uses."""
        return [f for f, _, _ in self.terms]


def parse_field_selector(selector: str) -> FieldSelector:
    """Parse a field selector, raising `SelectorError` with the server's message.

    >>> parse_field_selector("status.phase=Running,metadata.name!=a").terms
    (('metadata.name', False, 'a'), ('status.phase', True, 'Running'))
    >>> parse_field_selector("phase")
    Traceback (most recent call last):
    ...
    kwait.testing._selectors.SelectorError: invalid selector: 'phase'; can't understand 'phase'
    """
    terms: list[tuple[str, bool, str]] = []
    for part in sorted(_split_unescaped(selector, ",")):
        if not part:
            continue
        for i in range(len(part)):
            rest = part[i:]
            op = next((o for o in ("!=", "==", "=") if rest.startswith(o)), None)
            if op is not None:
                terms.append((part[:i], op != "!=", _unescape(part[i + len(op) :])))
                break
        else:
            raise SelectorError(f"invalid selector: '{selector}'; can't understand '{part}'")
    return FieldSelector(tuple(terms))
