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

Send = Callable[[str], object]
BILLING_LIMITS = {"name": 200, "address": 500, "tax_number": 50}


class NotActiveYet(FatalError):
    """Reference data syncs only for a connection that was created ("active")."""


def save_defaults(
    store: ConnectionStore, account_id: str, connection_id: str, form: Mapping[str, str]
) -> Connection:
    """The plan and the sync settings, validated together (ValidationFailed names every wrong field)."""
    current = get_for_account(store, account_id, connection_id)
    errors: dict[str, str] = {}
    plan = plan_named(form.get("plan", current.plan))
    if plan is None:
        errors["plan"] = "Choose a plan."
    try:
        apply_form(current.sync, form)
    except ValidationFailed as failed:
        errors.update(failed.field_errors)
    if errors or plan is None:
        raise ValidationFailed(errors)

    def save(connection: Connection) -> None:
        connection.plan = plan.name
        connection.sync = apply_form(connection.sync, form)

    return update_for_account(store, account_id, connection_id, save)


def queue_reference_refresh(store: ConnectionStore, account_id: str, connection_id: str, send: Send) -> None:
    from shared.reference.worker import refresh_message

    connection = get_for_account(store, account_id, connection_id)
    if connection.status != "active":
        raise NotActiveYet("Create the connection first: Xero's lists sync once it is running.")
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
        found = dataverse.get_all(f"{entity_set}?$select={columns}")
        return [row for row in found if row.get("dxc_isactive") is not False]

    try:
        accounts = rows("accounts", "dxc_xeroid,dxc_code,dxc_name,dxc_accounttype,dxc_isactive")
        rates = rows("taxrates", "dxc_xeroid,dxc_name,dxc_rate,dxc_isactive")
        themes = rows("brandingthemes", "dxc_xeroid,dxc_name,dxc_isactive")
    except ConnectorError:
        return XeroLists()
    sales = [a for a in accounts if a.get("dxc_code") and a.get("dxc_accounttype") in _SALES_TYPES]
    coded = sales or [a for a in accounts if a.get("dxc_code")]
    return XeroLists(
        accounts=_options((a["dxc_code"], f"{a['dxc_code']} — {a.get('dxc_name', '')}") for a in coded),
        tax_types=_options((r["dxc_xeroid"], _rate_label(r)) for r in rates if r.get("dxc_xeroid")),
        branding_themes=_options((t["dxc_xeroid"], str(t.get("dxc_name", ""))) for t in themes),
    )


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
