"""Reference data of the seeded organisations: tax rates, chart of accounts, branding themes, tracking
categories and currencies, shaped as Xero returns them. IDs are derived from names (uuid5) so that
they are the same on every start, which keeps `make run` and logs readable."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

_NAMESPACE = uuid.UUID("6f1d8c3e-54a2-4c5b-9f8e-2a1b3c4d5e6f")

# Which account classes a tax rate may be used with: "out" rates are for income, "in" rates for costs.
_OUT = {"Assets": True, "Equity": True, "Expenses": False, "Liabilities": True, "Revenue": True}
_IN = {"Assets": True, "Equity": True, "Expenses": True, "Liabilities": True, "Revenue": False}
_ANY = {"Assets": True, "Equity": True, "Expenses": True, "Liabilities": True, "Revenue": True}

# (TaxType, Name, rate %, report tax type, applies-to)
_TAX_RATES: dict[str, list[tuple[str, str, float, str, dict[str, bool]]]] = {
    "NZ": [
        ("OUTPUT2", "15% GST on Income", 15.0, "OUTPUT", _OUT),
        ("INPUT2", "15% GST on Expenses", 15.0, "INPUT", _IN),
        ("ZERORATED", "Zero Rated", 0.0, "OUTPUT", _ANY),
        ("GSTONIMPORTS", "GST on Imports", 0.0, "GSTONIMPORTS", _IN),
        ("NONE", "No GST", 0.0, "NONE", _ANY),
    ],
    "AU": [
        ("OUTPUT", "GST on Income", 10.0, "OUTPUT", _OUT),
        ("INPUT", "GST on Expenses", 10.0, "INPUT", _IN),
        ("EXEMPTOUTPUT", "GST Free Income", 0.0, "EXEMPTOUTPUT", _OUT),
        ("EXEMPTEXPENSES", "GST Free Expenses", 0.0, "EXEMPTEXPENSES", _IN),
        ("EXEMPTEXPORT", "GST Free Exports", 0.0, "EXEMPTEXPORT", _OUT),
        ("CAPEXINPUT", "GST on Capital", 10.0, "CAPITALEXINPUT", _IN),
        ("INPUTTAXED", "Input Taxed", 0.0, "INPUTTAXED", _ANY),
        ("BASEXCLUDED", "BAS Excluded", 0.0, "BASEXCLUDED", _ANY),
    ],
    "UK": [
        ("OUTPUT2", "20% (VAT on Income)", 20.0, "OUTPUT", _OUT),
        ("INPUT2", "20% (VAT on Expenses)", 20.0, "INPUT", _IN),
        ("RROUTPUT", "5% (VAT on Income)", 5.0, "OUTPUT", _OUT),
        ("RRINPUT", "5% (VAT on Expenses)", 5.0, "INPUT", _IN),
        ("ZERORATEDOUTPUT", "Zero Rated Income", 0.0, "ZERORATEDOUTPUT", _OUT),
        ("ZERORATEDINPUT", "Zero Rated Expenses", 0.0, "ZERORATEDINPUT", _IN),
        ("EXEMPTOUTPUT", "Exempt Income", 0.0, "EXEMPTOUTPUT", _OUT),
        ("EXEMPTINPUT", "Exempt Expenses", 0.0, "EXEMPTINPUT", _IN),
        ("NONE", "No VAT", 0.0, "NONE", _ANY),
    ],
}

_CLASS_OF_TYPE = {
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "EQUITY": "EQUITY",
}
TAX_FLAG_OF_CLASS = {
    "REVENUE": "Revenue",
    "EXPENSE": "Expenses",
    "ASSET": "Assets",
    "LIABILITY": "Liabilities",
    "EQUITY": "Equity",
}

# (Code, Name, Type, tax side: "out" | "in" | "none", SystemAccount, Status)
_ACCOUNTS: list[tuple[str, str, str, str, str, str]] = [
    ("090", "Business Bank Account", "BANK", "none", "", "ACTIVE"),
    ("200", "Sales", "REVENUE", "out", "", "ACTIVE"),
    ("260", "Other Revenue", "REVENUE", "out", "", "ACTIVE"),
    ("270", "Interest Income", "REVENUE", "none", "", "ACTIVE"),
    ("299", "Old Sales (archived)", "REVENUE", "out", "", "ARCHIVED"),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "in", "", "ACTIVE"),
    ("400", "Advertising", "OVERHEADS", "in", "", "ACTIVE"),
    ("404", "Bank Fees", "OVERHEADS", "none", "", "ACTIVE"),
    ("408", "Cleaning", "OVERHEADS", "in", "", "ACTIVE"),
    ("412", "Consulting & Accounting", "EXPENSE", "in", "", "ACTIVE"),
    ("420", "Entertainment", "OVERHEADS", "none", "", "ACTIVE"),
    ("429", "General Expenses", "OVERHEADS", "in", "", "ACTIVE"),
    ("433", "Insurance", "OVERHEADS", "in", "", "ACTIVE"),
    ("445", "Light, Power, Heating", "OVERHEADS", "in", "", "ACTIVE"),
    ("461", "Printing & Stationery", "OVERHEADS", "in", "", "ACTIVE"),
    ("469", "Rent", "OVERHEADS", "in", "", "ACTIVE"),
    ("489", "Telephone & Internet", "OVERHEADS", "in", "", "ACTIVE"),
    ("493", "Travel - National", "OVERHEADS", "in", "", "ACTIVE"),
    ("610", "Accounts Receivable", "CURRENT", "none", "DEBTORS", "ACTIVE"),
    ("620", "Prepayments", "PREPAYMENT", "none", "", "ACTIVE"),
    ("710", "Office Equipment", "FIXED", "in", "", "ACTIVE"),
    ("800", "Accounts Payable", "CURRLIAB", "none", "CREDITORS", "ACTIVE"),
    ("820", "Sales Tax", "CURRLIAB", "none", "GST", "ACTIVE"),
    ("960", "Retained Earnings", "EQUITY", "none", "RETAINEDEARNINGS", "ACTIVE"),
]

_CURRENCY_NAMES = {
    "NZD": "New Zealand Dollar",
    "AUD": "Australian Dollar",
    "GBP": "British Pound",
    "USD": "United States Dollar",
    "EUR": "Euro",
}


@dataclass(frozen=True)
class OrgProfile:
    name: str
    version: str  # NZ | AU | UK
    country: str
    base_currency: str
    currencies: tuple[str, ...]
    timezone: str
    themes: tuple[str, ...]
    tracking: tuple[tuple[str, tuple[str, ...]], ...]
    extra_tax_rates: int = 0
    extra_accounts: int = 0


DEMO_PROFILES = (
    OrgProfile(
        "Demo Company (NZ)",
        "NZ",
        "NZ",
        "NZD",
        ("NZD", "AUD", "USD"),
        "NEWZEALANDSTANDARDTIME",
        ("Standard", "Special Projects"),
        (("Region", ("North", "South", "East", "West")),),
    ),
    OrgProfile(
        "Demo Company (AU)",
        "AU",
        "AU",
        "AUD",
        ("AUD", "NZD", "USD"),
        "AUSEASTERNSTANDARDTIME",
        ("Standard", "Special Projects"),
        (("Region", ("NSW", "VIC", "QLD")), ("Department", ("Sales", "Operations"))),
    ),
    OrgProfile(
        "Demo Company (UK)",
        "UK",
        "GB",
        "GBP",
        ("GBP", "EUR", "USD"),
        "GMTSTANDARDTIME",
        ("Standard", "Special Projects"),
        (("Department", ("Sales", "Marketing", "Operations")),),
    ),
)
REALISTIC_PROFILES = (
    OrgProfile(
        "Realistic Trading Ltd",
        "NZ",
        "NZ",
        "NZD",
        ("NZD", "AUD", "USD", "GBP", "EUR"),
        "NEWZEALANDSTANDARDTIME",
        (
            "Standard",
            "Special Projects",
            "Very Long Branding Theme Name For Export Customers",
            "Quotes",
            "Statements",
        ),
        (
            ("Region", ("North Island", "South Island", "Overseas")),
            ("Cost Centre", ("Wholesale", "Retail", "Online", "Service")),
        ),
        extra_tax_rates=35,
        extra_accounts=96,
    ),
)


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def tax_rates(profile: OrgProfile) -> list[dict[str, Any]]:
    rows = list(_TAX_RATES[profile.version])
    for n in range(1, profile.extra_tax_rates + 1):
        side = _OUT if n % 2 else _IN
        rows.append(
            (
                f"TAX{n:03d}",
                f"Custom rate {n} ({n % 20}.5%)",
                (n % 20) + 0.5,
                "OUTPUT" if side is _OUT else "INPUT",
                side,
            )
        )
    return [_tax_rate(*row) for row in rows]


def _tax_rate(tax_type: str, name: str, rate: float, report: str, applies: dict[str, bool]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "Name": name,
        "TaxType": tax_type,
        "ReportTaxType": report,
        "Status": "ACTIVE",
        "TaxComponents": [
            {
                "Name": name.split(" ")[0] if rate else "None",
                "Rate": rate,
                "IsCompound": False,
                "IsNonRecoverable": False,
            }
        ],
        "DisplayTaxRate": rate,
        "EffectiveRate": rate,
    }
    record.update({f"CanApplyTo{k}": v for k, v in applies.items()})
    return record


def accounts(profile: OrgProfile, rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out_tax = next(r["TaxType"] for r in rates if not r["CanApplyToExpenses"] and r["DisplayTaxRate"] > 0)
    in_tax = next(r["TaxType"] for r in rates if not r["CanApplyToRevenue"] and r["DisplayTaxRate"] > 0)
    none_tax = "NONE" if any(r["TaxType"] == "NONE" for r in rates) else "BASEXCLUDED"
    side_tax = {"out": out_tax, "in": in_tax, "none": none_tax}
    rows = list(_ACCOUNTS)
    kinds = [
        ("REVENUE", "out"),
        ("OVERHEADS", "in"),
        ("EXPENSE", "in"),
        ("CURRENT", "none"),
        ("DIRECTCOSTS", "in"),
        ("OTHERINCOME", "out"),
    ]
    for n in range(profile.extra_accounts):
        acc_type, side = kinds[n % len(kinds)]
        rows.append((f"{5000 + n}", f"{acc_type.title()} account {n + 1}", acc_type, side, "", "ACTIVE"))
    return [
        _account(profile, code, name, t, side_tax[side], system, status)
        for code, name, t, side, system, status in rows
    ]


def _account(
    profile: OrgProfile, code: str, name: str, acc_type: str, tax: str, system: str, status: str
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "AccountID": stable_id(profile.name, "account", code),
        "Code": code,
        "Name": name,
        "Type": acc_type,
        "TaxType": tax,
        "Status": status,
        "Class": _CLASS_OF_TYPE[acc_type],
        "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": acc_type in ("OVERHEADS", "EXPENSE"),
        "ReportingCode": "",
        "HasAttachments": False,
        "AddToWatchlist": False,
    }
    if system:
        record["SystemAccount"] = system
    if acc_type == "BANK":
        record.update(
            {
                "BankAccountNumber": "0209087654321050",
                "BankAccountType": "BANK",
                "CurrencyCode": profile.base_currency,
                "EnablePaymentsToAccount": True,
            }
        )
    return record


def branding_themes(profile: OrgProfile) -> list[dict[str, Any]]:
    return [
        {
            "BrandingThemeID": stable_id(profile.name, "theme", name),
            "Name": name,
            "Type": "INVOICE",
            "SortOrder": i,
            "LogoUrl": "",
        }
        for i, name in enumerate(profile.themes)
    ]


def tracking_categories(profile: OrgProfile) -> list[dict[str, Any]]:
    categories = []
    for name, options in profile.tracking:
        category_id = stable_id(profile.name, "tracking", name)
        categories.append(
            {
                "TrackingCategoryID": category_id,
                "Name": name,
                "Status": "ACTIVE",
                "Options": [
                    {
                        "TrackingOptionID": stable_id(profile.name, "tracking", name, option),
                        "Name": option,
                        "Status": "ACTIVE",
                        "TrackingCategoryID": category_id,
                    }
                    for option in options
                ],
            }
        )
    return categories


def currencies(profile: OrgProfile) -> list[dict[str, Any]]:
    return [{"Code": code, "Description": _CURRENCY_NAMES[code]} for code in profile.currencies]


def organisation(profile: OrgProfile, tenant_id: str) -> dict[str, Any]:
    return {
        "OrganisationID": tenant_id,
        "APIKey": tenant_id.replace("-", "")[:30].upper(),
        "Name": profile.name,
        "LegalName": profile.name,
        "PaysTax": True,
        "Version": profile.version,
        "OrganisationType": "COMPANY",
        "BaseCurrency": profile.base_currency,
        "CountryCode": profile.country,
        "IsDemoCompany": True,
        "OrganisationStatus": "ACTIVE",
        "Timezone": profile.timezone,
        "OrganisationEntityType": "COMPANY",
        "ShortCode": "!" + tenant_id[:5],
        "Class": "DEMO",
        "Edition": "BUSINESS",
        "LineOfBusiness": "Sandbox trading",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }
