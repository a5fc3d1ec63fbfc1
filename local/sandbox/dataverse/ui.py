"""A small HTML front end at /_sandbox/ui/{env}/: list invoices, create one with up to three lines, edit
name, due date and line quantities, cancel or mark paid. It saves through the same record layer as the
Web API, as the environment's admin, so every save fires the webhooks a user's save in Dynamics would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from . import errors
from .odata_format import Formatter, annotation_filter
from .odata_query import QueryOptions
from .payload import parse_datetime
from .records import WriteContext, create_row, update_row
from .store import EnvironmentState, Ref, Row
from .system_rows import SYSTEM
from .ui_templates import TEMPLATES
from .webhooks import WebhookDispatcher

XERO_COLUMNS = (
    ("dxc_xeroinvoicenumber", "Xero number"),
    ("dxc_xerostatus", "Xero status"),
    ("dxc_syncerror", "Sync error"),
    ("dxc_syncwarning", "Sync warning"),  # sent, but Xero's total differs (shared/sync/reconcile.py)
    ("dxc_xerourl", "In Xero"),  # the connector's link: go.xero.com, or the sandbox Xero's page locally
)


class UiPages:
    def __init__(self, state: Any, webhooks: WebhookDispatcher) -> None:
        self.state = state
        self.webhooks = webhooks

    def handle(self, request: Request, rest: str) -> Response:
        name, _, tail = rest.partition("/")
        env = self.state.get(name)
        if env is None:
            return _html(f"<h1>No environment {name}</h1>", 404)
        base = f"/_sandbox/ui/{name}"
        parts = [p for p in tail.split("/") if p]
        with env.lock:
            return self._route(request, env, base, parts)

    def _route(self, request: Request, env: EnvironmentState, base: str, parts: list[str]) -> Response:
        method = request.method
        if not parts and method == "GET":
            return self._list(env, base)
        if parts == ["invoices", "new"] and method == "GET":
            return self._new(env, base, {}, None)
        if parts == ["invoices"] and method == "POST":
            return self._create(env, base, request.form.to_dict())
        if len(parts) >= 2 and parts[0] == "invoices" and env.get("invoice", parts[1]) is not None:
            invoice_id = parts[1]
            if len(parts) == 2 and method == "GET":
                return self._edit(env, base, invoice_id, None)
            if len(parts) == 2 and method == "POST":
                return self._save(env, base, invoice_id, request.form.to_dict())
            states = {
                "cancel": {"statecode": 3},
                "paid": {"statecode": 2},
                "activate": {"statecode": 0, "statuscode": 1},
            }
            if len(parts) == 3 and method == "POST" and parts[2] in states:
                return self._write(
                    env,
                    base,
                    invoice_id,
                    lambda ctx: update_row(env, env.tables["invoice"], invoice_id, states[parts[2]], ctx),
                )
        return _html("<h1>Not found</h1>", 404)

    def _list(self, env: EnvironmentState, base: str) -> Response:
        invoices = sorted(env.all_rows("invoice"), key=lambda r: r.get("createdon") or "", reverse=True)
        shown = [
            {
                **r,
                "customer": self._name(env, r.get("customerid")),
                "total": self._formatted(env, r, "totalamount"),
                "status": self._formatted(env, r, "statuscode"),
            }
            for r in invoices
        ]
        return _html(
            TEMPLATES.get_template("list").render(
                title="Invoices",
                base=base,
                env_name=env.friendly_name,
                invoices=shown,
                xero_columns=self._xero_columns(env),
            )
        )

    def _new(self, env: EnvironmentState, base: str, form: dict[str, str], error: str | None) -> Response:
        customers = [
            {"value": f"account:{r['accountid']}", "label": r["name"]} for r in env.all_rows("account")
        ]
        customers += [
            {"value": f"contact:{r['contactid']}", "label": f"{r['fullname']} (contact)"}
            for r in env.all_rows("contact")
        ]
        currencies = [
            {"id": r["transactioncurrencyid"], "label": f"{r['isocurrencycode']} – {r['currencyname']}"}
            for r in env.all_rows("transactioncurrency")
        ]
        products = [
            {"id": r["productid"], "label": f"{r['productnumber']} – {r['name']}"}
            for r in env.all_rows("product")
        ]
        page = TEMPLATES.get_template("new").render(
            title="New invoice",
            base=base,
            env_name=env.friendly_name,
            form=form,
            error=error,
            customers=customers,
            currencies=currencies,
            products=products,
        )
        return _html(page, 400 if error else 200)

    def _create(self, env: EnvironmentState, base: str, form: dict[str, str]) -> Response:
        ctx = self._context(env)
        snapshot = env.snapshot()
        try:
            kind, _, customer_id = form.get("customer", "").partition(":")
            values: Row = {
                "name": form.get("name") or None,
                "invoicenumber": form.get("invoicenumber") or None,
                "customerid": Ref(customer_id, kind) if customer_id else None,
                "transactioncurrencyid": Ref(form["currency"], "transactioncurrency")
                if form.get("currency")
                else None,
                "duedate": parse_datetime(form["duedate"], True) if form.get("duedate") else None,
            }
            invoice = create_row(env, env.tables["invoice"], values, ctx)
            for n in (1, 2, 3):
                line = _line_values(form, n)
                if line is not None:
                    line["invoiceid"] = Ref(invoice["invoiceid"], "invoice")
                    create_row(env, env.tables["invoicedetail"], line, ctx)
        except (errors.DataverseError, ValueError) as exc:
            env.restore(snapshot)
            return self._new(env, base, form, getattr(exc, "message", None) or str(exc))
        self.webhooks.publish(env, ctx)
        return redirect(f"{base}/invoices/{invoice['invoiceid']}", code=303)

    def _edit(self, env: EnvironmentState, base: str, invoice_id: str, error: str | None) -> Response:
        invoice = env.get("invoice", invoice_id) or {}
        lines = sorted(
            (
                r
                for r in env.all_rows("invoicedetail")
                if isinstance(r.get("invoiceid"), Ref) and r["invoiceid"].id == invoice_id
            ),
            key=lambda r: r.get("lineitemnumber") or 0,
        )
        shown = [
            {**r, "product": self._name(env, r.get("productid")) or r.get("productdescription") or ""}
            for r in lines
        ]
        page = TEMPLATES.get_template("edit").render(
            title=f"Invoice {invoice.get('invoicenumber') or ''}",
            base=base,
            env_name=env.friendly_name,
            inv=invoice,
            lines=shown,
            status=self._formatted(env, invoice, "statuscode"),
            customer=self._name(env, invoice.get("customerid")),
            total=self._formatted(env, invoice, "totalamount"),
            duedate=(invoice.get("duedate") or "")[:10],
            read_only=invoice.get("statecode") in (2, 3),
            error=error,
            xero_columns=self._xero_columns(env),
        )
        return _html(page, 400 if error else 200)

    def _save(self, env: EnvironmentState, base: str, invoice_id: str, form: dict[str, str]) -> Response:
        def save(ctx: WriteContext) -> None:
            invoice = env.get("invoice", invoice_id) or {}
            changes: Row = {}
            if form.get("name", invoice.get("name")) != invoice.get("name"):
                changes["name"] = form["name"]
            duedate = parse_datetime(form["duedate"], True) if form.get("duedate") else None
            if "duedate" in form and duedate != invoice.get("duedate"):
                changes["duedate"] = duedate
            if changes:
                update_row(env, env.tables["invoice"], invoice_id, changes, ctx)
            for key, value in form.items():
                line = (
                    env.get("invoicedetail", key.removeprefix("quantity-"))
                    if key.startswith("quantity-")
                    else None
                )
                if line is not None and value.strip() and float(value) != line.get("quantity"):
                    update_row(
                        env,
                        env.tables["invoicedetail"],
                        line["invoicedetailid"],
                        {"quantity": float(value)},
                        ctx,
                    )

        return self._write(env, base, invoice_id, save)

    def _write(
        self, env: EnvironmentState, base: str, invoice_id: str, action: Callable[[WriteContext], Any]
    ) -> Response:
        ctx = self._context(env)
        snapshot = env.snapshot()
        try:
            action(ctx)
        except (errors.DataverseError, ValueError) as exc:
            env.restore(snapshot)
            return self._edit(env, base, invoice_id, getattr(exc, "message", None) or str(exc))
        self.webhooks.publish(env, ctx)
        return redirect(f"{base}/invoices/{invoice_id}", code=303)

    def _context(self, env: EnvironmentState) -> WriteContext:
        admin = next((uid for uid, kind in env.user_kinds.items() if kind == "admin"), SYSTEM)
        return self.webhooks.context_for(admin, None)

    def _xero_columns(self, env: EnvironmentState) -> list[dict[str, str]]:
        return [
            {"name": n, "label": label} for n, label in XERO_COLUMNS if n in env.tables["invoice"].attributes
        ]

    def _name(self, env: EnvironmentState, ref: Any) -> str:
        if not isinstance(ref, Ref) or ref.table not in env.tables:
            return ""
        row = env.get(ref.table, ref.id) or {}
        return str(row.get(env.tables[ref.table].primary_name) or "")

    def _formatted(self, env: EnvironmentState, row: Row, column: str) -> str:
        if not row:
            return ""
        record = Formatter(env, annotation_filter('odata.include-annotations="*"')).record(
            env.tables["invoice"], row, QueryOptions(select=[column])
        )
        return str(record.get(f"{column}@OData.Community.Display.V1.FormattedValue") or "")


def _line_values(form: dict[str, str], n: int) -> Row | None:
    product, text = form.get(f"line{n}-product", ""), form.get(f"line{n}-description", "").strip()
    quantity = form.get(f"line{n}-quantity", "").strip()
    if not product and not text:
        return None
    values: Row = {"quantity": float(quantity or "1")}
    if product:
        values["productid"] = Ref(product, "product")
    else:
        values.update({"isproductoverridden": True, "productdescription": text})
    for field, column in (("price", "priceperunit"), ("discount", "manualdiscountamount")):
        raw = form.get(f"line{n}-{field}", "").strip()
        if raw:
            values[column] = float(raw)
    if not product and "priceperunit" not in values:
        raise ValueError(f"Line {n}: a write-in line needs a price per unit.")
    return values


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/html; charset=utf-8")
