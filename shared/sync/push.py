"""Push one Dynamics invoice to Xero: read it in one GET, create the contact and items it needs, create
or update the Xero invoice, and write the result back where the Dynamics user sees it.

Exactly-once effect under at-least-once delivery: every Xero write carries an Idempotency-Key made of
(connection, invoice, version, step); an invoice already in Xero is found by the id written back on it,
or — after a lost answer — by its number; and an invoice whose mapped content has not changed since
the last push (digest) costs no Xero call at all."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from shared.dataverse import schema
from shared.dataverse.invoice_query import invoice_query, line_query
from shared.errors import FatalError, NotFoundError, ReconnectRequired, RetriableError
from shared.store.activity import NO_LATENCY, ActivityLog
from shared.store.activity import Outcome as ActivityOutcome
from shared.store.models import Connection
from shared.store.sync_settings import Numbering
from shared.sync.coalesce import HandedOver, InvoiceGate
from shared.sync.contacts import resolve_contact
from shared.sync.due_date import due_date
from shared.sync.eligibility import STATE_CANCELLED, ineligible_reason
from shared.sync.events import InvoiceEvent
from shared.sync.idempotency import idempotency_key, payload_digest
from shared.sync.item_catalog import ItemCatalog
from shared.sync.mapping_contact import map_contact
from shared.sync.mapping_invoice import map_invoice
from shared.sync.mapping_items import wanted_items
from shared.sync.mapping_status import can_update, cancel_action
from shared.sync.organisation import BOOK, OrganisationBook
from shared.sync.reconcile import totals_warning
from shared.sync.write_back import SKIPPED, Dataverse, problem_values, success_values, write_back
from shared.sync.xero_errors import explain
from shared.xero.accounting import XeroAccounting, XeroValidationError
from shared.xero.pacing import RateGate

log = logging.getLogger(__name__)
Outcome = Literal["pushed", "unchanged", "skipped", "failed", "covered", "handed-over"]
_DUPLICATE_NUMBER = "must be unique"
_LOCKED = "not of valid status for modification"
_RANK = {"DRAFT": 0, "SUBMITTED": 1, "AUTHORISED": 2}


class ForeignInvoice(FatalError):
    """Xero holds an invoice with this number that the connector did not write for this Dynamics invoice."""


class LeftAlone(FatalError):
    """Xero holds the invoice in a state the connector must not change (paid, voided, deleted)."""

    def __init__(self, reason: str, status: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class PushResult:
    outcome: Outcome
    invoice_id: str
    invoice_number: str = ""
    message: str = ""
    xero_invoice_id: str = ""
    created: bool = False  # a new invoice in Xero (what a plan's monthly allowance counts)
    short_code: str = ""  # the Xero organisation's (the Activity page's deep link)
    xero_at: datetime | None = None  # when Xero answered the write (the end of the save-to-Xero latency)


@dataclass
class Push:
    """One invoice's push with its collaborators; `run()` does it."""

    event: InvoiceEvent
    connection: Connection
    dataverse: Dataverse
    xero: XeroAccounting
    catalog: ItemCatalog
    activity: ActivityLog
    now: Callable[[], datetime]
    gate: InvoiceGate
    pacing: RateGate | None = None  # the worker's Xero pacing: checked before Dynamics is read
    organisations: OrganisationBook = BOOK  # ShortCode and payment terms, read once per worker

    def run(self) -> PushResult:
        invoice_id = self.invoice_id()
        received_at, received_by = self.event.received_time, self.event.received_by
        try:
            with self.gate.serial(self.connection.id, invoice_id, received_at, received_by) as turn:
                if self.gate.covered(self.connection.id, invoice_id, received_at, received_by):
                    return PushResult("covered", invoice_id)
                while True:  # again while events handed over by this invoice's other messages are unseen
                    with self._budget(invoice_id):  # waiting for Xero's minute costs no Dataverse call
                        read_at = self.now()
                        result = self._run(self.dataverse.get(invoice_query(invoice_id)))
                    self.gate.pushed(self.connection.id, invoice_id, read_at)
                    if not turn.read_again(read_at):
                        return result
        except HandedOver:
            return PushResult("handed-over", invoice_id)

    def _budget(self, invoice_id: str) -> AbstractContextManager[None]:
        if self.pacing is None:
            return nullcontext()
        # the first call is reserved in the class of the Xero client's calls (a backfill's push is BULK)
        key = f"{self.connection.id}/{invoice_id}"
        return self.pacing.reserved(self.connection.xero.tenant_id, key, self.xero.priority)

    def _run(self, doc: dict[str, Any]) -> PushResult:
        number = str(doc.get("invoicenumber") or doc.get("name") or "")
        try:
            result = self._push(doc, number)
        except ReconnectRequired as error:
            if error.side == "xero":  # Dynamics still answers: tell the user on the invoice
                write_back(self.dataverse, doc, problem_values(doc, _reconnect_message(error), self.now()))
            result = PushResult("failed", str(doc["invoiceid"]), number, _reconnect_message(error))
        except LeftAlone as error:
            message = f"left alone: {error}"
            write_back(self.dataverse, doc, problem_values(doc, message, self.now(), error.status))
            result = PushResult("skipped", str(doc["invoiceid"]), number, message)
        except XeroValidationError as error:
            message = explain(error.messages)
            write_back(self.dataverse, doc, problem_values(doc, message, self.now()))
            result = PushResult("failed", str(doc["invoiceid"]), number, message)
        except FatalError as error:
            write_back(self.dataverse, doc, problem_values(doc, str(error), self.now()))
            result = PushResult("failed", str(doc["invoiceid"]), number, str(error))
        self._record(result, number)
        return result

    def _record(self, result: PushResult, number: str) -> None:
        """The outcome on the activity's row: the push's one table write of its own. A push that
        reached Xero carries the time from the save in Dynamics (the webhook's arrival) to Xero's answer."""
        outcome: ActivityOutcome = result.outcome
        if outcome == "pushed" and not result.created:
            outcome = "updated"
        received = self.event.received_time
        latency = NO_LATENCY
        if result.xero_at is not None and received is not None:
            latency = max(0, round((result.xero_at - received).total_seconds() * 1000))
        self.activity.record(
            self.connection.id, result.invoice_id, number, outcome, result.message,
            latency_ms=latency, xero_invoice_id=result.xero_invoice_id, short_code=result.short_code,
            xero_left=(usage.minute_left, usage.day_left) if (usage := self.xero.usage) else (-1, -1),
        )  # fmt: skip

    # -- reading ---------------------------------------------------------------------------------------
    def invoice_id(self) -> str:
        """The event's invoice; a line-only event (size-exceeded webhook) costs one GET to find it."""
        if self.event.invoice_id:
            return self.event.invoice_id
        try:
            line = self.dataverse.get(line_query(str(self.event.line_id)))
        except NotFoundError:
            # A deleted line's event names its invoice only through the pre-image the install registers
            # (a Delete's Target is a bare reference): without it, nothing says which Xero invoice to fix.
            raise FatalError(
                f"invoice line {self.event.line_id} was deleted, and Dynamics did not say which invoice it "
                "was on — fix: open the connector and choose Install into Dynamics again (it registers what "
                "Dynamics must send), then save that invoice once"
            ) from None
        invoice_id = str(line.get("_invoiceid_value") or "")
        if not invoice_id:
            raise FatalError(f"invoice line {self.event.line_id} belongs to no invoice")
        return invoice_id

    def read(self) -> dict[str, Any]:
        """The invoice with its lines, products, currency and customer: ONE Dataverse GET."""
        return self.dataverse.get(invoice_query(self.invoice_id()))

    # -- the push --------------------------------------------------------------------------------------
    def _push(self, doc: dict[str, Any], number: str) -> PushResult:
        invoice_id, settings = str(doc["invoiceid"]), self.connection.sync
        reason = ineligible_reason(doc, settings)
        if reason:
            status = None if doc.get(schema.INVOICE_XERO_ID) else SKIPPED
            write_back(self.dataverse, doc, problem_values(doc, reason, self.now(), status))
            return PushResult("skipped", invoice_id, number, reason)
        if doc.get("statecode") == STATE_CANCELLED:
            return self._cancel(doc, number)
        stored_status = str(doc.get(schema.INVOICE_XERO_STATUS) or "")
        if doc.get(schema.INVOICE_XERO_ID):
            # what Xero last told us (shared/xero_inbound): a part-paid invoice is left alone without a call
            allowed, why = can_update(stored_status, doc.get(schema.INVOICE_XERO_AMOUNT_PAID))
            if not allowed:
                raise LeftAlone(why, stored_status)
        plan = map_contact(doc)
        contact = resolve_contact(plan, settings, self.xero, self.connection.id)
        known = self._items(doc)
        existing = _existing(doc)
        payload = map_invoice(
            doc, settings, {"ContactID": contact.contact_id}, existing, known_item_codes=known
        )
        payload = self._completed(doc, payload, contact.contact_id, existing)
        digest = invoice_digest(payload)
        if (
            existing
            and doc.get(schema.INVOICE_SYNC_DIGEST) == digest
            and not doc.get(schema.INVOICE_SYNC_ERROR)
        ):
            return PushResult("unchanged", invoice_id, number, xero_invoice_id=str(existing["InvoiceID"]))
        invoice = self._write_invoice(doc, payload, existing)
        xero_at = self.now()
        # written back on the invoice (cleared once the totals agree) and counted in the portal's activity
        warning = totals_warning(doc, invoice)
        short_code = self._short_code()
        values = success_values(invoice, digest, self.now(), self.xero.web_url, short_code, warning=warning)
        write_back(self.dataverse, doc, values, (plan, contact))
        said = totals_warning(doc, invoice, amounts=False)  # the activity and the logs keep no amounts
        if said:
            log.warning("invoice %s: %s", invoice_id, said)
        xero_id = str(invoice.get("InvoiceID", ""))
        return PushResult("pushed", invoice_id, number, said, xero_id, existing is None, short_code, xero_at)

    def _completed(
        self, doc: dict[str, Any], payload: dict[str, Any], contact_id: str, existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The link back to this Dynamics invoice (Xero shows it as "Go to …"; it is also how a Xero
        invoice is known to be ours), and a due date where Xero requires one and Dynamics has none."""
        payload = dict(payload)
        link = source_link(self.connection.dynamics.org_url, str(doc["invoiceid"]))
        if link:
            payload["Url"] = link
        status = str(payload.get("Status") or "")
        raising = existing is None or _RANK.get(str(existing.get("Status")).upper(), 0) < 1
        if not payload.get("DueDate") and _RANK.get(status, 0) >= 1 and raising:
            issued = date.fromisoformat(payload["Date"]) if payload.get("Date") else self.now().date()
            tenant = self.connection.xero.tenant_id
            terms = self.organisations.sales_terms(self.xero, tenant, contact_id)
            days = self.connection.sync.default_due_days
            payload["DueDate"] = due_date(issued, terms, days).isoformat()
        return payload

    def _short_code(self) -> str:
        """The organisation's ShortCode: a deep link without it opens whichever organisation the user
        last used (FACTS.md, "deep link to an invoice in the right organisation")."""
        try:
            organisation = self.organisations.organisation(self.xero, self.connection.xero.tenant_id)
        except (RetriableError, FatalError):
            # The invoice is already in Xero: a link that opens the last-used organisation beats a retry.
            log.warning("Xero's organisation could not be read: the invoice link goes without its ShortCode")
            return ""
        return str(organisation.get("ShortCode") or "")

    def _items(self, doc: dict[str, Any]) -> frozenset[str]:
        wanted = wanted_items(doc, self.connection.sync)
        writes_key = idempotency_key(self.connection.id, _digest(wanted)[:36], 1, "items")
        outcome = self.catalog.ensure(
            self.connection.xero.tenant_id,
            self.xero,
            wanted,
            self.connection.sync.create_missing_items,
            writes_key,
        )
        for problem in outcome.problems:
            log.warning("invoice %s: %s (its lines go without an item code)", doc.get("invoiceid"), problem)
        return outcome.known_codes

    def _write_invoice(
        self, doc: dict[str, Any], payload: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        invoice_id, version = str(doc["invoiceid"]), doc.get("versionnumber") or self.event.version or 0
        # The key names the version AND what is sent: a corrected retry of the same version is new to Xero.
        key = idempotency_key(
            self.connection.id, invoice_id, f"{version}.{payload_digest(payload)}", "invoice"
        )
        if existing is None and self.connection.sync.numbering == Numbering.XERO:
            # Xero numbers it: nothing makes a second create fail, so look for an earlier one first.
            found = self._find("Invoices", {"where": f'Reference=="{_quoted(payload.get("Reference", ""))}"'})
            if found and ours(found, invoice_id):
                existing, payload = found, {**payload, "InvoiceID": found["InvoiceID"]}
        if existing and str(payload.get("Status")) == str(existing.get("Status") or "").upper():
            # Not raising the status: leave it to Xero, where someone may have approved it since.
            payload = {k: v for k, v in payload.items() if k != "Status"}
        result = self.xero.write("POST" if existing else "PUT", "Invoices", "Invoices", [payload], key)[0]
        if result.ok:
            return result.element
        if existing and any(_LOCKED in m for m in result.errors):
            return self._after_lock(str(existing["InvoiceID"]), payload, key, result.errors)
        if existing is None and any(_DUPLICATE_NUMBER in m for m in result.errors):
            # An earlier attempt created it and its answer was lost: update that one instead — but only
            # when it is provably the one this Dynamics invoice made (its Url names it); a real
            # organisation holds invoices typed or imported before, and those are not ours to rewrite.
            found = self._find("Invoices", {"InvoiceNumbers": payload.get("InvoiceNumber", "")})
            if found and not ours(found, invoice_id):
                raise ForeignInvoice(foreign_message(found))
            if found:
                allowed, why = can_update(str(found.get("Status", "")), found.get("AmountPaid"))
                if not allowed:
                    raise LeftAlone(why, str(found.get("Status", "")))
                retry = self.xero.write(
                    "POST", "Invoices", "Invoices", [{**payload, "InvoiceID": found["InvoiceID"]}], key + "-u"
                )[0]
                if retry.ok:
                    return retry.element
                raise XeroValidationError(retry.errors)
        raise XeroValidationError(result.errors)

    def _after_lock(
        self, xero_id: str, payload: dict[str, Any], key: str, errors: list[str]
    ) -> dict[str, Any]:
        """Xero refused to change an invoice it holds. Read what it holds: paid, voided... is said in
        words; an invoice approved in Xero since the last push takes the change at its own status
        (Xero moves AUTHORISED only to VOIDED and answers "Invoice not of valid status for
        modification" to any other move: waynerobinson/xeroizer#48, XeroAPI/Xero-NetStandard#79)."""
        current = self.xero.get(f"Invoices/{xero_id}").get("Invoices", [{}])[0]
        status = str(current.get("Status", ""))
        allowed, why = can_update(status, current.get("AmountPaid"))
        if not allowed:
            raise LeftAlone(why, status)
        if "Status" in payload and _RANK.get(status, -1) >= _RANK.get(str(payload["Status"]), 0):
            kept = {k: v for k, v in payload.items() if k != "Status"}
            retry = self.xero.write("POST", "Invoices", "Invoices", [kept], key + "-s")[0]
            if retry.ok:
                return retry.element
            errors = retry.errors
        raise XeroValidationError(errors)

    def _cancel(self, doc: dict[str, Any], number: str) -> PushResult:
        invoice_id, xero_id = str(doc["invoiceid"]), str(doc[schema.INVOICE_XERO_ID])
        action = cancel_action(str(doc.get(schema.INVOICE_XERO_STATUS) or ""))
        if action is None:
            return PushResult("unchanged", invoice_id, number, xero_invoice_id=xero_id)
        key = idempotency_key(self.connection.id, invoice_id, doc.get("versionnumber") or 0, "cancel")
        result = self.xero.write(
            "POST", "Invoices", "Invoices", [{"InvoiceID": xero_id, "Status": action}], key
        )[0]
        if not result.ok:
            raise XeroValidationError(result.errors)
        xero_at, short_code = self.now(), self._short_code()
        digest = str(doc.get(schema.INVOICE_SYNC_DIGEST) or "")
        values = success_values(result.element, digest, xero_at, self.xero.web_url, short_code)
        write_back(self.dataverse, doc, values)
        message = f"Cancelled in Dynamics: {'deleted' if action == 'DELETED' else 'voided'} in Xero"
        return PushResult("pushed", invoice_id, number, message, xero_id, False, short_code, xero_at)

    def _find(self, resource: str, params: dict[str, Any]) -> dict[str, Any] | None:
        found = self.xero.get(resource, params).get(resource, [])
        live = [f for f in found if f.get("Status") not in ("DELETED", "VOIDED")]
        return live[0] if live else None


def invoice_digest(payload: dict[str, Any]) -> str:
    """What is sent, the same for a create and an update: written back, so an unchanged invoice costs no
    Xero call (the backfill writes the same one)."""
    return _digest({k: v for k, v in payload.items() if k != "InvoiceID"})


def _existing(doc: dict[str, Any]) -> dict[str, Any] | None:
    xero_id = doc.get(schema.INVOICE_XERO_ID)
    if not xero_id:
        return None
    return {
        "InvoiceID": xero_id,
        "Status": doc.get(schema.INVOICE_XERO_STATUS) or "",
        "InvoiceNumber": doc.get(schema.INVOICE_XERO_NUMBER) or "",
    }


def source_link(org_url: str, invoice_id: str) -> str:
    """The Dynamics form of the invoice (Learn: "Open forms, views, dialogs, and reports with a URL")."""
    if not org_url.startswith("https://"):
        return ""
    return f"{org_url.rstrip('/')}/main.aspx?pagetype=entityrecord&etn=invoice&id={invoice_id.lower()}"


def ours(found: dict[str, Any], invoice_id: str) -> bool:
    return f"id={invoice_id.lower()}" in str(found.get("Url") or "").lower()


def foreign_message(found: dict[str, Any]) -> str:
    number = found.get("InvoiceNumber", "")
    contact = (found.get("Contact") or {}).get("Name") or "another contact"
    return (
        f"Xero already has invoice {number} (for {contact}), which this connector did not create — "
        f"fix: give this invoice a number Xero does not use yet in Dynamics, or renumber or void {number} "
        "in Xero, then save the invoice again"
    )


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _reconnect_message(error: ReconnectRequired) -> str:
    if error.side == "xero":
        return f"Xero says: {error.reason} — fix: press Reconnect to Xero {_ON_THE_PAGE}"
    return f"Dynamics: {error.reason} — fix: press Sign in to Dynamics again {_ON_THE_PAGE}"


_ON_THE_PAGE = "on the connection's page in the connector portal"
