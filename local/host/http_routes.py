"""Functions-style route templates ("items/{id:int}/{name?}", "{*rest}") matched case-insensitively."""

from __future__ import annotations

import re
from dataclasses import dataclass

from local.host.index import FunctionSpec

_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?i:true|false)",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
    "double": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
    "datetime": r"[^/]+",
}
_PARAMETER = re.compile(r"^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+))?(\?)?\}$")


@dataclass(frozen=True)
class Route:
    spec: FunctionSpec
    pattern: re.Pattern[str]
    methods: frozenset[str]  # empty: every method
    auth_level: str

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {k: v for k, v in found.groupdict().items() if v is not None}


def compile_template(template: str) -> re.Pattern[str]:
    parts = [p for p in template.strip("/").split("/") if p]
    regex = ""
    for part in parts:
        parameter = _PARAMETER.match(part)
        if parameter is None:
            regex += "/" + re.escape(part)
            continue
        catch_all, name, constraint, optional = parameter.groups()
        if catch_all:
            regex += f"(?:/(?P<{name}>.*))?"
            continue
        if constraint and constraint.lower() not in _CONSTRAINTS:
            raise ValueError(f"route {template!r}: unknown constraint {constraint!r}")
        body = _CONSTRAINTS[constraint.lower()] if constraint else r"[^/]+"
        segment = f"/(?P<{name}>{body})"
        regex += f"(?:{segment})?" if optional else segment
    return re.compile(regex or "/?", re.IGNORECASE)


def build_route(spec: FunctionSpec, prefix: str) -> Route:
    template = spec.trigger.get("route") or spec.name
    full = f"{prefix}/{template}" if prefix else template
    methods = frozenset(str(m).upper() for m in spec.trigger.get("methods") or ())
    auth = str(spec.trigger.get("authLevel", "function")).lower()
    return Route(spec, compile_template(full), methods, auth)
