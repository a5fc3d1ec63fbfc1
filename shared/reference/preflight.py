# ruff: noqa: E501 -- each finding is a sentence a customer reads; kept on one line so it can be found whole
"""Pre-flight check: what would make the next invoices fail or differ, found without writing anything.

Reads only (GETs): Xero's organisation, currencies, accounts, tax rates, branding themes and archived
contacts; Dynamics' currencies, products, customers' names, the user's privileges and this connection's
webhook with its steps. Each finding says what to do, where (a link). Findings are stored on the
connection (Connection.preflight) as metadata: codes, numbers and ids — a customer's name is compared,
never kept (the finding names the Xero contact by its id). Run by "Check connection", after "Start
syncing" and after each reference refresh; while findings stand the page shows an amber light."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from shared.dataverse import install_plan as plan
from shared.dataverse.install_webhook import odata_string
from shared.dataverse.privileges import check_privileges
from shared.errors import ConnectorError, RetriableError
from shared.store.models import Connection, Preflight
from shared.time_zones import iana_for_windows

ITEM_CODE_LIMIT = 30  # Xero's Item.Code: "max length = 30" (Xero OpenAPI xero_accounting.yaml, Item)
SALES_TYPES = ("REVENUE", "SALES", "OTHERINCOME")
SHOWN = 5  # codes, numbers or ids named in one finding; the rest are counted


@dataclass(frozen=True)
class Finding:
    key: str
    text: str  # what is wrong, and what it does to invoices
    fix: str  # what to do
    link: str  # where to do it ("#defaults" on the connection page, or Xero / Dynamics)
    link_text: str

    def encoded(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def decoded(cls, raw: str) -> Finding:
        return cls(**json.loads(raw))


class Reader(Protocol):
    def get(self, resource: str, params: dict[str, Any] | None = None) -> Any: ...

    def get_all(
        self, resource: str, key: str, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]: ...


def check(connection: Connection, xero: Reader, dataverse: Any, xero_web: str) -> list[Finding]:
    """Every finding, Xero's side first. A side that refuses to be read is a finding of its own (its
    light says why); the other side is still checked. RetriableError (busy, or Xero's minute spent):
    the check did not run, nothing is kept, the caller says so."""
    found: list[Finding] = []
    organisation: dict[str, Any] = {}
    try:
        organisation = (xero.get("Organisation").get("Organisations") or [{}])[0]
        found += _xero_findings(connection, xero, organisation)
    except RetriableError:
        raise
    except ConnectorError as error:
        found.append(
            Finding(
                "xero-unreadable",
                f"Xero could not be read: {error}.",
                "Fix the Xero light first.",
                "#xero",
                "Xero",
            )
        )
    link = _xero_link(xero_web, str(organisation.get("ShortCode") or ""))
    try:
        found += _dynamics_findings(connection, dataverse, xero, link)
    except RetriableError:
        raise
    except ConnectorError as error:
        found.append(
            Finding(
                "dynamics-unreadable",
                f"Dynamics could not be read: {error}.",
                "Fix the Dynamics light first.",
                "#dynamics",
                "Dynamics",
            )
        )
    zone = iana_for_windows(str(organisation.get("Timezone") or ""))
    if zone and zone != connection.sync.time_zone:
        found.append(
            Finding(
                "time-zones",
                f"Xero's organisation keeps time in {zone}; the connector dates invoices in "
                f"{connection.sync.time_zone}: an invoice saved near midnight gets a date a day off in Xero.",
                "Choose the organisation's time zone under Defaults (or correct Xero's, in Xero's settings).",
                "#defaults",
                "Defaults",
            )
        )
    return found


def _xero_findings(connection: Connection, xero: Reader, organisation: dict[str, Any]) -> list[Finding]:
    sync, found = connection.sync, []
    accounts = xero.get("Accounts").get("Accounts") or []
    account = next((a for a in accounts if str(a.get("Code") or "") == sync.default_account_code), None)
    if sync.default_account_code and account is None:
        found.append(
            _defaults(
                "account-missing",
                f"The default sales account {sync.default_account_code} is not in Xero: invoice lines without their own account fail.",
            )
        )
    elif account is not None and str(account.get("Status")) == "ARCHIVED":
        found.append(
            _defaults(
                "account-archived",
                f"The default sales account {sync.default_account_code} is archived in Xero: Xero refuses lines posted to it.",
            )
        )
    elif account is not None and str(account.get("Type")) not in SALES_TYPES:
        found.append(
            _defaults(
                "account-type",
                f"The default sales account {sync.default_account_code} is a {str(account.get('Type')).lower()} account in Xero, not a sales (revenue) account: sales would be posted to the wrong place.",
            )
        )
    if sync.default_tax_type:
        rates = xero.get("TaxRates").get("TaxRates") or []
        rate = next((r for r in rates if r.get("TaxType") == sync.default_tax_type), None)
        if rate is None or str(rate.get("Status")) != "ACTIVE":
            found.append(
                _defaults(
                    "tax-type",
                    f"The tax rate {sync.default_tax_type} is not an active tax rate in Xero: invoices using it fail.",
                )
            )
        elif rate.get("CanApplyToRevenue") is False:
            found.append(
                _defaults(
                    "tax-type",
                    f"The tax rate {sync.default_tax_type} cannot be used on sales in Xero: invoices using it fail.",
                )
            )
    if sync.branding_theme_id:
        themes = xero.get("BrandingThemes").get("BrandingThemes") or []
        if sync.branding_theme_id not in {str(t.get("BrandingThemeID")) for t in themes}:
            found.append(
                _defaults(
                    "branding-theme",
                    "The branding theme chosen under Defaults is no longer in Xero: invoices using it fail.",
                )
            )
    return found


def _defaults(key: str, text: str) -> Finding:
    return Finding(key, text, "Choose another one under Defaults.", "#defaults", "Defaults")


def _dynamics_findings(
    connection: Connection, dataverse: Any, xero: Reader, xero_link: Callable[[str], str]
) -> list[Finding]:
    found: list[Finding] = []
    # first: without them the reads below may be refused, and this says why
    missing_privileges = [p.name for p in check_privileges(dataverse)]
    if missing_privileges:
        found.append(Finding(
            "privileges", f"The Dynamics user lacks {_listed(missing_privileges)}: invoices cannot be read or written back.",
            "Ask your Dynamics administrator for them, then install again.", "#install", "Install into Dynamics",
        ))  # fmt: skip
    enabled = {str(c.get("Code")) for c in (xero.get("Currencies").get("Currencies") or [])}
    currencies = dataverse.get_all("transactioncurrencies?$select=isocurrencycode&$filter=statecode eq 0")
    missing = sorted({str(c.get("isocurrencycode")) for c in currencies} - enabled - {""})
    if missing and enabled:
        found.append(Finding(
            "currencies", f"Dynamics has {_listed(missing)}, which Xero's organisation has not enabled: invoices in {'it' if len(missing) == 1 else 'them'} fail.",
            "In Xero, add the currencies under Settings → Currencies (it needs a plan with multiple currencies), or stop using them in Dynamics.",
            xero_link("/"), "Open Xero",
        ))  # fmt: skip
    products = dataverse.get_all("products?$select=productid,productnumber&$filter=statecode eq 0")
    long = sorted(
        str(p["productnumber"]) for p in products if len(str(p.get("productnumber") or "")) > ITEM_CODE_LIMIT
    )
    if long:
        found.append(Finding(
            "item-codes", f"{len(long)} Dynamics product number{'s are' if len(long) > 1 else ' is'} longer than Xero's item codes allow ({ITEM_CODE_LIMIT} characters): {_listed(long)}. Their lines reach Xero without an item.",
            f"Shorten the product numbers in Dynamics to {ITEM_CODE_LIMIT} characters or fewer.",
            _dynamics_link(connection.dynamics.org_url, "product", str(next(p["productid"] for p in products if str(p.get("productnumber")) == long[0]))), "Open the first product in Dynamics",
        ))  # fmt: skip
    archived = xero.get_all(
        "Contacts", "Contacts", {"includeArchived": "true", "where": 'ContactStatus=="ARCHIVED"'}
    )
    by_name = {
        str(c.get("Name") or "").strip().lower(): str(c.get("ContactID"))
        for c in archived
        if c.get("ContactStatus") == "ARCHIVED"
    }
    names = {
        str(a.get("name") or "").strip().lower()
        for a in dataverse.get_all("accounts?$select=name&$filter=statecode eq 0")
    }
    names |= {
        str(c.get("fullname") or "").strip().lower()
        for c in dataverse.get_all("contacts?$select=fullname&$filter=statecode eq 0")
    }
    matched = sorted(by_name[name] for name in names if name and name in by_name)
    if matched:
        found.append(Finding(
            "archived-contacts", f"{len(matched)} Dynamics customer{'s have' if len(matched) > 1 else ' has'} the name of an archived Xero contact (Xero contact {_listed(matched)}): Xero refuses invoices to an archived contact.",
            "Restore the contact in Xero (or rename the customer in Dynamics).",
            xero_link(f"/Contacts/View/{matched[0]}"), "Open the first contact in Xero",
        ))  # fmt: skip
    found += _webhook_findings(connection, dataverse)
    return found


def _webhook_findings(connection: Connection, dataverse: Any) -> list[Finding]:
    if not connection.dynamics.webhook_registered:
        return []  # not installed yet: the Install step says so
    name = plan.endpoint_name(connection.id)
    endpoints = dataverse.get_all(
        f"serviceendpoints?$select=serviceendpointid&$filter=name eq {odata_string(name)}"
    )
    fix, link = "Install into Dynamics again: it registers the webhook and turns its steps on.", "#install"
    if not endpoints:
        return [
            Finding(
                "webhook-missing",
                "The connector's webhook is missing in Dynamics: saved invoices are not sent.",
                fix,
                link,
                "Install into Dynamics",
            )
        ]
    endpoint_id = str(endpoints[0]["serviceendpointid"])
    steps = dataverse.get_all(
        f"sdkmessageprocessingsteps?$select=statecode&$filter=_eventhandler_value eq {endpoint_id}"
    )
    if not steps or any(int(s.get("statecode") or 0) != 0 for s in steps):
        return [
            Finding(
                "webhook-disabled",
                "The connector's webhook is turned off in Dynamics (a step is disabled): saved invoices are not sent.",
                fix,
                link,
                "Install into Dynamics",
            )
        ]
    return []


def _listed(values: list[str]) -> str:
    shown = ", ".join(values[:SHOWN])
    return shown + (f" and {len(values) - SHOWN} more" if len(values) > SHOWN else "")


def _xero_link(web_url: str, short_code: str) -> Callable[[str], str]:
    """Xero's deep link (developer.xero.com "Deep link to Xero"): organisationlogin with the ShortCode opens
    the right organisation, then `redirecturl`."""

    def link(path: str) -> str:
        if not short_code:
            return f"{web_url}{path}"
        return f"{web_url}/organisationlogin/default.aspx?shortcode={quote(short_code, safe='')}&redirecturl={quote(path, safe='/')}"

    return link


def _dynamics_link(org_url: str, table: str, row_id: str) -> str:
    if not org_url.startswith("https://"):
        return ""
    return f"{org_url.rstrip('/')}/main.aspx?pagetype=entityrecord&etn={table}&id={row_id}"


def run_and_keep(
    store: Any, connection: Connection, xero: Reader, dataverse: Any, xero_web: str, now: datetime
) -> list[Finding]:
    """Check, then store the findings on the connection (one conditional write of metadata)."""
    findings = check(connection, xero, dataverse, xero_web)

    def keep(stored: Connection) -> None:
        stored.preflight = Preflight(now, [f.encoded() for f in findings])

    store.update(connection.id, keep)
    return findings


def standing(connection: Connection) -> list[Finding]:
    return [Finding.decoded(raw) for raw in connection.preflight.findings]
