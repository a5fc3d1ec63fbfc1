"""One page of a backfill: up to 50 Dynamics invoices read in ONE Dataverse GET, sent to Xero in as few
calls as the live push would spend on one invoice, and the result written back onto each in ONE $batch.

- Contacts: customers Xero does not know yet are created in one PUT /Contacts; one Xero refuses (its
  name is taken: the customer is in Xero already) is looked up, as the live push does.
- Items: every product of the page in one POST /Items (the worker's catalog; nothing once they exist).
- Invoices: one PUT /Invoices of up to 50, `summarizeErrors=false`, so each element says whether it was
  created and why not (xero_accounting.yaml 16.1.0, parameter summarizeErrors: "If false return 200 OK
  and mix of successfully created objects and any with validation errors"). The Idempotency-Key names the
  job, the page and what is sent: a page read again after a crash sends the same request and gets
  Xero's first answer, not a second set of invoices.
- Already in Xero: an invoice whose Xero id is written back is left alone. One whose number Xero refuses
  as taken ("Invoice # must be unique") is looked up (one GET for the page): the connector's own (its Url
  names this Dynamics invoice: an earlier attempt whose answer was lost) or one typed or imported before
  for the same contact is linked, not created again; someone else's is a failure, with the reason. With
  Xero numbering nothing makes a second create fail, so the page is looked up first by Reference.

A page written back is a page done: the next read of it finds the Xero ids and spends no Xero call."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.backfill.query import PAGE_SIZE, Selection, page_query
from shared.dataverse import schema
from shared.dataverse.batch import BatchRequest
from shared.dataverse.invoice_query import invoice_query
from shared.errors import FatalError, NotFoundError
from shared.store.backfills import Problem
from shared.store.models import Connection
from shared.store.sync_settings import Numbering
from shared.sync.contacts import existing_contact, not_in_xero_message
from shared.sync.due_date import due_date
from shared.sync.eligibility import ineligible_reason
from shared.sync.idempotency import idempotency_key, payload_digest
from shared.sync.item_catalog import ItemCatalog
from shared.sync.mapping_contact import ContactPlan, map_contact
from shared.sync.mapping_invoice import map_invoice
from shared.sync.mapping_items import wanted_items
from shared.sync.organisation import OrganisationBook
from shared.sync.push import foreign_message, invoice_digest, ours, source_link
from shared.sync.reconcile import totals_warning
from shared.sync.write_back import SKIPPED, Dataverse, changed_values, problem_values, success_values
from shared.sync.xero_errors import explain
from shared.xero.accounting import ZERO_ID, XeroAccounting

log = logging.getLogger(__name__)
_DUPLICATE_NUMBER = "must be unique"
_RANK = {"DRAFT": 0, "SUBMITTED": 1, "AUTHORISED": 2}


@dataclass
class PageResult:
    cursor: str  # the last invoice id read: the next page starts after it
    finished: bool  # the last page of the selection
    created: int = 0
    matched: int = 0
    failed: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Entry:
    """One invoice of the page on its way: its document, then its contact, payload and outcome."""

    doc: dict[str, Any]
    plan: ContactPlan | None = None
    contact_id: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] | None = None  # the write-back
    outcome: str = ""  # created | matched | failed | skipped

    @property
    def invoice_id(self) -> str:
        return str(self.doc["invoiceid"])

    @property
    def number(self) -> str:
        return str(self.doc.get("invoicenumber") or self.doc.get("name") or self.invoice_id)


@dataclass
class PageRun:
    job_id: str
    step: int
    cursor: str
    selection: Selection
    connection: Connection
    dataverse: Dataverse
    xero: XeroAccounting
    catalog: ItemCatalog
    organisations: OrganisationBook
    now: Callable[[], datetime]
    learned: dict[str, ContactPlan] = field(default_factory=dict)  # contact id -> customer to write it on

    def run(self) -> PageResult:
        docs = self._read()
        result = PageResult(str(docs[-1]["invoiceid"]) if docs else self.cursor, len(docs) < PAGE_SIZE)
        entries = [_Entry(doc) for doc in docs]
        todo = [e for e in entries if self._sort(e)]
        if todo:
            self._contacts(todo)
            todo = [e for e in todo if e.outcome == ""]
            known = self._items(todo)
            self._invoices(todo, known)
        self._write_back(entries)
        for entry in entries:
            setattr(result, entry.outcome, getattr(result, entry.outcome) + 1)
            if entry.outcome == "failed" and entry.values:
                result.problems.append(Problem(entry.number, str(entry.values[schema.INVOICE_SYNC_ERROR])))
        return result

    # -- reading ---------------------------------------------------------------------------------------
    def _read(self) -> list[dict[str, Any]]:
        page = self.dataverse.get(page_query(self.selection, self.cursor))
        docs = [d for d in page.get("value", []) if isinstance(d, dict)]
        # Dataverse may answer an expanded collection of a multi-row query with a link to it instead of
        # the rows (Learn, "Join tables": "…@odata.nextLink"): such an invoice is read on its own.
        return [
            self.dataverse.get(invoice_query(str(d["invoiceid"])))
            if d.get("invoice_details@odata.nextLink")
            else d
            for d in docs
        ]

    def _sort(self, entry: _Entry) -> bool:
        """True when the invoice is to be sent; otherwise its outcome is decided here."""
        doc = entry.doc
        if doc.get(schema.INVOICE_XERO_ID):
            entry.outcome = "matched"  # in Xero already (pushed live, or by an earlier run of a backfill)
            return False
        reason = ineligible_reason(doc, self.connection.sync)
        if reason:
            entry.outcome, entry.values = "skipped", problem_values(doc, reason, self.now(), SKIPPED)
            return False
        return True

    # -- contacts --------------------------------------------------------------------------------------
    def _contacts(self, entries: list[_Entry]) -> None:
        plans: dict[str, ContactPlan] = {}
        for entry in entries:
            entry.plan = map_contact(entry.doc)
            plans.setdefault(entry.plan.customer_id, entry.plan)
        found = {c: str(p.xero_contact_id) for c, p in plans.items() if p.xero_contact_id}
        refusals: dict[str, str] = {}
        new = [p for p in plans.values() if not p.xero_contact_id]
        if new and self.connection.sync.create_missing_contacts:
            payloads = [p.payload for p in new]
            key = idempotency_key(
                self.connection.id, self.job_id, payload_digest(payloads), "backfill-contacts"
            )
            results = self.xero.write("PUT", "Contacts", "Contacts", payloads, key)
            made = []
            for plan, answer in zip(new, results, strict=True):
                contact_id = str(answer.element.get("ContactID") or "")
                if answer.ok and contact_id and contact_id != ZERO_ID:
                    found[plan.customer_id] = contact_id
                    made.append(answer.element)
                else:  # most often: a contact of that name is in Xero already (typed or imported)
                    refusals[plan.customer_id] = explain(answer.errors) if answer.errors else ""
            self.organisations.remember_contacts(self.connection.xero.tenant_id, made)
        for plan in new:
            if plan.customer_id in found:
                self.learned[found[plan.customer_id]] = plan
                continue
            existing = existing_contact(plan, self.xero)
            if existing:
                found[plan.customer_id] = existing
                self.learned[existing] = plan
            elif not self.connection.sync.create_missing_contacts:
                refusals[plan.customer_id] = not_in_xero_message(plan)
        for entry in entries:
            assert entry.plan is not None
            chosen = found.get(entry.plan.customer_id)
            if chosen:
                entry.contact_id = chosen
            else:
                why = refusals.get(entry.plan.customer_id) or "Xero refused to create the contact"
                self._fail(entry, why)

    # -- items -----------------------------------------------------------------------------------------
    def _items(self, entries: list[_Entry]) -> frozenset[str]:
        wanted: dict[str, dict[str, Any]] = {}
        for entry in entries:
            for item in wanted_items(entry.doc, self.connection.sync):
                wanted.setdefault(item["Code"], item)
        if not wanted:
            return frozenset()
        items = list(wanted.values())
        key = idempotency_key(self.connection.id, self.job_id, _digest(items)[:36], "backfill-items")
        outcome = self.catalog.ensure(
            self.connection.xero.tenant_id, self.xero, items, self.connection.sync.create_missing_items, key
        )
        for problem in outcome.problems:
            log.warning("backfill %s: %s (its lines go without an item code)", self.job_id, problem)
        return outcome.known_codes

    # -- invoices --------------------------------------------------------------------------------------
    def _invoices(self, entries: list[_Entry], known: frozenset[str]) -> None:
        for entry in entries:
            entry.payload = map_invoice(
                entry.doc, self.connection.sync, {"ContactID": entry.contact_id}, None, known_item_codes=known
            )
            link = source_link(self.connection.dynamics.org_url, entry.invoice_id)
            if link:
                entry.payload["Url"] = link
        self._due_dates(entries)
        if self.connection.sync.numbering == Numbering.XERO:
            entries = self._link_earlier_creates(entries)
        if not entries:
            return
        payloads = [e.payload for e in entries]
        version = f"{self.step}.{payload_digest(payloads)}"
        key = idempotency_key(self.connection.id, self.job_id, version, "backfill-invoices")
        answers = self.xero.write("PUT", "Invoices", "Invoices", payloads, key)
        taken: list[_Entry] = []
        for entry, answer in zip(entries, answers, strict=True):
            if answer.ok and answer.element.get("InvoiceID"):
                self._done(entry, answer.element, "created")
            elif any(_DUPLICATE_NUMBER in m for m in answer.errors) and entry.payload.get("InvoiceNumber"):
                taken.append(entry)
            else:
                self._fail(entry, explain(answer.errors) if answer.errors else "Xero refused the invoice")
        if taken:
            self._match_taken(taken)

    def _due_dates(self, entries: list[_Entry]) -> None:
        """Xero requires a due date to approve (FACTS.md): the contact's terms, else the organisation's,
        else the connection's days, as the live push. The contacts' terms come in one GET for the page."""
        needing = [e for e in entries if not e.payload.get("DueDate") and _RANK.get(e.payload["Status"], 0)]
        tenant = self.connection.xero.tenant_id
        unknown = sorted(
            {e.contact_id for e in needing if not self.organisations.known_contact(tenant, e.contact_id)}
        )
        if unknown:
            # page=1: a paged read carries each contact's full record, PaymentTerms included (unverified
            # for Xero; a contact without its terms here falls back to the organisation's)
            read = self.xero.get("Contacts", {"IDs": ",".join(unknown), "page": 1}).get("Contacts", [])
            self.organisations.remember_contacts(tenant, read)
        for entry in needing:
            issued = (
                date.fromisoformat(entry.payload["Date"]) if entry.payload.get("Date") else self.now().date()
            )
            terms = self.organisations.sales_terms(self.xero, tenant, entry.contact_id)
            entry.payload["DueDate"] = due_date(
                issued, terms, self.connection.sync.default_due_days
            ).isoformat()

    def _link_earlier_creates(self, entries: list[_Entry]) -> list[_Entry]:
        """Xero numbering: the invoices an earlier attempt created (found by Reference, their Url naming
        the Dynamics invoice) are linked; the rest are sent."""
        references = [str(e.payload.get("Reference") or "") for e in entries if e.payload.get("Reference")]
        if not references:
            return entries
        where = " OR ".join(f'Reference=="{_quoted(r)}"' for r in references)
        found = self.xero.get("Invoices", {"where": where, "page": 1}).get("Invoices", [])
        left = []
        for entry in entries:
            earlier = next((f for f in _live(found) if ours(f, entry.invoice_id)), None)
            if earlier is not None:
                self._done(entry, earlier, "created")
            else:
                left.append(entry)
        return left

    def _match_taken(self, entries: list[_Entry]) -> None:
        numbers = sorted({str(e.payload["InvoiceNumber"]) for e in entries})
        found = self.xero.get("Invoices", {"InvoiceNumbers": ",".join(numbers), "page": 1}).get(
            "Invoices", []
        )
        by_number: dict[str, list[dict[str, Any]]] = {}
        for invoice in found:
            by_number.setdefault(str(invoice.get("InvoiceNumber") or ""), []).append(invoice)
        for entry in entries:
            candidates = by_number.get(str(entry.payload["InvoiceNumber"]), [])
            mine = next((c for c in candidates if ours(c, entry.invoice_id)), None)
            if mine is not None:  # created by an earlier attempt whose answer was lost
                self._done(entry, mine, "created")
                continue
            same = next((c for c in _live(candidates) if self._same_customer(c, entry)), None)
            if same is not None:  # typed or imported before the connector: linked, not copied
                self._done(entry, same, "matched")
            elif candidates:
                self._fail(entry, foreign_message(candidates[0]))
            else:
                self._fail(entry, f"Xero says invoice number {entry.payload['InvoiceNumber']} is taken")

    def _same_customer(self, invoice: dict[str, Any], entry: _Entry) -> bool:
        """An invoice with the number, for the same Xero contact, that no Dynamics invoice claims (a Url
        naming another Dynamics invoice is another invoice that merely shares the number)."""
        if "main.aspx" in str(invoice.get("Url") or ""):
            return False
        contact = invoice.get("Contact") or {}
        if str(contact.get("ContactID") or "").lower() == entry.contact_id.lower():
            return True
        name = str(contact.get("Name") or "").casefold()
        return bool(name) and entry.plan is not None and name == str(entry.plan.payload["Name"]).casefold()

    # -- outcomes and the write-back -------------------------------------------------------------------
    def _done(self, entry: _Entry, invoice: dict[str, Any], outcome: str) -> None:
        # a matched invoice keeps its own content: no digest, so the next save in Dynamics updates it
        digest = invoice_digest(entry.payload) if outcome == "created" else ""
        warning = totals_warning(entry.doc, invoice)
        entry.outcome = outcome
        entry.values = success_values(
            invoice, digest, self.now(), self.xero.web_url, self._short_code(), warning=warning
        )

    def _fail(self, entry: _Entry, message: str) -> None:
        entry.outcome, entry.values = "failed", problem_values(entry.doc, message, self.now())

    def _short_code(self) -> str:
        try:
            organisation = self.organisations.organisation(self.xero, self.connection.xero.tenant_id)
        except (FatalError, NotFoundError):
            return ""
        return str(organisation.get("ShortCode") or "")

    def _write_back(self, entries: list[_Entry]) -> None:
        # Stamped as it is written: the sweep takes an invoice changed more than a few seconds after the
        # connector's stamp for a change of someone's (shared/xero_inbound/changes.py, WRITE_GRACE).
        stamp = {schema.INVOICE_SYNCED_ON: f"{self.now():%Y-%m-%dT%H:%M:%SZ}"}
        requests = [
            BatchRequest("PATCH", f"invoices({e.invoice_id})", {**changed, **stamp}, {"If-Match": "*"})
            for e in entries
            if e.values and (changed := changed_values(e.doc, e.values))
        ]
        for contact_id, plan in self.learned.items():
            table = "accounts" if plan.customer_table == "account" else "contacts"
            requests.append(
                BatchRequest(
                    "PATCH",
                    f"{table}({plan.customer_id})",
                    {schema.CUSTOMER_XERO_CONTACT_ID: contact_id},
                    {"If-Match": "*"},
                )
            )
        if not requests:
            return
        try:
            self.dataverse.batch(requests)
        except (FatalError, NotFoundError) as refused:
            # One change set is all or nothing: an invoice deleted meanwhile must not cost the others
            # their write-back. Each on its own then.
            log.warning(
                "backfill %s: the $batch write-back was refused (%s): one by one", self.job_id, refused
            )
            for request in requests:
                table, row_id = request.path.rstrip(")").split("(", 1)
                try:
                    self.dataverse.update(table, row_id, request.body or {})
                except (FatalError, NotFoundError) as error:
                    log.warning("backfill %s: %s(%s) not written: %s", self.job_id, table, row_id, error)


def _live(invoices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in invoices if i.get("Status") not in ("DELETED", "VOIDED")]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
