"""Plain Python values out of the RemoteExecutionContext JSON that Dataverse webhooks send.

Dataverse serialises its SDK types with .NET's DataContractJsonSerializer: lookups, money and choices are
objects tagged with `__type`, dates are `/Date(ms±hhmm)/` strings. Anything we do not recognise is kept
as it came, so a field Microsoft adds tomorrow cannot break the webhook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The offset is informational in .NET's format: the milliseconds are always UTC since the epoch.
_MS_DATE = re.compile(r"/Date\((-?\d{1,15})(?:[+-]\d{4})?\)/")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class WebhookError(ValueError):
    """A webhook body we cannot use; `field` names the part that is wrong (e.g. `InputParameters[0]`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class EntityRef:
    """A Dataverse lookup (EntityReference): which row of which table."""

    id: str
    logical_name: str
    name: str | None = None


def is_guid(value: object) -> bool:
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


def parse_ms_date(text: str) -> datetime | None:
    """`/Date(1506384247000)/` or `/Date(1506409448000-0700)/` → aware UTC datetime; None if not one."""
    if len(text) > 40 or not text.startswith("/Date("):
        return None
    match = _MS_DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    except OverflowError:  # beyond year 1..9999: keep the text rather than reject the webhook
        return None


def plain_value(value: Any, path: str) -> Any:
    """One attribute value as plain Python: EntityRef, Decimal (money), int (choice), datetime, or as-is."""
    if isinstance(value, str):
        parsed = parse_ms_date(value)
        return value if parsed is None else parsed
    if not isinstance(value, dict):
        return value
    kind = value.get("__type")
    if not isinstance(kind, str):
        return _untagged_reference(value, path)
    if kind.startswith("EntityReference:"):
        return entity_ref(value, path)
    if kind.startswith("Money:"):
        return _money(value.get("Value"), f"{path}.Value")
    if kind.startswith("OptionSetValue:"):
        return _whole_number(value.get("Value"), f"{path}.Value")
    return value


def entity_ref(value: dict[str, Any], path: str) -> EntityRef:
    ref_id, logical_name, name = value.get("Id"), value.get("LogicalName"), value.get("Name")
    if not is_guid(ref_id):
        raise WebhookError(f"{path}.Id", "expected a GUID")
    if not isinstance(logical_name, str):
        raise WebhookError(f"{path}.LogicalName", "expected a string")
    if name is not None and not isinstance(name, str):
        raise WebhookError(f"{path}.Name", "expected a string or null")
    assert isinstance(ref_id, str)  # narrowed by is_guid, for mypy
    return EntityRef(id=ref_id.lower(), logical_name=logical_name, name=name)


def _untagged_reference(value: dict[str, Any], path: str) -> Any:
    # Some serialisers drop `__type`; an object with exactly the shape of a reference is still one.
    if "Id" in value and "LogicalName" in value and "Attributes" not in value:
        return entity_ref(value, path)
    return value


def _money(raw: Any, path: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise WebhookError(path, "expected a number")
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise WebhookError(path, "expected a number") from None
    if not amount.is_finite():
        raise WebhookError(path, "expected a finite number")
    return amount


def pairs(container: dict[str, Any], name: str, prefix: str = "") -> list[tuple[str, Any, str]]:
    """A `[{key, value}]` collection as (key, value, path-of-value); missing or null is empty."""
    path = f"{prefix}.{name}" if prefix else name
    items = container.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        raise WebhookError(path, "expected a list")
    found = []
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise WebhookError(item_path, "expected an object")
        key = item.get("key")
        if not isinstance(key, str):
            raise WebhookError(f"{item_path}.key", "expected a string")
        found.append((key, item.get("value"), f"{item_path}.value"))
    return found


def entity_attributes(entity: dict[str, Any], path: str) -> dict[str, Any]:
    """An Entity's `Attributes` as {logical name: plain value}."""
    return {key: plain_value(value, vpath) for key, value, vpath in pairs(entity, "Attributes", path)}


def _whole_number(raw: Any, path: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise WebhookError(path, "expected a whole number")
    return raw
