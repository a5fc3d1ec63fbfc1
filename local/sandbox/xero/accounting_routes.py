"""Accounting resources under /api.xro/2.0/: reads with filters and paging, writes with summarizeErrors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from local.sandbox.xero import contacts, invoices, items
from local.sandbox.xero.orgs import Org
from local.sandbox.xero.queries import QueryError, apply_filters, modified_since, paginate
from local.sandbox.xero.rules import WriteContext
from local.sandbox.xero.state import SandboxState
from local.sandbox.xero.typecheck import PostDataInvalid, elements_of
from local.sandbox.xero.wire import (
    envelope,
    json_response,
    money,
    post_data_invalid,
    problem,
    render,
    validation_exception,
)

Upsert = Callable[[WriteContext, dict[str, Any], str, str | None], tuple[dict[str, Any], list[str]]]
WRITERS: dict[str, tuple[Upsert, str]] = {
    "Invoices": (invoices.upsert_invoice, "InvoiceID"),
    "Contacts": (contacts.upsert_contact, "ContactID"),
    "Items": (items.upsert_item, "ItemID"),
}
ID_FIELDS = {
    "Invoices": "InvoiceID",
    "Contacts": "ContactID",
    "Items": "ItemID",
    "Accounts": "AccountID",
    "BrandingThemes": "BrandingThemeID",
    "TrackingCategories": "TrackingCategoryID",
    "TaxRates": "TaxType",
    "Currencies": "Code",
    "Organisation": "OrganisationID",
}
# Resources with If-Modified-Since support (Xero: not TaxRates, not BrandingThemes).
MODIFIED_SINCE = {"Invoices", "Contacts", "Items", "Accounts"}
COLLECTION_NAME = {"Organisation": "Organisations"}
MAX_BODY = int(3.5 * 1024 * 1024)


def not_found() -> Response:
    return problem(404, "NotFound", "The resource you're looking for cannot be found")


def read(state: SandboxState, org: Org, request: Request, resource: str, record_id: str | None) -> Response:
    with state.lock:
        records = _rendered(org, resource, single=record_id is not None, paged="page" in request.args)
        if resource == "Items" and request.args.get("unitdp") != "4":
            records = [_two_places(r) for r in records]
    if record_id is not None:
        found = [r for r in records if _matches(r, resource, record_id)]
        if not found:
            return not_found()
        return json_response(envelope(COLLECTION_NAME.get(resource, resource), found, state.clock.now_dt()))
    try:
        if (
            resource == "Contacts"
            and request.args.get("includeArchived", "").lower() != "true"
            and not request.args.get("IDs")
        ):
            records = [r for r in records if r.get("ContactStatus") != "ARCHIVED"]
        records = apply_filters(records, request.args, ID_FIELDS[resource])
        if resource in MODIFIED_SINCE:
            records = modified_since(records, request.headers.get("If-Modified-Since"))
        # GET /Items takes no page parameter (spec): Xero answers every item at once
        records, pagination = paginate(records, request.args) if resource != "Items" else (records, None)
    except QueryError as failure:
        return json_response({"ErrorNumber": 16, "Type": "QueryParseException", "Message": str(failure)}, 400)
    extra = {"pagination": pagination} if pagination else {}
    return json_response(
        envelope(COLLECTION_NAME.get(resource, resource), records, state.clock.now_dt(), **extra)
    )


def _two_places(item: dict[str, Any]) -> dict[str, Any]:
    """Unit prices as Xero shows them to a reader that did not opt in to four decimals (spec, parameter
    unitdp: "You can opt in to use four decimal places for unit amounts"): rounded to two."""
    out = dict(item)
    for details in ("SalesDetails", "PurchaseDetails"):
        if isinstance(out.get(details), dict) and isinstance(out[details].get("UnitPrice"), int | float):
            out[details] = out[details] | {"UnitPrice": float(money(out[details]["UnitPrice"]))}
    return out


def _rendered(org: Org, resource: str, single: bool, paged: bool) -> list[dict[str, Any]]:
    if resource == "Invoices":
        # Like Xero: a list without paging leaves out line items; one invoice or a page includes them.
        return [invoices.render_invoice(org, i, with_lines=single or paged) for i in org.invoices.values()]
    return [render(r) for r in org.collection(resource)]


def _matches(record: dict[str, Any], resource: str, record_id: str) -> bool:
    alternates = {
        "Invoices": "InvoiceNumber",
        "Contacts": "ContactNumber",
        "Items": "Code",
        "Accounts": "Code",
    }
    alt = alternates.get(resource)
    return str(record.get(ID_FIELDS[resource])).lower() == record_id.lower() or (
        alt is not None and record.get(alt) == record_id
    )


def write(state: SandboxState, org: Org, request: Request, resource: str, record_id: str | None) -> Response:
    """PUT/POST of an array (or POST to one record). Caller holds state.lock."""
    if (request.content_length or 0) > MAX_BODY:
        return problem(413, "Request Entity Too Large", "The request is larger than 3.5 MB")
    upsert, id_field = WRITERS[resource]
    if record_id is not None and not any(
        _matches(r, resource, record_id) for r in _rendered(org, resource, True, True)
    ):
        return not_found()
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as failure:
        return post_data_invalid(f"Unexpected character encountered while parsing value: {failure}")
    if body is None:
        return post_data_invalid("The request body is empty.")
    try:
        elements = elements_of(resource, body)
    except PostDataInvalid as failure:
        return post_data_invalid(str(failure))
    ctx = WriteContext(org, state.clock.now_dt(), 4 if request.args.get("unitdp") == "4" else 2)
    results = [upsert(ctx, element, request.method, record_id) for element in elements]
    state.publish(org.tenant_id, ctx.events)
    summarize = request.args.get("summarizeErrors", "true").lower() != "false"
    return _write_answer(state, resource, results, summarize)


ZERO_ID = "00000000-0000-0000-0000-000000000000"


def _marked(resource: str, record: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """An element of a write answer as Xero marks it, which differs by resource (xero_accounting.yaml
    16.1.0): an Invoice carries HasErrors and StatusAttributeString (Invoice schema; the examples of
    PUT/POST /Invoices); a Contact has no HasErrors property: a refused one says HasValidationErrors
    true with a zero ContactID (the duplicate-name example of PUT /Contacts); an Item has neither: a
    refused one carries ValidationErrors (example of PUT /Items) and StatusAttributeString ERROR."""
    out = dict(record) | {"ValidationErrors": [{"Message": m} for m in errors]}
    if resource == "Invoices":
        out |= {"HasErrors": bool(errors), "StatusAttributeString": "ERROR" if errors else "OK"}
    elif resource == "Contacts":
        out["HasValidationErrors"] = bool(errors)
        if errors:
            out["ContactID"] = ZERO_ID
    elif errors:
        out["StatusAttributeString"] = "ERROR"
    return out


def _write_answer(
    state: SandboxState, resource: str, results: list[tuple[dict[str, Any], list[str]]], summarize: bool
) -> Response:
    shown = []
    for record, errors in results:
        out = record
        if errors or not summarize:
            out = _marked(resource, record, errors)
        shown.append((out, errors))
    if summarize and any(errors for _, errors in shown):
        elements = [out for out, errors in shown if errors]
        return json_response(validation_exception(elements), 400)
    return json_response(envelope(resource, [out for out, _ in shown], state.clock.now_dt()))
