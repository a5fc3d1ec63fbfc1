"""How Xero writes things on the wire: /Date(ms+0000)/ dates, JSON envelopes and its error bodies."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from werkzeug.wrappers import Response

PROVIDER_NAME = "Xero Sandbox"
_MSDATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def msdate(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def msdate_of_day(day: date) -> str:
    return msdate(datetime(day.year, day.month, day.day, tzinfo=UTC))


def iso_day(day: date) -> str:
    """The `DateString` companions of msdate fields: local date-time without an offset."""
    return f"{day.isoformat()}T00:00:00"


def parse_day(value: Any) -> date | None:
    """Xero accepts YYYY-MM-DD, an ISO date-time or /Date(ms)/ in requests; None when unreadable."""
    if not isinstance(value, str):
        return None
    found = _MSDATE.match(value.strip())
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC).date()
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_msdate(value: str) -> datetime | None:
    found = _MSDATE.match(value)
    return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC) if found else None


def money(value: Decimal | float | int, places: int = 2) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, default=_default)
    return Response(text, status=status, headers=headers, content_type="application/json; charset=utf-8")


def envelope(collection: str, records: list[dict[str, Any]], now: datetime, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": msdate(now),
    }
    body.update(extra)
    body[collection] = records
    return body


def validation_exception(elements: list[dict[str, Any]] | None = None, message: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": message or "A validation exception occurred",
    }
    if elements is not None:
        body["Elements"] = elements
    return body


def post_data_invalid(detail: str) -> Response:
    """What Xero answers when the body is not JSON or a value cannot be converted to the field's type."""
    return json_response(
        {
            "ErrorNumber": 14,
            "Type": "PostDataInvalidException",
            "Message": f"JSON for post data was invalid,{detail}",
        },
        400,
    )


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    """The identity/gateway error shape (401 Unauthorized, 403 Forbidden, 404, 405, 429)."""
    body: dict[str, Any] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return json_response(body, status, headers)


def oauth_error(error: str, status: int = 400, description: str | None = None) -> Response:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return json_response(body, status)


def render(value: Any) -> Any:
    """A stored record as Xero sends it: datetimes as /Date(ms+0000)/, dates also with an ISO `...String`
    companion, Decimals as numbers, sandbox bookkeeping ("_" keys) left out."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key.startswith("_"):
                continue
            if isinstance(item, date) and not isinstance(item, datetime):
                out[key] = msdate_of_day(item)
                out[f"{key}String"] = iso_day(item)
            else:
                out[key] = render(item)
        return out
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, datetime):
        return msdate(value)
    if isinstance(value, Decimal):
        return float(value)
    return value
