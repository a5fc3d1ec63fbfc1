"""Small conversions the Dynamics → Xero mapping shares: numbers, text limits and calendar dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
FOUR_DP = Decimal("0.0001")


def decimal_or_none(value: Any) -> Decimal | None:
    """Dataverse money/decimal columns arrive as JSON numbers; go through str() so 0.1 stays 0.1."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def quantized(value: Decimal, places: Decimal = CENT) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def as_number(value: Decimal, places: Decimal = CENT) -> float:
    """A JSON-ready number: rounded first, so the float's shortest repr is the intended decimal."""
    return float(quantized(value, places))


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def clip(value: Any, limit: int) -> str:
    """Trimmed text cut to Xero's field limit (a plain cut: an ellipsis would eat into the limit)."""
    return text(value)[:limit].rstrip()


def xero_date(value: Any, time_zone: str) -> str | None:
    """A Dynamics date or date-time as the calendar date (YYYY-MM-DD) Xero should show.

    Xero dates are local calendar dates; Dataverse returns date-times in UTC. Three shapes arrive:
    - "2026-03-31": a DateOnly-behaviour column; the date is the date, no conversion.
    - "2026-03-30T11:00:00Z": a UserLocal column (invoice datedelivered and duedate by default): the
      user's local midnight stored in UTC; converting to the organisation's time zone recovers the date.
    - "2026-03-31T00:00:00Z": exactly midnight UTC is how a date-only value written without a time zone
      (an import, an integration, a TimeZoneIndependent column) looks; west of UTC the conversion would move
      it to the previous day, so it is taken as that date. A user's real local midnight is only midnight UTC
      when the user is on UTC, where both readings agree.
    """
    raw = text(value)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw).isoformat()
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.time() == time(0, 0):
        return moment.date().isoformat()
    return moment.astimezone(ZoneInfo(time_zone)).date().isoformat()
