"""The connection page's sync settings form -> SyncSettings, with one message per wrong field.

Values arrive as the browser sends them (strings); booleans may also come as bool. A field that is absent
keeps its current value, so the page must send unchecked checkboxes explicitly ("false"): a hidden input
after the checkbox does that (the first value of a repeated name wins). Fields the form does not know
(a CSRF token) are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import FatalError
from shared.store.sync_settings import InvoiceStatus, Numbering, SyncSettings, TaxMode

_TRUE = frozenset({"true", "on", "1", "yes"})
_FALSE = frozenset({"false", "off", "0", "no", ""})
_STATUSES = {s.value.lower(): s for s in InvoiceStatus}
_NUMBERING = {n.value: n for n in Numbering}
_TAX_MODES = {
    "exclusive": TaxMode.EXCLUSIVE,
    "inclusive": TaxMode.INCLUSIVE,
    "notax": TaxMode.NO_TAX,
    "no tax": TaxMode.NO_TAX,
    "no_tax": TaxMode.NO_TAX,
}
# Xero's own limits: Account Code max 10; tax types and branding theme ids are short identifiers.
_TEXT_LIMITS = {"default_account_code": 10, "default_tax_type": 50, "branding_theme_id": 64}


class ValidationFailed(FatalError):
    """Some form values are wrong: `field_errors` maps each field to a message for the customer."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in field_errors.items()))
        self.field_errors = field_errors


def apply_form(current: SyncSettings, form: Mapping[str, Any]) -> SyncSettings:
    """`current` with the form's values; ValidationFailed naming every wrong field at once."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, parse in _PARSERS.items():
        if name not in form:
            continue
        try:
            changes[name] = parse(form[name])
        except ValueError as problem:
            errors[name] = str(problem)
    if errors:
        raise ValidationFailed(errors)
    if "time_zone" in changes:
        changes["time_zone_chosen"] = True
    return replace(current, **changes)


def _time_zone(value: Any) -> str:
    name = str(value).strip()
    # zoneinfo also accepts file paths like "../etc": only plain IANA names are allowed in.
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise ValueError("Choose a time zone such as Pacific/Auckland.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"'{name}' is not a time zone we know; choose one such as Pacific/Auckland."
        ) from None
    return name


def _choice(options: Mapping[str, Any], what: str) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        key = str(value).strip().lower()
        if key not in options:
            raise ValueError(f"Choose {what}.")
        return options[key]

    return parse


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("Choose yes or no.")


def _days(value: Any) -> int:
    try:
        days = int(str(value).strip())
    except ValueError:
        raise ValueError("Use a whole number of days from 0 to 365.") from None
    if not 0 <= days <= 365:
        raise ValueError("Use a whole number of days from 0 to 365.")
    return days


def _text(name: str) -> Callable[[Any], str]:
    limit = _TEXT_LIMITS[name]

    def parse(value: Any) -> str:
        text = str(value).strip()
        if len(text) > limit:
            raise ValueError(f"Use at most {limit} characters.")
        return text

    return parse


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "time_zone": _time_zone,
    "invoice_status": _choice(_STATUSES, "draft, submitted or authorised"),
    "numbering": _choice(_NUMBERING, "Xero's numbering or the Dynamics invoice number"),
    "tax_mode": _choice(_TAX_MODES, "tax exclusive, tax inclusive or no tax"),
    "create_missing_contacts": _boolean,
    "create_missing_items": _boolean,
    "require_send_flag": _boolean,
    "close_paid_invoices": _boolean,
    "default_account_code": _text("default_account_code"),
    "default_tax_type": _text("default_tax_type"),
    "branding_theme_id": _text("branding_theme_id"),
    "default_due_days": _days,
}
