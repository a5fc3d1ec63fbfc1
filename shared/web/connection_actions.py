"""The few things the connection pages need that the connection services do not offer: saving the plan
together with the sync defaults, queueing a reference refresh or retries, reading the synced Xero lists
back from Dynamics, billing details, and which connection an OAuth state belongs to.

Every function that takes an account id reaches the connection through get_for_account, so another
account's connection is a NotFoundError here too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.connections.connections import get_for_account, update_for_account
from shared.connections.sync_form import ValidationFailed, apply_form
from shared.errors import ConnectorError, FatalError
from shared.store.activity import ActivityLog
from shared.store.connections import ConnectionStore
from shared.store.models import Account, Connection
from shared.store.plans import plan_named
from shared.store.sync_settings import SyncSettings

Send = Callable[[str], object]
BILLING_LIMITS = {"name": 200, "address": 500, "tax_number": 50}


class NotActiveYet(FatalError):
    """Reference data syncs only once both sides are connected and installed (both lights green)."""


def save_defaults(
    store: ConnectionStore,
    account_id: str,
    connection_id: str,
    form: Mapping[str, str],
    lists: Callable[[Connection], XeroLists] | None = None,
) -> Connection:
    """The plan and the sync settings, validated together (ValidationFailed names every wrong field);
    with `lists`, the account, tax type and branding theme are checked against Xero's lists too."""
    current = get_for_account(store, account_id, connection_id)
    errors: dict[str, str] = {}
    plan = plan_named(form.get("plan", current.plan))
    if plan is None:
        errors["plan"] = "Choose a plan."
    try:
        apply_form(current.sync, form)
    except ValidationFailed as failed:
        errors.update(failed.field_errors)
    if lists is not None:
        checked = list_problems(form, current.sync, lists(current))
        errors.update({name: text for name, text in checked.items() if name not in errors})
    if errors or plan is None:
        raise ValidationFailed(errors)

    def save(connection: Connection) -> None:
        connection.plan = plan.name
        connection.sync = apply_form(connection.sync, form)

    return update_for_account(store, account_id, connection_id, save)


def save_plan(store: ConnectionStore, account_id: str, connection_id: str, name: str) -> Connection:
    chosen = plan_named(name)
    if chosen is None:
        raise ValidationFailed({"plan": "Choose a plan."})
    return update_for_account(store, account_id, connection_id, lambda c: setattr(c, "plan", chosen.name))


def queue_reference_refresh(store: ConnectionStore, account_id: str, connection_id: str, send: Send) -> None:
    from shared.connections.lights import lights
    from shared.reference.worker import refresh_message
    from shared.store.models import utc_now

    connection = get_for_account(store, account_id, connection_id)
    red = [light.action_label for light in lights(connection, utc_now()) if not light.green]
    if red:
        raise NotActiveYet("Xero's lists sync once both lights are green. First: " + "; ".join(red) + ".")
    send(refresh_message(connection.id))


def retry_failed(
    store: ConnectionStore,
    activity: ActivityLog,
    account_id: str,
    connection_id: str,
    send: Send,
    now: datetime,
) -> int:
    """One invoice event (ids only) per invoice that failed today; how many were queued."""
    from shared.sync.events import InvoiceEvent

    connection = get_for_account(store, account_id, connection_id)
    failed = {a.invoice_id for a in activity.day(connection.id) if a.outcome == "failed"}
    for invoice_id in sorted(failed):
        event = InvoiceEvent(connection.id, invoice_id, received_at=now.isoformat(), received_by="portal")
        send(event.to_json())
    return len(failed)


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class XeroLists:
    """Choices for the defaults form; None where the Dynamics table could not be read or is empty."""

    accounts: list[Option] | None = None
    tax_types: list[Option] | None = None
    branding_themes: list[Option] | None = None


_SALES_TYPES = ("REVENUE", "SALES", "OTHERINCOME")


def read_xero_lists(dataverse: Any) -> XeroLists:
    """The synced lists, read from the connection's Dynamics tables; empty or unreadable → None each
    (the page then shows a text field). Never raises a ConnectorError: the page must still render."""
    from shared.reference.refresh import entity_set_of
    from shared.reference.xero_lists import KINDS

    tables = {kind.name: kind.table for kind in KINDS}

    def rows(kind: str, columns: str) -> list[dict[str, Any]]:
        entity_set = entity_set_of(dataverse, tables[kind])
        return list(dataverse.get_all(f"{entity_set}?$select={columns}"))

    try:
        accounts = rows("accounts", "dxc_xeroid,dxc_code,dxc_name,dxc_accounttype,dxc_isactive")
        rates = rows("taxrates", "dxc_xeroid,dxc_name,dxc_rate,dxc_isactive")
        themes = rows("brandingthemes", "dxc_xeroid,dxc_name,dxc_isactive")
    except ConnectorError:
        return XeroLists()
    return _lists_of(accounts, rates, themes)


def live_xero_lists(xero: Any) -> XeroLists:
    """The same lists read from Xero itself (GET Accounts, TaxRates, BrandingThemes), for a connection
    whose lists are not in Dynamics yet; unreadable → None each. Never raises a ConnectorError."""
    from shared.reference.xero_lists import KINDS

    kinds = {kind.resource: kind for kind in KINDS}

    def rows(resource: str) -> list[dict[str, Any]]:
        answer = xero.get(resource) or {}
        return [kinds[resource].to_row(record) for record in answer.get(resource) or []]

    try:
        return _lists_of(rows("Accounts"), rows("TaxRates"), rows("BrandingThemes"))
    except ConnectorError:
        return XeroLists()


Rows = list[dict[str, Any]]


def _lists_of(accounts: Rows, rates: Rows, themes: Rows) -> XeroLists:
    """Rows in the Dynamics tables' layout (shared/reference/xero_lists.py) → the form's options."""

    def active(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [row for row in rows if row.get("dxc_isactive") is not False]

    accounts, rates, themes = active(accounts), active(rates), active(themes)
    sales = [a for a in accounts if a.get("dxc_code") and a.get("dxc_accounttype") in _SALES_TYPES]
    coded = sales or [a for a in accounts if a.get("dxc_code")]
    return XeroLists(
        accounts=_options((a["dxc_code"], f"{a['dxc_code']} — {a.get('dxc_name', '')}") for a in coded),
        tax_types=_options((r["dxc_xeroid"], _rate_label(r)) for r in rates if r.get("dxc_xeroid")),
        branding_themes=_options((t["dxc_xeroid"], str(t.get("dxc_name", ""))) for t in themes),
    )


def merged(first: XeroLists, then: XeroLists) -> XeroLists:
    return XeroLists(
        accounts=first.accounts if first.accounts is not None else then.accounts,
        tax_types=first.tax_types if first.tax_types is not None else then.tax_types,
        branding_themes=first.branding_themes if first.branding_themes is not None else then.branding_themes,
    )


def is_complete(lists: XeroLists) -> bool:
    return None not in (lists.accounts, lists.tax_types, lists.branding_themes)


# (form field, XeroLists attribute, the list in words, what a value is)
_CHECKED = (
    ("default_account_code", "accounts", "chart of accounts", "an active sales account"),
    ("default_tax_type", "tax_types", "tax rates", "an active tax rate"),
    ("branding_theme_id", "branding_themes", "branding themes", "a branding theme"),
)


def list_problems(form: Mapping[str, str], current: SyncSettings, lists: XeroLists) -> dict[str, str]:
    """The defaults that name something in Xero, checked against Xero's lists: an account code Xero does
    not have is refused here, not by Xero on the next invoice. A value that cannot be checked (Xero not
    connected, or not answering) is refused only when it changes: the stored one was accepted before."""
    errors: dict[str, str] = {}
    for name, attribute, words, what in _CHECKED:
        value = form.get(name, getattr(current, name)).strip()
        options = getattr(lists, attribute)
        if name == "default_account_code" and not value:
            errors[name] = "Choose the default sales account: Xero needs an account on every invoice line."
        elif not value:
            continue  # tax type and branding theme: empty means Xero's default
        elif options is None:
            if value != getattr(current, name):
                errors[name] = (
                    f"We could not read Xero's {words} to check “{value}”: connect to Xero first, "
                    "or try again in a minute."
                )
        elif value not in {option.value for option in options}:
            errors[name] = f"“{value}” is not {what} in Xero's {words}. Choose one from Xero's list."
    return errors


def _rate_label(rate: dict[str, Any]) -> str:
    percent = rate.get("dxc_rate")
    shown = f" ({float(percent):g}%)" if isinstance(percent, int | float) else ""
    return f"{rate.get('dxc_name', '')}{shown}"


def _options(pairs: Any) -> list[Option] | None:
    options = sorted(
        {str(v): Option(str(v), str(label)) for v, label in pairs}.values(), key=lambda o: o.label
    )
    return options or None


def billing_problems(form: Mapping[str, str]) -> dict[str, str]:
    errors = {}
    for name, limit in BILLING_LIMITS.items():
        value = form.get(name, "")
        if len(value.strip()) > limit:
            errors[name] = f"Use at most {limit} characters."
        elif any(ord(c) < 0x20 and c not in "\r\n" for c in value) or (name != "address" and "\n" in value):
            errors[name] = "Use letters, digits and punctuation only."
    return errors


AccountUpdate = Callable[[str, Callable[[Account], None]], Account]


def save_billing(update: AccountUpdate, account_id: str, form: Mapping[str, str]) -> Account:
    """Billing metadata on the account (ValidationFailed names wrong fields)."""
    errors = billing_problems(form)
    if errors:
        raise ValidationFailed(errors)

    def apply(account: Account) -> None:
        billing = account.billing
        billing.name = form.get("name", "").strip()
        billing.address = "\n".join(line.strip() for line in form.get("address", "").strip().splitlines())
        billing.tax_number = form.get("tax_number", "").strip()

    return update(account_id, apply)


def flow_connection_id(states_table: Any, state: str, account_id: str) -> str:
    """The connection an OAuth state (or pick token) was made for, read without using it up, so the
    page can lead back to that connection whatever the flow ends in; "" when unknown or not this
    account's. Reads the row layout of shared/store/oauth_state.py."""
    from azure.core.exceptions import ResourceNotFoundError

    from shared.store.oauth_state import ROW_KEY

    if not state or not state.replace("-", "").replace("_", "").isalnum() or len(state) > 200:
        return ""
    try:
        row = states_table.get_entity(state, ROW_KEY)
    except ResourceNotFoundError:
        return ""
    return str(row.get("connection_id", "")) if row.get("account_id") == account_id else ""
