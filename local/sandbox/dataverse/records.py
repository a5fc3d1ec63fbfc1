"""Create, update and delete rows with Dataverse's rules: system columns, versionnumber on every change,
alternate-key uniqueness, state/status pairs, invoice pricing, read-only paid/canceled invoices.

Every change is recorded as a `Change` in the caller's `WriteContext`; the caller hands those to the
webhook dispatcher once the work is committed (a failed atomic change set publishes nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import errors
from .metadata_builtin import INVOICE_READ_ONLY_STATES
from .metadata_model import BOOLEAN, Table
from .pricing import INVOICE_TOTAL_COLUMNS, invoice_totals, line_amounts, price_list_item, volume_discount
from .store import EnvironmentState, Ref, Row, new_id, utc_now_iso

STATE_COLUMNS = ("statecode", "statuscode")


@dataclass
class Change:
    message: str  # Create, Update, Delete
    table: str
    row_id: str
    target: Row  # the columns the request carried (Create: every column that has a value)
    image: Row  # the row after the change (before it, for Delete)
    user_id: str
    before: Row | None = None  # the row before the change (None for Create): what a pre-image shows


@dataclass
class WriteContext:
    user_id: str
    correlation_id: str
    depth: int = 1
    changes: list[Change] = field(default_factory=list)


def create_row(
    env: EnvironmentState, table: Table, values: Row, ctx: WriteContext, row_id: str | None = None
) -> Row:
    row_id = (row_id or values.get(table.primary_id) or new_id()).lower()
    if env.get(table.logical_name, row_id) is not None:
        raise errors.already_exists()
    row: Row = {name: (False if a.type == BOOLEAN else None) for name, a in table.attributes.items()}
    row.update(_writable(table, values))
    now, user = utc_now_iso(), Ref(ctx.user_id, "systemuser")
    row.update(
        {table.primary_id: row_id, "createdon": now, "modifiedon": now, "createdby": user, "modifiedby": user}
    )
    row["versionnumber"] = env.next_version()
    if table.logical_name == "invoice" and not row.get("invoicenumber"):
        # Dynamics numbers invoices itself (auto-number "INV-01001-B7K2Q9")
        row["invoicenumber"] = f"INV-{1000 + len(env.rows['invoice']) + 1:05d}-{row_id[:6].upper()}"
    _apply_state(table, row, values)
    _apply_rules(env, table, row, None)
    _check_keys(env, table, row)
    env.rows[table.logical_name][row_id] = row
    target = {k: v for k, v in row.items() if v is not None}
    ctx.changes.append(Change("Create", table.logical_name, row_id, target, dict(row), ctx.user_id))
    _after_line_change(env, table, row, None, ctx)
    return row


def update_row(env: EnvironmentState, table: Table, row_id: str, values: Row, ctx: WriteContext) -> Row:
    current = env.get(table.logical_name, row_id)
    if current is None:
        raise errors.record_missing(table.logical_name, row_id)
    before = dict(current)
    _refuse_read_only(env, table, current, values)
    row = dict(current)
    submitted = _writable(table, values)
    row.update(submitted)
    _apply_state(table, row, values)
    _apply_rules(env, table, row, before)
    _check_keys(env, table, row)
    row.update({"modifiedon": utc_now_iso(), "modifiedby": Ref(ctx.user_id, "systemuser")})
    row["versionnumber"] = env.next_version()
    env.rows[table.logical_name][row[table.primary_id]] = row
    derived = [
        k for k in (*INVOICE_TOTAL_COLUMNS, "statuscode", "fullname") if k in row and row[k] != before.get(k)
    ]
    target = {
        k: row[k] for k in (*submitted, *derived, table.primary_id, "modifiedon", "modifiedby") if k in row
    }
    ctx.changes.append(
        Change("Update", table.logical_name, row[table.primary_id], target, dict(row), ctx.user_id, before)
    )
    _after_line_change(env, table, row, before, ctx)
    return row


def delete_row(
    env: EnvironmentState, table: Table, row_id: str, ctx: WriteContext, cascade: bool = False
) -> None:
    row = env.get(table.logical_name, row_id)
    if row is None:
        raise errors.record_missing(table.logical_name, row_id)
    if table.logical_name == "invoicedetail" and not cascade:
        _refuse_read_only_parent(env, row)
    for child in _children(env, table, row[table.primary_id]):
        delete_row(env, env.tables[child[0]], child[1], ctx, cascade=True)
    del env.rows[table.logical_name][row[table.primary_id]]
    target = {table.primary_id: row[table.primary_id]}
    ctx.changes.append(
        Change("Delete", table.logical_name, row[table.primary_id], target, dict(row), ctx.user_id, dict(row))
    )
    if not cascade:  # the parent is going away: no point recalculating it
        _after_line_change(env, table, None, row, ctx)


def find_by_key(env: EnvironmentState, table: Table, key_values: dict[str, Any]) -> Row | None:
    for row in env.all_rows(table.logical_name):
        if all(_same(row.get(k), v) for k, v in key_values.items()):
            return row
    return None


def _same(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, str) and isinstance(wanted, str):
        return stored.lower() == wanted.lower()  # Dataverse compares keys case-insensitively (SQL collation)
    return bool(stored == wanted)


def _writable(table: Table, values: Row) -> Row:
    return {k: v for k, v in values.items() if k in table.attributes and not table.attributes[k].computed}


def _children(env: EnvironmentState, table: Table, row_id: str) -> list[tuple[str, str]]:
    found = []
    for nav in table.one_to_many.values():
        child_table = env.tables[nav.table]
        for child in env.all_rows(nav.table):
            ref = child.get(nav.attribute)
            if isinstance(ref, Ref) and ref.id == row_id:
                found.append((nav.table, child[child_table.primary_id]))
    return found


def _apply_state(table: Table, row: Row, values: Row) -> None:
    """statecode alone picks that state's default status; a status must belong to its state."""
    status = table.attributes.get("statuscode")
    if status is None:
        return
    if row.get("statecode") is None:
        row["statecode"] = 0
    if "statecode" in values and "statuscode" not in values:
        row["statuscode"] = status.default_status.get(row["statecode"])
    if row.get("statuscode") is None:
        row["statuscode"] = status.default_status.get(row["statecode"])
    if status.status_state.get(row["statuscode"]) != row["statecode"]:
        raise errors.validation(
            f"{row['statuscode']} is not a valid status code for state code {table.display_name}State."
            f"{table.attributes['statecode'].options.get(row['statecode'], row['statecode'])} on "
            f"{table.logical_name} with Id {row.get(table.primary_id)}.",
            code="0x80040203",
        )


def _refuse_read_only(env: EnvironmentState, table: Table, row: Row, values: Row) -> None:
    read_only = table.logical_name == "invoice" and row.get("statecode") in INVOICE_READ_ONLY_STATES
    only_state = set(_writable(table, values)) <= set(STATE_COLUMNS) and "statecode" in values
    if read_only and not only_state:  # a paid/canceled invoice may only change its state back
        raise errors.read_only_invoice(row["invoiceid"])
    if table.logical_name == "invoicedetail":
        _refuse_read_only_parent(env, row)
        if isinstance(values.get("invoiceid"), Ref):
            _refuse_read_only_parent(env, values)


def _refuse_read_only_parent(env: EnvironmentState, line: Row) -> None:
    parent_ref = line.get("invoiceid")
    parent = env.get("invoice", parent_ref.id) if isinstance(parent_ref, Ref) else None
    if parent is not None and parent.get("statecode") in INVOICE_READ_ONLY_STATES:
        raise errors.read_only_invoice(parent["invoiceid"])


def _apply_rules(env: EnvironmentState, table: Table, row: Row, before: Row | None) -> None:
    name = table.logical_name
    if name == "contact":
        row["fullname"] = " ".join(p for p in (row.get("firstname"), row.get("lastname")) if p) or None
    if (
        name in ("invoice", "account", "contact", "product", "pricelevel")
        and row.get("transactioncurrencyid") is None
    ):
        row["transactioncurrencyid"] = _base_currency(env)
    if name == "invoice":
        row.update(invoice_totals(row, _lines(env, row["invoiceid"])))
    if name == "invoicedetail":
        _line_rules(env, row, before)


def _line_rules(env: EnvironmentState, row: Row, before: Row | None) -> None:
    parent_ref = row.get("invoiceid")
    parent = env.get("invoice", parent_ref.id) if isinstance(parent_ref, Ref) else None
    if parent is None:
        raise errors.validation("Invoice Id is required for an invoice product.", code="0x80040203")
    if before is None:
        _refuse_read_only_parent(env, row)
    row["transactioncurrencyid"] = parent.get("transactioncurrencyid")
    product = env.get("product", row["productid"].id) if isinstance(row.get("productid"), Ref) else None
    if product is None and not row.get("isproductoverridden"):
        raise errors.validation(
            "The product or a write-in product description is required.", code="0x80040203"
        )
    if product is not None:
        if row.get("uomid") is None:
            row["uomid"] = product.get("defaultuomid")
        item = price_list_item(env, parent, product, row)
        # Learn ("Configure product pricing"; invoicedetail.ispriceoverridden): the price comes from the
        # invoice's price list unless the line overrides it
        if item is not None and (not row.get("ispriceoverridden") or row.get("priceperunit") is None):
            row["priceperunit"] = item.get("amount") or 0.0
        elif row.get("priceperunit") is None:
            # Dynamics flags "Product Not In Price Level" here; the sandbox falls back to the product's
            # list price (unverified leniency, kept for rows written before price lists were modelled)
            row["priceperunit"] = product.get("price") or 0.0
        row["volumediscountamount"] = volume_discount(env, item, row)
    else:
        row["volumediscountamount"] = 0.0
    if row.get("lineitemnumber") is None:
        numbers = [x.get("lineitemnumber") or 0 for x in _lines(env, parent["invoiceid"])]
        row["lineitemnumber"] = max(numbers, default=0) + 1
    row.update(line_amounts(row))


def _after_line_change(
    env: EnvironmentState, table: Table, row: Row | None, before: Row | None, ctx: WriteContext
) -> None:
    """A line change recalculates its invoice: Dynamics saves the new totals as an Update of the invoice."""
    if table.logical_name != "invoicedetail":
        return
    parents = {r["invoiceid"].id for r in (row, before) if r and isinstance(r.get("invoiceid"), Ref)}
    for parent_id in parents:
        invoice = env.get("invoice", parent_id)
        if invoice is None:
            continue
        totals = invoice_totals(invoice, _lines(env, parent_id))
        if all(invoice.get(k) == v for k, v in totals.items()):
            continue
        updated = {
            **invoice,
            **totals,
            "modifiedon": utc_now_iso(),
            "modifiedby": Ref(ctx.user_id, "systemuser"),
        }
        updated["versionnumber"] = env.next_version()
        env.rows["invoice"][parent_id] = updated
        target = {k: updated[k] for k in (*totals, "invoiceid", "modifiedon", "modifiedby")}
        ctx.changes.append(
            Change("Update", "invoice", parent_id, target, dict(updated), ctx.user_id, dict(invoice))
        )


def _lines(env: EnvironmentState, invoice_id: str) -> list[Row]:
    return [
        r
        for r in env.all_rows("invoicedetail")
        if isinstance(r.get("invoiceid"), Ref) and r["invoiceid"].id == invoice_id
    ]


def _base_currency(env: EnvironmentState) -> Ref | None:
    rows = sorted(env.all_rows("transactioncurrency"), key=lambda r: r.get("createdon") or "")
    base = next((r for r in rows if r.get("isocurrencycode") == "USD"), rows[0] if rows else None)
    return Ref(base["transactioncurrencyid"], "transactioncurrency") if base else None


def _check_keys(env: EnvironmentState, table: Table, row: Row) -> None:
    for key in table.keys.values():
        wanted = {a: row.get(a) for a in key.attributes}
        if any(v is None for v in wanted.values()):
            continue
        other = find_by_key(env, table, wanted)
        if other is not None and other[table.primary_id] != row[table.primary_id]:
            raise errors.duplicate_key(table.logical_name, key.logical_name, key.attributes)
