"""A small read-only HTML view of the sandbox Xero, so a person running `make run` can see what the
connector did "in Xero" without calling the API by hand:

    /_sandbox/ui/                                   organisations
    /_sandbox/ui/{tenant}/                          its invoices (newest first), with totals and status
    /_sandbox/ui/{tenant}/invoices/{InvoiceID}      one invoice: contact, dates, lines, totals, payments
    /_sandbox/ui/{tenant}/contacts, …/items         contacts and items

It also answers go.xero.com's own invoice link, `/AccountsReceivable/View.aspx?InvoiceID=…` (the link the
connector writes onto the Dynamics invoice, behind the organisation switch
`/organisationlogin/default.aspx?shortcode=…&redirecturl=…`), and `/AccountsReceivable/Search.aspx` (the
sales invoices list):
against the sandbox the same links open these pages. Nothing here changes a record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jinja2 import DictLoader, Environment, select_autoescape
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from local.sandbox.xero.orgs import Org
from local.sandbox.xero.state import SandboxState

BASE = "/_sandbox/ui"

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} – Xero sandbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;
margin:.5rem 0 1.5rem}td,th{border:1px solid #999;padding:.3rem .6rem;text-align:left}
td.amount,th.amount{text-align:right}nav a{margin-right:1rem}</style></head>
<body><header><p><a href="{{ base }}/" id="home-link">Organisations</a>{% if org %} ·
<a href="{{ base }}/{{ org.tenant_id }}/" id="org-link">{{ org.name }}</a>{% endif %} · Xero sandbox
(read-only)</p></header><main>{% block main %}{% endblock %}</main></body></html>"""

_ORGS = """{% extends "layout" %}{% block main %}
<h1>Organisations</h1>
<table id="organisations"><caption>Organisations in this sandbox Xero</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Tenant id</th><th scope="col">Base currency</th>
<th scope="col" class="amount">Invoices</th><th scope="col" class="amount">Contacts</th>
<th scope="col" class="amount">Items</th></tr></thead>
<tbody>{% for o in orgs %}<tr id="org-{{ o.tenant_id }}">
<td><a href="{{ base }}/{{ o.tenant_id }}/">{{ o.name }}</a></td><td><code>{{ o.tenant_id }}</code></td>
<td>{{ o.currency }}</td><td class="amount">{{ o.invoices }}</td><td class="amount">{{ o.contacts }}</td>
<td class="amount">{{ o.items }}</td></tr>{% else %}<tr><td colspan="6">No organisations.</td></tr>
{% endfor %}</tbody></table>
{% endblock %}"""

_ORG = """{% extends "layout" %}{% block main %}
<h1>{{ org.name }}</h1>
<nav><a href="{{ base }}/{{ org.tenant_id }}/">Invoices</a><a href="{{ base }}/{{ org.tenant_id }}/contacts"
>Contacts</a><a href="{{ base }}/{{ org.tenant_id }}/items">Items</a></nav>
<table id="invoices"><caption>Sales invoices of {{ org.name }}</caption>
<thead><tr><th scope="col">Number</th><th scope="col">Reference</th><th scope="col">To</th>
<th scope="col">Date</th><th scope="col">Due</th><th scope="col">Status</th>
<th scope="col" class="amount">Total</th><th scope="col" class="amount">Due</th></tr></thead>
<tbody>{% for i in invoices %}<tr id="invoice-{{ i.InvoiceID }}" data-invoice-number="{{ i.InvoiceNumber }}">
<td><a href="{{ base }}/{{ org.tenant_id }}/invoices/{{ i.InvoiceID }}"
>{{ i.InvoiceNumber or "(no number)" }}</a></td><td>{{ i.Reference or "" }}</td>
<td>{{ i.contact }}</td><td>{{ i.Date or "" }}</td>
<td>{{ i.DueDate or "" }}</td><td class="status">{{ i.Status }}</td>
<td class="amount total">{{ i.CurrencyCode }} {{ money(i.Total) }}</td>
<td class="amount">{{ money(i.AmountDue) }}</td></tr>
{% else %}<tr><td colspan="8">No invoices yet.</td></tr>{% endfor %}</tbody></table>
{% endblock %}"""

_INVOICE = """{% extends "layout" %}{% block main %}
<h1>Invoice {{ inv.InvoiceNumber or "(no number)" }}</h1>
<dl><dt>Status</dt><dd id="invoice-status">{{ inv.Status }}</dd>
<dt>To</dt><dd id="invoice-contact">{{ contact }}</dd>
<dt>Reference</dt><dd id="invoice-reference">{{ inv.Reference or "" }}</dd>
<dt>Date</dt><dd>{{ inv.Date or "" }}</dd><dt>Due date</dt><dd>{{ inv.DueDate or "" }}</dd>
<dt>Currency</dt><dd id="invoice-currency">{{ inv.CurrencyCode }}</dd>
<dt>Amounts are</dt><dd>{{ inv.LineAmountTypes }}</dd></dl>
<table id="lines"><caption>Lines</caption><thead><tr><th scope="col">Item</th>
<th scope="col">Description</th><th scope="col" class="amount">Quantity</th>
<th scope="col" class="amount">Unit price</th><th scope="col" class="amount">Discount</th>
<th scope="col">Account</th><th scope="col">Tax rate</th><th scope="col" class="amount">Tax</th>
<th scope="col" class="amount">Amount</th></tr></thead><tbody>
{% for line in inv.LineItems %}<tr><td>{{ line.ItemCode or "" }}</td><td>{{ line.Description or "" }}</td>
<td class="amount">{{ line.Quantity }}</td><td class="amount">{{ money(line.UnitAmount) }}</td>
<td class="amount">{{ money(line.DiscountAmount) if line.DiscountAmount else "" }}</td>
<td>{{ line.AccountCode or "" }}</td><td>{{ line.TaxType or "" }}</td>
<td class="amount">{{ money(line.TaxAmount) }}</td><td class="amount">{{ money(line.LineAmount) }}</td></tr>
{% endfor %}</tbody>
<tfoot><tr><th scope="row" colspan="8" class="amount">Subtotal</th><td class="amount"
id="invoice-subtotal">{{ money(inv.SubTotal) }}</td></tr>
<tr><th scope="row" colspan="8" class="amount">Total tax</th><td class="amount"
id="invoice-tax">{{ money(inv.TotalTax) }}</td></tr>
<tr><th scope="row" colspan="8" class="amount">Total {{ inv.CurrencyCode }}</th><td class="amount"
id="invoice-total">{{ money(inv.Total) }}</td></tr>
<tr><th scope="row" colspan="8" class="amount">Paid</th><td class="amount"
>{{ money(inv.AmountPaid) }}</td></tr>
<tr><th scope="row" colspan="8" class="amount">Amount due</th><td class="amount"
id="invoice-due">{{ money(inv.AmountDue) }}</td></tr></tfoot></table>
{% if inv.Payments %}<h2>Payments</h2><ul>{% for p in inv.Payments %}<li>{{ p.Date }}:
{{ money(p.Amount) }}</li>{% endfor %}</ul>{% endif %}
{% endblock %}"""

_MISSING = """{% extends "layout" %}{% block main %}<h1>{{ title }}</h1>{% endblock %}"""

_CONTACTS = """{% extends "layout" %}{% block main %}
<h1>Contacts of {{ org.name }}</h1>
<table id="contacts"><caption>Contacts</caption><thead><tr><th scope="col">Name</th>
<th scope="col">Contact number</th><th scope="col">E-mail</th><th scope="col">Status</th></tr></thead>
<tbody>{% for c in contacts %}<tr><td>{{ c.Name }}</td><td>{{ c.ContactNumber or "" }}</td>
<td>{{ c.EmailAddress or "" }}</td><td>{{ c.ContactStatus }}</td></tr>
{% else %}<tr><td colspan="4">No contacts.</td></tr>{% endfor %}</tbody></table>
{% endblock %}"""

_ITEMS = """{% extends "layout" %}{% block main %}
<h1>Items of {{ org.name }}</h1>
<table id="items"><caption>Items</caption><thead><tr><th scope="col">Code</th><th scope="col">Name</th>
<th scope="col">Description</th><th scope="col" class="amount">Sale price</th>
<th scope="col">Sales account</th></tr></thead>
<tbody>{% for i in items %}<tr><td>{{ i.Code }}</td><td>{{ i.Name or "" }}</td>
<td>{{ i.Description or "" }}</td><td class="amount">{{ money(i.SalesDetails.UnitPrice) }}</td>
<td>{{ i.SalesDetails.AccountCode or "" }}</td></tr>
{% else %}<tr><td colspan="5">No items.</td></tr>{% endfor %}</tbody></table>
{% endblock %}"""

TEMPLATES = Environment(
    loader=DictLoader(
        {
            "layout": _LAYOUT,
            "orgs": _ORGS,
            "org": _ORG,
            "invoice": _INVOICE,
            "contacts": _CONTACTS,
            "items": _ITEMS,
            "missing": _MISSING,
        }
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def money(value: Any) -> str:
    """Two decimals with thousands separators; blank for a field the record does not have."""
    if isinstance(value, Decimal | int | float):
        return f"{Decimal(str(value)):,.2f}"
    return ""


TEMPLATES.globals["money"] = money


def handle(state: SandboxState, request: Request) -> Response | None:
    """The page for this request, or None when the path is not one of these pages."""
    path = request.path
    if request.method not in ("GET", "HEAD"):
        return None
    if path == "/":
        return redirect(f"{BASE}/", 302)
    if path.lower() == "/accountsreceivable/search.aspx":
        return redirect(f"{BASE}/", 302)
    if path.lower() == "/accountsreceivable/view.aspx":
        return _view_aspx(state, request.args.get("InvoiceID", ""))
    if path.lower() == "/organisationlogin/default.aspx":
        return _organisation_login(request.args.get("redirecturl", ""))
    if path == BASE:
        return redirect(f"{BASE}/", 301)
    if not path.startswith(f"{BASE}/"):
        return None
    parts = [p for p in path[len(BASE) + 1 :].split("/") if p]
    with state.lock:
        return _page(state, parts)


def _page(state: SandboxState, parts: list[str]) -> Response:
    if not parts:
        orgs = [
            {
                "tenant_id": o.tenant_id,
                "name": o.name,
                "currency": o.organisation.get("BaseCurrency", ""),
                "invoices": len(o.invoices),
                "contacts": len(o.contacts),
                "items": len(o.items),
            }
            for o in sorted(state.orgs.values(), key=lambda o: o.name)
        ]
        return _render("orgs", title="Organisations", orgs=orgs, org=None)
    org = state.orgs.get(parts[0].lower())
    if org is None:
        return _not_found(f"No organisation {parts[0]}")
    rest = parts[1:]
    if not rest:
        invoices = sorted(org.invoices.values(), key=_newest_first, reverse=True)
        shown = [{**i, "contact": _contact_name(org, i)} for i in invoices if i["Type"] == "ACCREC"]
        return _render("org", title=org.name, org=org, invoices=shown)
    if rest == ["contacts"]:
        contacts = sorted(org.contacts.values(), key=lambda c: str(c["Name"]).lower())
        return _render("contacts", title=f"Contacts – {org.name}", org=org, contacts=contacts)
    if rest == ["items"]:
        items = sorted(org.items.values(), key=lambda i: str(i["Code"]).lower())
        return _render("items", title=f"Items – {org.name}", org=org, items=items)
    if len(rest) == 2 and rest[0] == "invoices" and rest[1].lower() in org.invoices:
        invoice = org.invoices[rest[1].lower()]
        title = f"Invoice {invoice.get('InvoiceNumber') or ''} – {org.name}"
        return _render("invoice", title=title, org=org, inv=invoice, contact=_contact_name(org, invoice))
    return _not_found("No such page")


def _organisation_login(target: str) -> Response:
    """go.xero.com's organisation switch (`?shortcode=…&redirecturl=…`, FACTS.md): the sandbox has one
    session for every organisation, so it only follows the redirect — to a path on this host only."""
    if not target.startswith("/") or target.startswith("//"):
        return _not_found("redirecturl must be a path on this site")
    return redirect(target, 302)


def _view_aspx(state: SandboxState, invoice_id: str) -> Response:
    wanted = invoice_id.strip().lower()
    with state.lock:
        org = next((o for o in state.orgs.values() if wanted and wanted in o.invoices), None)
    if org is None:
        return _not_found(f"No invoice {invoice_id}")
    return redirect(f"{BASE}/{org.tenant_id}/invoices/{wanted}", 302)


def _newest_first(invoice: dict[str, Any]) -> tuple[str, str]:
    return (str(invoice.get("UpdatedDateUTC") or ""), str(invoice.get("InvoiceNumber") or ""))


def _contact_name(org: Org, invoice: dict[str, Any]) -> str:
    contact = org.contacts.get(str(invoice.get("_contact_id") or ""))
    return str(contact["Name"]) if contact else ""


def _render(template: str, **values: Any) -> Response:
    page = TEMPLATES.get_template(template).render(base=BASE, **values)
    return Response(page, content_type="text/html; charset=utf-8")


def _not_found(message: str) -> Response:
    page = TEMPLATES.get_template("missing").render(base=BASE, title=message, org=None)
    return Response(page, status=404, content_type="text/html; charset=utf-8")
