"""A Web API JSON body → column values, checked the way Dataverse checks them: unknown properties,
types, lengths, ranges, choice values, and `@odata.bind` references to rows that exist."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from . import errors
from .metadata_model import (
    BIGINT,
    BOOLEAN,
    DATETIME,
    DECIMAL,
    ENTITYNAME,
    INTEGER,
    MEMO,
    MONEY,
    OPTION_TYPES,
    STRING,
    UNIQUEID,
    Attribute,
    Table,
)
from .odata_path import is_guid, parse_segment, split_path
from .records import find_by_key
from .store import EnvironmentState, Ref, Row

API_MARK = re.compile(r"/api/data/v9\.[0-9]/")  # 9.2 online, 9.0/9.1 on-premises


@dataclass
class Payload:
    values: Row
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # deep insert, by navigation


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.bad_payload(f"Invalid JSON. {exc.msg if hasattr(exc, 'msg') else exc}") from None
    if not isinstance(body, dict):
        raise errors.bad_payload(
            "A node of type 'StartArray' was read from the JSON reader when trying to read "
            "the start of an entry. A 'StartObject' node was expected."
        )
    return body


def read_payload(
    env: EnvironmentState, table: Table, body: dict[str, Any], content_ids: dict[str, str]
) -> Payload:
    payload = Payload({})
    for key, value in body.items():
        if key.endswith("@odata.bind"):
            _bind(env, table, key[: -len("@odata.bind")], value, payload, content_ids)
        elif "@" in key:
            continue  # annotations (@odata.type, @odata.etag, x@OData.Community…) carry no data on write
        elif key in table.one_to_many and isinstance(value, list):
            payload.children[key] = [v for v in value if isinstance(v, dict)]
        elif key in table.many_to_one:
            raise errors.bad_payload(
                "A 'PrimitiveValue' node with non-null value was found when trying to read the value of a "
                "navigation property; however, a 'StartArray' node, a 'StartObject' node, "
                "or a 'PrimitiveValue' "
                "node with null value was expected."
            )
        else:
            attribute = table.attribute_by_property(key)
            if attribute is None:
                raise errors.invalid_property(key, table.logical_name)
            payload.values[attribute.logical_name] = convert(table, attribute, value)
    return payload


def _bind(
    env: EnvironmentState, table: Table, nav: str, value: Any, payload: Payload, content_ids: dict[str, str]
) -> None:
    link = table.many_to_one.get(nav)
    if link is None:
        raise errors.bad_payload(
            f"An undeclared property '{nav}' which only has property annotations in the payload but "
            "no property value was found in the payload. In OData, only declared navigation properties "
            "and declared named "
            "streams can be represented as properties without values."
        )
    if value is None:
        payload.values[link.attribute] = None
        return
    if not isinstance(value, str):
        raise errors.bad_payload(f"The value of '{nav}@odata.bind' must be a URL string.")
    ref = resolve_reference(env, value, content_ids)
    if ref.table != link.target:
        raise errors.bad_payload(
            f"The navigation property '{nav}' expects an entity of type '{link.target}', not '{ref.table}'."
        )
    payload.values[link.attribute] = ref


def resolve_reference(env: EnvironmentState, url: str, content_ids: dict[str, str]) -> Ref:
    """`/accounts(<id>)`, `accounts(<id>)`, a full URL, `$1` (a change set's Content-ID), or an
    alternate key."""
    if url.startswith("$") and url[1:] in content_ids:
        url = content_ids[url[1:]]
    path = urlparse(url).path if "://" in url else url
    marked = API_MARK.split(path, 1)
    path = marked[1] if len(marked) == 2 else path
    parts = split_path(path)
    segment = parse_segment(parts[-1]) if parts else None
    target = env.table_for_set(segment.name) if segment else None
    if segment is None or target is None or segment.key is None:
        raise errors.bad_payload(f"The URI '{url}' is not valid for the navigation property.")
    if isinstance(segment.key, str):
        row = env.get(target.logical_name, segment.key)
        missing_id = segment.key
    else:
        row = find_by_key(env, target, segment.key)
        missing_id = str(segment.key)
    if row is None:
        raise errors.record_missing(target.logical_name, missing_id)
    return Ref(row[target.primary_id], target.logical_name)


def convert(table: Table, attribute: Attribute, value: Any) -> Any:
    if value is None:
        return None
    kind = attribute.type
    if kind in (STRING, MEMO, ENTITYNAME):
        return _string(table, attribute, value)
    if kind in (INTEGER, BIGINT) or kind in OPTION_TYPES:
        number = _integer(attribute, value)
        if kind in OPTION_TYPES:
            _check_option(table, attribute, number)
        else:
            _check_range(table, attribute, number)
        return number
    if kind in (DECIMAL, MONEY):
        return _decimal(table, attribute, value)
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise _cannot_convert(value, "Edm.Boolean")
        return value
    if kind == DATETIME:
        return parse_datetime(value, attribute.date_only)
    if kind == UNIQUEID:
        if not isinstance(value, str) or not is_guid(value):
            raise _cannot_convert(value, "Edm.Guid")
        return value.strip("{}").lower()
    raise errors.invalid_property(attribute.logical_name, table.logical_name)


def _string(table: Table, attribute: Attribute, value: Any) -> str:
    if not isinstance(value, str):
        raise _cannot_convert(value, "Edm.String")
    if attribute.max_length is not None and len(value) > attribute.max_length:
        raise errors.validation(
            f"A validation error occurred. The length of the '{attribute.logical_name}' attribute of the "
            f"'{table.logical_name}' entity exceeded the maximum allowed length of '{attribute.max_length}'."
        )
    return value


def _integer(attribute: Attribute, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _cannot_convert(value, "Edm.Int32")
    try:
        return int(value)
    except ValueError:
        raise _cannot_convert(value, "Edm.Int32") from None


def _decimal(table: Table, attribute: Attribute, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _cannot_convert(value, "Edm.Decimal")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _cannot_convert(value, "Edm.Decimal") from None
    _check_range(table, attribute, number)
    return float(round(number, attribute.precision))


def _check_range(table: Table, attribute: Attribute, number: int | Decimal) -> None:
    low, high = attribute.min_value, attribute.max_value
    if (low is not None and number < Decimal(str(low))) or (high is not None and number > Decimal(str(high))):
        raise errors.validation(
            f"A validation error occurred. The value {number} of '{attribute.logical_name}' "
            "on record of type "
            f"'{table.logical_name}' is outside the valid range. Accepted range: {low} to {high}",
            code="0x80044330",
        )


def _check_option(table: Table, attribute: Attribute, number: int) -> None:
    if number not in attribute.options:
        accepted = ",".join(str(v) for v in attribute.options)
        raise errors.validation(
            f"A validation error occurred. The value {number} of '{attribute.logical_name}' "
            "on record of type "
            f"'{table.logical_name}' is outside the valid range. Accepted Values: {accepted}",
            code="0x8004431a",
        )


def parse_datetime(value: Any, date_only: bool) -> str:
    """Learn, "Behavior and format of the date and time column": a DateOnly-behaviour column is an
    Edm.Date ("YYYY-MM-DD", no time, no conversion); the others are Edm.DateTimeOffset, stored in UTC.
    A time sent to an Edm.Date property is refused as OData refuses any literal of the wrong type."""
    if date_only:
        try:
            if isinstance(value, str) and len(value) == 10:
                return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
        raise _cannot_convert(value, "Edm.Date")
    if not isinstance(value, str):
        raise _cannot_convert(value, "Edm.DateTimeOffset")
    try:
        if len(value) == 10:
            moment = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        else:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    except ValueError:
        raise _cannot_convert(value, "Edm.DateTimeOffset") from None
    return moment.strftime("%Y-%m-%d") if date_only else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cannot_convert(value: Any, edm: str) -> errors.DataverseError:
    return errors.bad_payload(f"Cannot convert the literal '{value}' to the expected type '{edm}'.")
