"""Rows → Web API JSON: `@odata.etag`, `_lookup_value` properties, expanded related rows, and the
annotations `Prefer: odata.include-annotations` asks for (formatted values, lookup logical names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .metadata_model import BOOLEAN, DATETIME, DECIMAL, INTEGER, MONEY, OPTION_TYPES, Attribute, Table
from .odata_query import QueryOptions
from .store import EnvironmentState, Ref, Row

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAV_NAME = "Microsoft.Dynamics.CRM.associatednavigationproperty"
WRITE_ONLY = {("serviceendpoint", "authvalue")}  # Dataverse never returns a webhook's key


def annotation_filter(prefer: str) -> Callable[[str], bool]:
    """Which annotations `Prefer: odata.include-annotations="…"` asks for."""
    wanted: list[str] = []
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip() == "odata.include-annotations":
            wanted += [v.strip() for v in value.strip().strip('"').split(",")]

    def allowed(annotation: str) -> bool:
        return any(
            w == "*" or w == annotation or (w.endswith(".*") and annotation.startswith(w[:-1]))
            for w in wanted
        )

    return allowed


def etag(row: Row) -> str:
    return f'W/"{row.get("versionnumber")}"'


class Formatter:
    def __init__(self, env: EnvironmentState, annotations: Callable[[str], bool]) -> None:
        self.env = env
        self.annotations = annotations
        # (child table, lookup column) -> parent id -> children: grouped once per answer, so expanding a
        # page of rows costs one pass over the child table, not one per row
        self._children: dict[tuple[str, str], dict[str, list[Row]]] = {}

    def record(self, table: Table, row: Row, options: QueryOptions) -> dict[str, Any]:
        out: dict[str, Any] = {"@odata.etag": etag(row)}
        for attribute in self._selected(table, options):
            if (table.logical_name, attribute.logical_name) in WRITE_ONLY:
                continue
            self._put(out, table, row, attribute)
        for expand in options.expand:
            out[expand.nav] = self._expanded(table, row, expand)
        return out

    def records(self, table: Table, rows: list[Row], options: QueryOptions) -> list[dict[str, Any]]:
        return [self.record(table, r, options) for r in rows]

    def _selected(self, table: Table, options: QueryOptions) -> list[Attribute]:
        if options.select is None:
            return list(table.attributes.values())
        chosen = [a for p in options.select if (a := table.attribute_by_property(p)) is not None]
        primary = table.attributes[table.primary_id]
        return chosen if primary in chosen else [*chosen, primary]

    def _put(self, out: dict[str, Any], table: Table, row: Row, attribute: Attribute) -> None:
        value = row.get(attribute.logical_name)
        prop = attribute.value_property
        if isinstance(value, Ref):
            out[prop] = value.id
            self._annotate(out, prop, FORMATTED, self._primary_name(value))
            self._annotate(out, prop, NAV_NAME, table.nav_for(attribute.logical_name, value.table))
            self._annotate(out, prop, LOOKUP_NAME, value.table)
            return
        out[prop] = value
        if value is not None:
            self._annotate(out, prop, FORMATTED, self._formatted(row, attribute, value))

    def _annotate(self, out: dict[str, Any], prop: str, annotation: str, value: Any) -> None:
        if value is not None and self.annotations(annotation):
            out[f"{prop}@{annotation}"] = value

    def _expanded(self, table: Table, row: Row, expand: Any) -> Any:
        if not expand.collection:
            link = table.many_to_one[expand.nav]
            ref = row.get(link.attribute)
            if not isinstance(ref, Ref) or ref.table != link.target:
                return None
            related = self.env.get(ref.table, ref.id)
            return self.record(expand.table, related, expand.options) if related else None
        collection = table.one_to_many[expand.nav]
        children = list(
            self._children_of(collection.table, collection.attribute).get(row[table.primary_id], [])
        )
        if expand.options.filter is not None:
            children = [r for r in children if expand.options.filter(row_getter(expand.table, r))]
        children.sort(key=lambda r: r.get("createdon") or "")
        return self.records(expand.table, children, expand.options)

    def _children_of(self, child_table: str, attribute: str) -> dict[str, list[Row]]:
        key = (child_table, attribute)
        if key not in self._children:
            grouped: dict[str, list[Row]] = {}
            for child in self.env.all_rows(child_table):
                parent = child.get(attribute)
                if isinstance(parent, Ref):
                    grouped.setdefault(parent.id, []).append(child)
            self._children[key] = grouped
        return self._children[key]

    def _primary_name(self, ref: Ref) -> str | None:
        table = self.env.tables.get(ref.table)
        related = self.env.get(ref.table, ref.id) if table else None
        return related.get(table.primary_name) if related and table else None

    def _formatted(self, row: Row, attribute: Attribute, value: Any) -> str | None:
        kind = attribute.type
        if kind in OPTION_TYPES:
            return attribute.options.get(value)
        if kind == BOOLEAN:
            return attribute.true_label if value else attribute.false_label
        if kind == MONEY:
            return f"{self._currency_symbol(row)}{value:,.2f}"
        if kind == DECIMAL:
            return f"{value:,.{attribute.precision}f}"
        if kind == INTEGER:
            return f"{value:,}"
        if kind == DATETIME:
            return format_datetime(value)
        return None

    def _currency_symbol(self, row: Row) -> str:
        ref = row.get("transactioncurrencyid")
        currency = self.env.get("transactioncurrency", ref.id) if isinstance(ref, Ref) else None
        return (currency or {}).get("currencysymbol") or "$"


def format_datetime(value: str) -> str:
    if len(value) == 10:
        day = dt.date.fromisoformat(value)
        return f"{day.month}/{day.day}/{day.year}"
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {half}"


def row_getter(table: Table, row: Row) -> Callable[[str], Any]:
    """Filter/orderby property access: `_x_value` gives the lookup's id."""

    def get(prop: str) -> Any:
        attribute = table.attribute_by_property(prop)
        value = row.get(attribute.logical_name) if attribute else None
        return value.id if isinstance(value, Ref) else value

    return get
