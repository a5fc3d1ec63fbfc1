"""The `$filter` subset the sandbox understands: eq ne gt ge lt le, and/or/not, parentheses,
contains/startswith/endswith, on strings, numbers, booleans, guids, dates, null and `_x_value` lookups.

Parsed once into a predicate over a property getter, so the same filter works for rows and for
metadata objects. String comparisons ignore case, like Dataverse's SQL collation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import errors

Getter = Callable[[str], Any]
Predicate = Callable[[Getter], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"|(?P<date>\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_./]*)|(?P<punct>[(),]))"
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCTIONS = {"contains", "startswith", "endswith"}


class _Literal:
    def __init__(self, value: Any) -> None:
        self.value = value


def parse_filter(text: str, check_property: Callable[[str], None]) -> Predicate:
    tokens = _tokenize(text)
    parser = _Parser(tokens, check_property, text)
    predicate = parser.parse_or()
    if parser.position != len(tokens):
        raise _syntax(text)
    return predicate


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _syntax(text)
        kind = match.lastgroup or ""
        raw = match.group(kind)
        tokens.append((kind, _token_value(kind, raw)))
        position = match.end()
    return tokens


def _token_value(kind: str, raw: str) -> Any:
    if kind == "str":
        return raw[1:-1].replace("''", "'")
    if kind == "guid":
        return raw.lower()
    if kind == "num":
        return float(raw)
    return raw


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], check: Callable[[str], None], text: str) -> None:
        self.tokens, self.check, self.text, self.position = tokens, check, text, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise _syntax(self.text)
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        if self.take()[1] != value:
            raise _syntax(self.text)

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while self.peek() == ("name", "or"):
            self.take()
            right = self.parse_and()
            left = (lambda a, b: lambda get: a(get) or b(get))(left, right)
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_not()
        while self.peek() == ("name", "and"):
            self.take()
            right = self.parse_not()
            left = (lambda a, b: lambda get: a(get) and b(get))(left, right)
        return left

    def parse_not(self) -> Predicate:
        if self.peek() == ("name", "not"):
            self.take()
            inner = self.parse_not()
            return lambda get: not inner(get)
        return self.parse_primary()

    def parse_primary(self) -> Predicate:
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.parse_or()
            self.expect(")")
            return inner
        token = self.peek()
        if token and token[0] == "name" and token[1] in _FUNCTIONS:
            return self.parse_function()
        left = self.parse_operand()
        kind, op = self.take()
        if kind != "name" or op not in _COMPARISONS:
            raise _syntax(self.text)
        right = self.parse_operand()
        return lambda get: _compare(op, _resolve(left, get), _resolve(right, get))

    def parse_function(self) -> Predicate:
        name = self.take()[1]
        self.expect("(")
        prop = self.parse_operand()
        self.expect(",")
        needle = self.parse_operand()
        self.expect(")")

        def test(get: Getter) -> bool:
            haystack, wanted = _resolve(prop, get), _resolve(needle, get)
            if not isinstance(haystack, str) or not isinstance(wanted, str):
                return False
            h, w = haystack.lower(), wanted.lower()
            return {"contains": w in h, "startswith": h.startswith(w), "endswith": h.endswith(w)}[name]

        return test

    def parse_operand(self) -> Any:
        kind, value = self.take()
        if kind == "name":
            if value in ("null", "true", "false"):
                return _Literal({"null": None, "true": True, "false": False}[value])
            self.check(value)
            return value
        if kind == "punct":
            raise _syntax(self.text)
        return _Literal(value)


def _resolve(operand: Any, get: Getter) -> Any:
    return operand.value if isinstance(operand, _Literal) else get(operand)


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.lower()
        return text[:-1] if text.endswith("z") and "t" in text else text
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    a, b = _normal(left), _normal(right)
    if op == "eq":
        return bool(a == b)
    if op == "ne":
        return bool(a != b)
    if a is None or b is None or type(a) is not type(b):
        return False
    return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]


def _syntax(text: str) -> errors.DataverseError:
    return errors.bad_query(f"Syntax error at position {len(text)} in '{text}'.")
