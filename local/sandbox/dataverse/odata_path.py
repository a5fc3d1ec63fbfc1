"""Resource paths of the Web API: `invoices(<guid>)`, `dxc_xerotaxrates(dxc_xeroid='a''b')`,
`EntityDefinitions(LogicalName='invoice')/Attributes`, split into segments with their keys."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from . import errors

KeyValue = str | dict[str, Any]  # a primary id, or alternate-key column -> value
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")


@dataclass
class Segment:
    name: str
    key: KeyValue | None = None
    has_parens: bool = False
    raw: str = ""


def split_path(path: str) -> list[str]:
    """Split on '/' outside quotes and parentheses (key values may contain slashes)."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in path:
        if char == "'":
            quoted = not quoted  # '' (an escaped quote) toggles twice: still right
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "/" and not quoted and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p != ""]


def parse_segment(raw: str) -> Segment:
    if "(" not in raw:
        return Segment(raw, None, False, raw)
    if not raw.endswith(")"):
        raise errors.not_found_segment(raw)
    name, inner = raw[: raw.index("(")], raw[raw.index("(") + 1 : -1]
    return Segment(name, parse_key(inner, raw) if inner else None, True, raw)


def parse_key(inner: str, raw: str) -> KeyValue:
    if _GUID.match(inner):
        return inner.strip("{}").lower()
    pairs: dict[str, Any] = {}
    for part in _split_commas(inner):
        if "=" not in part:
            raise errors.bad_query(f"Bad Request - Error in query syntax: {raw}")
        name, value = part.split("=", 1)
        pairs[name.strip()] = _literal(value.strip(), raw)
    return pairs


def _split_commas(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _literal(text: str, raw: str) -> Any:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if _GUID.match(text):
        return str(uuid.UUID(text.strip("{}")))
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise errors.bad_query(f"Bad Request - Error in query syntax: {raw}") from None


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))
