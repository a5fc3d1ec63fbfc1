"""GET list filters: IDs=, InvoiceNumbers=, ContactNumbers=, ContactIDs=, Statuses=, a simple `where`
(equality and inequality joined with AND), If-Modified-Since and page=N (100 a page)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from local.sandbox.xero.wire import parse_msdate

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# `==` compares text exactly, case included: Xero answers nothing for Code=="devd" when the item is
# "DevD", and its support suggests `.ToLower()` (calcinai/xero-php#416; freakboy3742/pyxero#71, #172:
# a Name== filter misses a name the create then calls taken). So `Field.ToLower()` is read too.
_CLAUSE = re.compile(
    r"^\s*([A-Za-z][\w.]*?)(\.ToLower\(\))?\s*(==|!=)\s*"
    r'(?:guid\(\s*"([^"]*)"\s*\)|"((?:[^"\\]|\\.)*)"|(\w[\w.-]*))\s*$'
)
# List parameters: query name -> field of the rendered record it matches.
LIST_FILTERS = {
    "IDs": "",
    "InvoiceNumbers": "InvoiceNumber",
    "ContactNumbers": "ContactNumber",
    "ContactIDs": "Contact.ContactID",
    "Statuses": "Status",
}


class QueryError(Exception):
    pass


def apply_filters(
    records: list[dict[str, Any]], args: MultiDict[str, str], id_field: str
) -> list[dict[str, Any]]:
    for param, field in LIST_FILTERS.items():
        if args.get(param):
            wanted = {v.strip().strip('"').lower() for v in args[param].split(",") if v.strip()}
            records = [r for r in records if str(_field(r, field or id_field)).lower() in wanted]
    if args.get("where"):
        for field, lower, op, value in parse_where(args["where"]):
            records = [r for r in records if (_text_of(r, field, lower) == value) == (op == "==")]
    return records


def _text_of(record: dict[str, Any], field: str, lower: bool) -> str:
    text = _as_text(_field(record, field))
    return text.lower() if lower else text


def parse_where(where: str) -> list[tuple[str, bool, str, str]]:
    clauses = []
    for part in re.split(r"\s+AND\s+|\s*&&\s*", where.strip(), flags=re.IGNORECASE):
        found = _CLAUSE.match(part)
        if not found:
            raise QueryError(f"Unsupported where clause: {part}")
        field, lower, op, guid, quoted, bare = found.groups()
        if quoted is not None:
            quoted = re.sub(r"\\(.)", r"\1", quoted)
        value = guid if guid is not None else quoted if quoted is not None else bare
        clauses.append((field, lower is not None, op, value))
    return clauses


def _field(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def modified_since(records: list[dict[str, Any]], header: str | None) -> list[dict[str, Any]]:
    if not header:
        return records
    since = parse_http_or_iso(header)
    if since is None:
        return records
    kept = []
    for record in records:
        stamp = parse_msdate(record.get("UpdatedDateUTC", "")) if record.get("UpdatedDateUTC") else None
        if stamp is None or stamp >= since:
            kept.append(record)
    return kept


def parse_http_or_iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def paginate(
    records: list[dict[str, Any]], args: MultiDict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    if not args.get("page"):
        return records, None
    try:
        page = max(1, int(args["page"]))
        size = min(MAX_PAGE_SIZE, max(1, int(args.get("pageSize") or PAGE_SIZE)))
    except ValueError:
        raise QueryError("page and pageSize must be whole numbers") from None
    start = (page - 1) * size
    info = {
        "page": page,
        "pageSize": size,
        "pageCount": math.ceil(len(records) / size),
        "itemCount": len(records),
    }
    return records[start : start + size], info
