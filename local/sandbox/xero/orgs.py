"""One Xero organisation's records. Stored records are dicts in Xero's field names; keys starting
with "_" are the sandbox's own bookkeeping and never leave it (see `public`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from local.sandbox.xero import seed_data
from local.sandbox.xero.seed_data import OrgProfile

# Collections the control API can list and patch, with the field that identifies one record.
COLLECTION_KEYS = {
    "Invoices": "InvoiceID",
    "Contacts": "ContactID",
    "Items": "ItemID",
    "TaxRates": "TaxType",
    "Accounts": "AccountID",
    "BrandingThemes": "BrandingThemeID",
    "TrackingCategories": "TrackingCategoryID",
    "Currencies": "Code",
    "Organisation": "OrganisationID",
}


@dataclass
class Org:
    tenant_id: str
    name: str
    created: datetime
    organisation: dict[str, Any]
    tax_rates: list[dict[str, Any]]
    accounts: list[dict[str, Any]]
    branding_themes: list[dict[str, Any]]
    tracking_categories: list[dict[str, Any]]
    currencies: list[dict[str, Any]]
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_invoice_number: int = 0

    @classmethod
    def from_profile(cls, profile: OrgProfile, now: datetime) -> Org:
        tenant_id = seed_data.stable_id("tenant", profile.name)
        rates = seed_data.tax_rates(profile)
        accounts = seed_data.accounts(profile, rates)
        for account in accounts:
            account["UpdatedDateUTC"] = now
        organisation = seed_data.organisation(profile, tenant_id)
        organisation["CreatedDateUTC"] = now
        themes = seed_data.branding_themes(profile)
        for theme in themes:
            theme["CreatedDateUTC"] = now
        return cls(
            tenant_id,
            profile.name,
            now,
            organisation,
            rates,
            accounts,
            themes,
            seed_data.tracking_categories(profile),
            seed_data.currencies(profile),
        )

    # --- look-ups the validation rules need -------------------------------------------------------
    def tax_rate(self, tax_type: str) -> dict[str, Any] | None:
        return next((r for r in self.tax_rates if r["TaxType"] == tax_type), None)

    def account(self, code: str) -> dict[str, Any] | None:
        return next((a for a in self.accounts if a["Code"].lower() == code.lower()), None)

    def account_by_id(self, account_id: str) -> dict[str, Any] | None:
        return next((a for a in self.accounts if a["AccountID"] == account_id), None)

    def currency_enabled(self, code: str) -> bool:
        return any(c["Code"] == code for c in self.currencies)

    def branding_theme(self, theme_id: str) -> dict[str, Any] | None:
        return next((t for t in self.branding_themes if t["BrandingThemeID"] == theme_id), None)

    def tracking_category(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.tracking_categories if t["Name"].lower() == name.lower()), None)

    def active_contact_named(self, name: str, other_than: str = "") -> dict[str, Any] | None:
        wanted = name.strip().lower()
        return next(
            (
                c
                for c in self.contacts.values()
                if c["ContactStatus"] == "ACTIVE"
                and c["Name"].strip().lower() == wanted
                and c["ContactID"] != other_than
            ),
            None,
        )

    def contact_numbered(self, number: str) -> dict[str, Any] | None:
        return next((c for c in self.contacts.values() if c.get("ContactNumber") == number), None)

    def item_coded(self, code: str) -> dict[str, Any] | None:
        wanted = code.lower()
        return next((i for i in self.items.values() if i["Code"].lower() == wanted), None)

    def invoice_numbered(self, number: str, other_than: str = "") -> dict[str, Any] | None:
        return next(
            (
                i
                for i in self.invoices.values()
                if i.get("InvoiceNumber") == number
                and i["Type"] == "ACCREC"
                and i["Status"] != "DELETED"
                and i["InvoiceID"] != other_than
            ),
            None,
        )

    def next_invoice_number(self) -> str:
        # Xero continues from the last number it assigned, skipping numbers the user already took.
        while True:
            self.last_invoice_number += 1
            candidate = f"INV-{self.last_invoice_number:04d}"
            if self.invoice_numbered(candidate) is None:
                return candidate

    # --- the control API's generic view -----------------------------------------------------------
    def collection(self, name: str) -> list[dict[str, Any]]:
        collections: dict[str, list[dict[str, Any]]] = {
            "Invoices": list(self.invoices.values()),
            "Contacts": list(self.contacts.values()),
            "Items": list(self.items.values()),
            "TaxRates": self.tax_rates,
            "Accounts": self.accounts,
            "BrandingThemes": self.branding_themes,
            "TrackingCategories": self.tracking_categories,
            "Currencies": self.currencies,
            "Organisation": [self.organisation],
        }
        if name not in collections:
            raise KeyError(name)
        return collections[name]

    def find(self, collection: str, record_id: str) -> dict[str, Any] | None:
        key = COLLECTION_KEYS[collection]
        return next(
            (
                r
                for r in self.collection(collection)
                if str(r.get(key)) == record_id or (collection == "Accounts" and r.get("Code") == record_id)
            ),
            None,
        )


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}
