"""A due date for an invoice Dynamics gives none, from Xero's sales payment terms.

Xero refuses a SUBMITTED or AUTHORISED invoice without one ("The document DueDate field must be
specified.": waynerobinson/xeroizer#290, #395 — only a DRAFT may lack it) and does not apply the payment
terms set in Xero when an API call leaves it out (XeroAPI/xero-python#78). Xero's own screens pick the
contact's terms over the organisation's (help.xero.com "Set up due dates (payment terms)"); the four
PaymentTermType values of the spec read as that page words them."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any


def due_date(issued: date, terms: dict[str, Any] | None, default_days: int) -> date:
    if not terms:
        return issued + timedelta(days=default_days)
    day, kind = int(terms.get("Day") or 0), str(terms.get("Type") or "").upper()
    if kind == "DAYSAFTERBILLDATE":  # "day(s) after the invoice date"
        return issued + timedelta(days=day)
    if kind == "DAYSAFTERBILLMONTH":  # "day(s) after the end of the invoice month"
        return _month_end(issued.year, issued.month) + timedelta(days=day)
    if kind == "OFCURRENTMONTH":  # "of the current month": never before the invoice itself
        return max(issued, _day_of(issued.year, issued.month, day))
    if kind == "OFFOLLOWINGMONTH":  # "of the following month"
        year, month = (issued.year + 1, 1) if issued.month == 12 else (issued.year, issued.month + 1)
        return _day_of(year, month, day)
    return issued + timedelta(days=default_days)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _day_of(year: int, month: int, day: int) -> date:
    return date(year, month, min(max(day, 1), calendar.monthrange(year, month)[1]))
