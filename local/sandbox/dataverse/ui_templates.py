"""HTML of the sandbox's invoice pages: plain forms (no JavaScript), labelled fields, stable ids."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} – Dataverse sandbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:.3rem .6rem;text-align:left}fieldset{margin:.8rem 0}
label{display:inline-block;min-width:9rem}.error{color:#a00;font-weight:bold}</style></head>
<body><header><p><a href="{{ base }}/" id="home-link">Invoices</a> · {{ env_name }}</p></header>
<main>{% block main %}{% endblock %}</main></body></html>"""

_LIST = """{% extends "layout" %}{% block main %}
<h1>Invoices</h1>
<p><a href="{{ base }}/invoices/new" id="new-invoice-link">New invoice</a></p>
<table id="invoices"><caption>Invoices in {{ env_name }}</caption>
<thead><tr><th scope="col">Number</th><th scope="col">Name</th><th scope="col">Customer</th>
<th scope="col">Total</th><th scope="col">Status</th>
{% for column in xero_columns %}<th scope="col">{{ column.label }}</th>{% endfor %}</tr></thead>
<tbody>{% for inv in invoices %}<tr id="invoice-{{ inv.invoiceid }}"
data-invoice-number="{{ inv.invoicenumber or '' }}">
<td><a href="{{ base }}/invoices/{{ inv.invoiceid }}">{{ inv.invoicenumber or "(no number)" }}</a></td>
<td>{{ inv.name or "" }}</td><td>{{ inv.customer }}</td><td class="total">{{ inv.total }}</td>
<td class="status">{{ inv.status }}</td>
{% for column in xero_columns %}<td class="{{ column.name }}">{% if column.name == "dxc_xerourl" %}
{% if inv[column.name] is web_link %}<a href="{{ inv[column.name] }}">Open in Xero</a>{% endif %}
{% else %}{{ inv[column.name] or "" }}{% endif %}</td>{% endfor %}
</tr>{% else %}<tr><td colspan="5">No invoices yet.</td></tr>{% endfor %}</tbody></table>
{% endblock %}"""

_NEW = """{% extends "layout" %}{% block main %}
<h1>New invoice</h1>
{% if error %}<p class="error" role="alert" id="form-error">{{ error }}</p>{% endif %}
<form method="post" action="{{ base }}/invoices" id="new-invoice-form">
<p><label for="name">Name</label><input id="name" name="name" required maxlength="300"
value="{{ form.name or '' }}"></p>
<p><label for="invoicenumber">Invoice number</label><input id="invoicenumber" name="invoicenumber"
maxlength="100" value="{{ form.invoicenumber or '' }}"></p>
<p><label for="customer">Customer</label><select id="customer" name="customer" required>
{% for c in customers %}<option value="{{ c.value }}"
{% if form.customer == c.value %}selected{% endif %}>{{ c.label }}</option>{% endfor %}
</select></p>
<p><label for="currency">Currency</label><select id="currency" name="currency">
{% for c in currencies %}<option value="{{ c.id }}"
{% if form.currency == c.id %}selected{% endif %}>{{ c.label }}</option>{% endfor %}
</select></p>
<p><label for="duedate">Due date</label><input type="date" id="duedate" name="duedate"
value="{{ form.duedate or '' }}"></p>
{% for n in [1, 2, 3] %}<fieldset id="line{{ n }}"><legend>Line {{ n }}</legend>
<p><label for="line{{ n }}-product">Product</label><select id="line{{ n }}-product"
name="line{{ n }}-product">
<option value="">(write-in or none)</option>
{% for p in products %}<option value="{{ p.id }}">{{ p.label }}</option>{% endfor %}</select></p>
<p><label for="line{{ n }}-description">Write-in description</label><input
id="line{{ n }}-description" name="line{{ n }}-description" maxlength="500"></p>
<p><label for="line{{ n }}-quantity">Quantity</label><input id="line{{ n }}-quantity"
name="line{{ n }}-quantity" inputmode="decimal"></p>
<p><label for="line{{ n }}-price">Price per unit</label><input id="line{{ n }}-price"
name="line{{ n }}-price" inputmode="decimal"></p>
<p><label for="line{{ n }}-discount">Discount amount</label><input id="line{{ n }}-discount"
name="line{{ n }}-discount" inputmode="decimal"></p>
</fieldset>{% endfor %}
<p><button type="submit" id="create-invoice">Create invoice</button></p></form>
{% endblock %}"""

_EDIT = """{% extends "layout" %}{% block main %}
<h1>Invoice {{ inv.invoicenumber or "" }}</h1>
{% if error %}<p class="error" role="alert" id="form-error">{{ error }}</p>{% endif %}
<dl><dt>Status</dt><dd id="invoice-status">{{ status }}</dd><dt>Customer</dt><dd
id="invoice-customer">{{ customer }}</dd>
<dt>Total</dt><dd id="invoice-total">{{ total }}</dd>
{% for column in xero_columns %}<dt>{{ column.label }}</dt><dd
id="{{ column.name }}">{% if column.name == "dxc_xerourl" %}{% if inv[column.name] is web_link %}<a
href="{{ inv[column.name] }}" id="xero-link">Open invoice {{ inv.dxc_xeroinvoicenumber or "" }} in Xero</a>
{% endif %}{% else %}{{ inv[column.name] or "" }}{% endif %}</dd>{% endfor %}</dl>
<form method="post" action="{{ base }}/invoices/{{ inv.invoiceid }}" id="edit-invoice-form">
<p><label for="name">Name</label><input id="name" name="name" maxlength="300"
value="{{ inv.name or '' }}" {% if read_only %}disabled{% endif %}></p>
<p><label for="duedate">Due date</label><input type="date" id="duedate" name="duedate"
value="{{ duedate }}" {% if read_only %}disabled{% endif %}></p>
<table id="lines"><caption>Lines</caption><thead><tr><th scope="col">#</th><th scope="col">Product</th>
<th scope="col">Quantity</th><th scope="col">Price</th><th scope="col">Amount</th></tr></thead><tbody>
{% for line in lines %}<tr
id="line-{{ line.lineitemnumber }}"><td>{{ line.lineitemnumber }}</td><td>{{ line.product }}</td>
<td><label for="line-{{ line.lineitemnumber }}-quantity" class="visually-hidden">Quantity of line
{{ line.lineitemnumber }}</label>
<input id="line-{{ line.lineitemnumber }}-quantity" name="quantity-{{ line.invoicedetailid }}"
value="{{ line.quantity }}" inputmode="decimal" {% if read_only %}disabled{% endif %}></td>
<td>{{ line.priceperunit }}</td><td>{{ line.extendedamount }}</td></tr>{% endfor %}</tbody></table>
{% if not read_only %}<p><button type="submit" id="save-invoice">Save</button></p>{% endif %}</form>
{% if read_only %}<form method="post"
action="{{ base }}/invoices/{{ inv.invoiceid }}/activate"><button type="submit"
id="activate-invoice">Reactivate invoice</button></form>
{% else %}<form method="post" action="{{ base }}/invoices/{{ inv.invoiceid }}/paid"><button
type="submit" id="mark-paid">Mark paid</button></form>
<form method="post" action="{{ base }}/invoices/{{ inv.invoiceid }}/cancel"><button type="submit"
id="cancel-invoice">Cancel invoice</button></form>{% endif %}
{% endblock %}"""

TEMPLATES = Environment(
    loader=DictLoader({"layout": _LAYOUT, "list": _LIST, "new": _NEW, "edit": _EDIT}),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
# Only a web address becomes a link (a javascript: value in the column stays inert text).
TEMPLATES.tests["web_link"] = lambda value: (
    isinstance(value, str) and value.startswith(("https://", "http://"))
)
