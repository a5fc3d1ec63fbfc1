"""Xero's lists, each as the rows the connector's Dynamics table holds (keyed by dxc_xeroid).

TaxRates have no id in Xero: their TaxType is the key. Currencies are keyed by their code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.dataverse import schema

Row = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    name: str  # what the connection's counts call it
    table: str  # the Dynamics table's logical name
    resource: str  # Xero resource (GET /<resource>), also the list's key in the answer
    to_row: Callable[[dict[str, Any]], Row]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(sorted(self.to_row({})))


def _base(xero_id: Any, name: Any, code: Any, status: Any) -> Row:
    status_text = str(status or "ACTIVE").upper()
    return {
        schema.REFERENCE_ID_COLUMN: str(xero_id or ""),
        "dxc_name": str(name or "")[:200],
        "dxc_code": str(code or "")[:100],
        "dxc_status": status_text[:50],
        "dxc_isactive": status_text == "ACTIVE",
    }


def _tax_rate(rate: dict[str, Any]) -> Row:
    effective = rate.get("EffectiveRate", rate.get("DisplayTaxRate"))
    return {
        **_base(rate.get("TaxType"), rate.get("Name"), rate.get("TaxType"), rate.get("Status")),
        "dxc_rate": round(float(effective), 4) if effective is not None else None,
        "dxc_taxtype": str(rate.get("TaxType") or ""),
    }


def _account(account: dict[str, Any]) -> Row:
    return {
        **_base(account.get("AccountID"), account.get("Name"), account.get("Code"), account.get("Status")),
        "dxc_accounttype": str(account.get("Type") or ""),
        "dxc_taxtype": str(account.get("TaxType") or ""),
    }


def _branding_theme(theme: dict[str, Any]) -> Row:
    return _base(theme.get("BrandingThemeID"), theme.get("Name"), "", "ACTIVE")


def _tracking_category(category: dict[str, Any]) -> Row:
    options = [
        o.get("Name", "") for o in category.get("Options") or [] if o.get("Status", "ACTIVE") == "ACTIVE"
    ]
    return {
        **_base(category.get("TrackingCategoryID"), category.get("Name"), "", category.get("Status")),
        "dxc_options": "\n".join(sorted(str(o) for o in options))[:4000],
    }


def _currency(currency: dict[str, Any]) -> Row:
    return {
        **_base(currency.get("Code"), currency.get("Code"), currency.get("Code"), "ACTIVE"),
        "dxc_description": str(currency.get("Description") or "")[:200],
    }


KINDS: tuple[Kind, ...] = (
    Kind("taxrates", schema.TAX_RATE_TABLE, "TaxRates", _tax_rate),
    Kind("accounts", schema.ACCOUNT_CODE_TABLE, "Accounts", _account),
    Kind("brandingthemes", schema.BRANDING_THEME_TABLE, "BrandingThemes", _branding_theme),
    Kind("trackingcategories", schema.TRACKING_CATEGORY_TABLE, "TrackingCategories", _tracking_category),
    Kind("currencies", schema.CURRENCY_TABLE, "Currencies", _currency),
)
