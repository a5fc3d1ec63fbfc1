"""Query options ($select, $expand with nested options, $filter, $orderby, $top, $count), checked
against the table's definition with Dataverse's limits (15 expands; no $top/$orderby inside $expand)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from . import errors
from .metadata_model import Table
from .odata_filter import Predicate, parse_filter
from .store import EnvironmentState

MAX_EXPANDS = 15
TOP_LEVEL_OPTIONS = {"$select", "$expand", "$filter", "$orderby", "$top", "$count", "$skiptoken"}
NOT_SUPPORTED = {"$skip", "$search", "$apply", "$levels", "$format", "$compute", "$index", "$schemaversion"}
SANDBOX_UNSUPPORTED = {"fetchXml", "savedQuery", "userQuery"}


@dataclass
class Expand:
    nav: str
    table: Table
    collection: bool
    options: QueryOptions


@dataclass
class QueryOptions:
    select: list[str] | None = None
    expand: list[Expand] = field(default_factory=list)
    filter: Predicate | None = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    top: int | None = None
    count: bool = False
    skip_token: int = 0


def parse_query(env: EnvironmentState, table: Table, args: Mapping[str, str]) -> QueryOptions:
    for name in args:
        if name in NOT_SUPPORTED or (name.startswith("$") and name not in TOP_LEVEL_OPTIONS):
            raise errors.bad_query(f"The query parameter {name} is not supported")
        if name in SANDBOX_UNSUPPORTED:
            raise errors.bad_query(f"The query parameter {name} is not supported by the Dataverse sandbox")
    options = _options(env, table, dict(args), nested=False)
    if _count_expands(options) > MAX_EXPANDS:
        raise errors.DataverseError(
            400, "0x8004430d", "Number of link entities in query exceeded maximum limit."
        )
    return options


def _options(env: EnvironmentState, table: Table, args: dict[str, str], nested: bool) -> QueryOptions:
    options = QueryOptions()
    if nested:
        for name in ("$top", "$orderby", "$count", "$skiptoken"):
            if name in args:
                raise errors.bad_query(
                    f"The query option '{name}' is not supported inside $expand; sort or limit related rows "
                    "in the client."
                )
    if "$select" in args:
        options.select = [p.strip() for p in args["$select"].split(",") if p.strip()]
        for prop in options.select:
            _check_property(table, prop)
    if "$filter" in args:
        options.filter = parse_filter(args["$filter"], lambda p: _check_property(table, p))
    if "$orderby" in args:
        options.orderby = [_order_item(table, item) for item in args["$orderby"].split(",") if item.strip()]
    if "$top" in args:
        options.top = _non_negative(args["$top"], "$top")
    options.count = args.get("$count", "false").lower() == "true"
    if "$skiptoken" in args:
        options.skip_token = _non_negative(args["$skiptoken"], "$skiptoken")
    if "$expand" in args:
        options.expand = [_expand(env, table, item) for item in split_top(args["$expand"], ",")]
    return options


def _expand(env: EnvironmentState, table: Table, item: str) -> Expand:
    item = item.strip()
    if "(" in item and not item.endswith(")"):
        raise errors.bad_query(f"Syntax error in $expand near '{item}'.")
    name, inner = (item[: item.index("(")], item[item.index("(") + 1 : -1]) if "(" in item else (item, "")
    nested: dict[str, str] = {}
    for part in split_top(inner, ";"):
        if "=" not in part:
            raise errors.bad_query(f"Syntax error in $expand near '{part}'.")
        key, value = part.split("=", 1)
        nested[key.strip()] = value.strip()
    if name in table.many_to_one:
        target = env.tables.get(table.many_to_one[name].target)
        collection = False
    elif name in table.one_to_many:
        target = env.tables.get(table.one_to_many[name].table)
        collection = True
    else:
        raise errors.unknown_property(name, table.logical_name)
    if target is None:
        raise errors.unknown_property(name, table.logical_name)
    return Expand(name, target, collection, _options(env, target, nested, nested=True))


def split_top(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses and quotes."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _check_property(table: Table, prop: str) -> None:
    if table.attribute_by_property(prop) is None:
        raise errors.unknown_property(prop, table.logical_name)


def _order_item(table: Table, item: str) -> tuple[str, bool]:
    words = item.split()
    if len(words) not in (1, 2) or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
        raise errors.bad_query(f"Syntax error in $orderby: '{item}'.")
    _check_property(table, words[0])
    return words[0], len(words) == 2 and words[1].lower() == "desc"


def _non_negative(value: str, name: str) -> int:
    if not value.isdigit():
        raise errors.bad_query(f"Invalid value '{value}' for {name} query option found.")
    return int(value)


def _count_expands(options: QueryOptions) -> int:
    return sum(1 + _count_expands(e.options) for e in options.expand)
