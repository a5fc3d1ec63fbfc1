"""Which granular scopes let a call through (Xero FAQ "granular scopes"; the legacy broad scopes too)."""

from __future__ import annotations

_SETTINGS = {"accounting.settings"}
_WRITE_SCOPES: dict[str, set[str]] = {
    "Invoices": {"accounting.invoices", "accounting.transactions"},
    "Items": {"accounting.invoices", "accounting.settings", "accounting.transactions"},
    "Contacts": {"accounting.contacts"},
}
for _resource in (
    "TaxRates",
    "Accounts",
    "BrandingThemes",
    "TrackingCategories",
    "Currencies",
    "Organisation",
):
    _WRITE_SCOPES[_resource] = _SETTINGS


def scope_allows(granted: list[str], resource: str, method: str) -> bool:
    needed = set(_WRITE_SCOPES[resource])
    if method == "GET":
        needed |= {f"{scope}.read" for scope in needed}
    return bool(needed & set(granted))
