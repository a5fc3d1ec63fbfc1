"""Just enough of Bicep's syntax to read app settings and parameters out of infra/ without a Bicep compiler
(none can be installed here): balanced blocks that skip strings (with ${...} interpolation) and comments,
the top-level entries of an object, and `param` declarations with their decorators."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_KEY = re.compile(r"^\s*(?:'(?P<quoted>[^']+)'|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))\s*:\s*(?P<value>.*)$", re.S)
_PARAM = re.compile(r"^param\s+(?P<name>\w+)\s+(?P<type>\w+)(?P<default>\s*=.*)?$")


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _scan(text: str, start: int) -> int:
    """The index just past the bracket or string that opens at text[start]."""
    closers = {"{": "}", "[": "]", "(": ")", "'": "'"}
    stack = [closers[text[start]]]  # what closes each open bracket; "'" means "inside a string"
    i = start + 1
    while i < len(text):
        ch, top = text[i], stack[-1]
        if top == "'":
            if ch == "\\":
                i += 1
            elif text.startswith("${", i):
                stack.append("}")
                i += 1
            elif ch == "'":
                stack.pop()
        elif text.startswith("//", i):
            i = _line_end(text, i)
            continue
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 1
        elif ch in closers:
            stack.append(closers[ch])
        elif ch == top:
            stack.pop()
        if not stack:
            return i + 1
        i += 1
    raise ValueError(f"unbalanced bracket or string at offset {start}")


def block_after(text: str, pattern: str) -> str:
    """The inside of the first {...} or [...] that follows a match of `pattern`."""
    match = re.search(pattern, text)
    if not match:
        raise LookupError(f"{pattern!r} not found")
    start = min(i for i in (text.find("{", match.end()), text.find("[", match.end())) if i >= 0)
    return text[start + 1 : _scan(text, start) - 1]


def top_level_entries(block: str) -> list[str]:
    """The entries of an object or array body: split on newlines and commas outside any bracket or string."""
    entries, current, i = [], [], 0
    while i < len(block):
        ch = block[i]
        if block.startswith("//", i):
            i = _line_end(block, i)
            continue
        if ch in "{[('":
            end = _scan(block, i)
            current.append(block[i:end])
            i = end
            continue
        if ch in "\n,":
            entries.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    entries.append("".join(current).strip())
    return [entry for entry in entries if entry]


def object_entries(block: str) -> dict[str, str]:
    """key -> value text of an object body's top-level entries."""
    result: dict[str, str] = {}
    for entry in top_level_entries(block):
        match = _KEY.match(entry)
        if not match:
            raise ValueError(f"not a key: value entry: {entry!r}")
        result[match["quoted"] or match["plain"]] = match["value"].strip()
    return result


def name_value_entries(block: str) -> dict[str, str]:
    """name -> value text of an array of `{ name: '...', value: ... }` objects (siteConfig.appSettings)."""
    result: dict[str, str] = {}
    for entry in top_level_entries(block):
        fields = object_entries(entry.strip()[1:-1])
        result[fields["name"].strip("'")] = fields.get("value", "")
    return result


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    secure: bool
    has_default: bool


_STATEMENT = re.compile(r"^(var|resource|module|output|targetScope|func|type|import)\b")


def params(text: str) -> dict[str, Param]:
    """Every `param` declaration, with whether a @secure() decorator precedes it."""
    found: dict[str, Param] = {}
    decorators: list[str] = []
    for line in (raw.strip() for raw in text.splitlines()):
        match = _PARAM.match(line)
        if match:
            secure = any(d.startswith("@secure(") for d in decorators)
            found[match["name"]] = Param(match["name"], match["type"], secure, bool(match["default"]))
            decorators = []
        elif line.startswith("@"):
            decorators.append(line)
        elif not line or _STATEMENT.match(line):
            decorators = []  # decorators belong to the declaration right below them
    return found


@dataclass(frozen=True)
class Expression:
    """A value only a deployment knows (a parameter, a function call, an interpolated string)."""

    text: str


@dataclass(frozen=True)
class Resource:
    symbol: str
    type: str  # e.g. Microsoft.Web/sites
    api_version: str
    existing: bool
    body: dict[str, Any]  # the declared body, values parsed by parse_value


_RESOURCE = re.compile(r"^resource\s+(\w+)\s+'([^'@]+)@([^']+)'\s+(existing\s+)?=\s*", re.M)


def _body_start(text: str, start: int) -> int:
    """Where the body object starts: after a loop's `[for ... :` and a condition's `if (...)`."""
    if text[start] == "[":
        start = text.index(":", start) + 1
    start = len(text) - len(text[start:].lstrip())
    if text.startswith("if", start):
        start = _scan(text, text.index("(", start))
    return text.index("{", start)


def resources(text: str) -> list[Resource]:
    """Every `resource` declaration of a Bicep file, its body parsed."""
    found = []
    for match in _RESOURCE.finditer(text):
        start = _body_start(text, match.end())
        body = parse_value(text[start : _scan(text, start)])
        assert isinstance(body, dict)
        found.append(Resource(match[1], match[2], match[3], bool(match[4]), body))
    return found


def parse_value(text: str) -> Any:
    """A Bicep value as Python: dict, list, str, int, bool, None, or an Expression when it is not literal."""
    text = text.strip()
    whole = bool(text) and text[0] in "{['" and _scan(text, 0) == len(text)
    if whole and text[0] == "{":
        return {key: parse_value(value) for key, value in object_entries(text[1:-1]).items()}
    if whole and text[0] == "[" and not re.match(r"\[\s*for\b", text):
        return [parse_value(entry) for entry in top_level_entries(text[1:-1])]
    if whole and text[0] == "'" and "${" not in text:
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return Expression(text)


def decorators(text: str, param: str) -> str:
    """The decorator lines written above `param <name>`, as one text."""
    lines = text[: re.search(rf"^param\s+{param}\b", text, re.M).start()].splitlines()  # type: ignore[union-attr]
    above: list[str] = []
    for line in reversed(lines):
        if not line.strip() or _STATEMENT.match(line) or line.startswith("param "):
            break
        above.insert(0, line)
    return "\n".join(above)


def allowed_values(text: str, param: str) -> list[Any]:
    """The @allowed([...]) list of a parameter, [] when it has none."""
    above = decorators(text, param)
    if "@allowed(" not in above:
        return []
    return [parse_value(entry) for entry in top_level_entries(block_after(above, r"@allowed\("))]


INFRA = Path(__file__).resolve().parents[2] / "infra"


def bicep_settings() -> dict[str, str]:
    """Every app setting infra/ sets: main.bicep's list, plus any siteConfig.appSettings array anywhere."""
    settings = object_entries(block_after((INFRA / "main.bicep").read_text(), r"\bvar appSettings\s*="))
    for path in INFRA.rglob("*.bicep"):
        text = path.read_text()
        for match in re.finditer(r"\bappSettings\s*:\s*\[", text):
            settings.update(name_value_entries(block_after(text[match.start() :], r"appSettings\s*:")))
    return settings
