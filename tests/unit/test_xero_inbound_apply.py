"""The Xero events worker with fakes at its two boundaries (Dataverse, Xero): what it reads, how many
calls it spends, and what it writes. End to end over real HTTP: tests/integration/test_xero_to_dynamics.py."""

from __future__ import annotations

from typing import Any

from shared.dataverse import schema
from shared.dataverse.batch import BatchRequest, BatchResponse
from shared.store.models import Connection
from shared.store.sync_settings import SyncSettings
from shared.xero_inbound.apply import InboundParts, apply_xero_changes, handle_xero_message
from shared.xero_inbound.changes import change_for
from shared.xero_inbound.messages import XeroInvoicesMessage

TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
X1, X2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
D1, D2 = "aaaaaaaa-1111-1111-1111-111111111111", "aaaaaaaa-2222-2222-2222-222222222222"


class FakeDataverse:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows, self.gets, self.batches = rows, [], []  # type: ignore[var-annotated]

    def get(self, path: str) -> dict[str, Any]:
        self.gets.append(path)
        return {"value": [r for r in self.rows if f"'{r[schema.INVOICE_XERO_ID]}'" in path]}

    def update(self, entity_set: str, row_id: str, values: dict[str, Any], etag: str | None = None) -> None:
        raise AssertionError("the worker writes through $batch only")

    def batch(self, requests_: list[BatchRequest]) -> list[BatchResponse]:
        self.batches.append(requests_)
        return [BatchResponse(204, {}, None) for _ in requests_]


class FakeXero:
    def __init__(self, invoices: list[dict[str, Any]]) -> None:
        self.invoices, self.calls = invoices, []  # type: ignore[var-annotated]

    def get(self, resource: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.calls.append((resource, params))
        wanted = set((params or {}).get("IDs", "").split(","))
        return {"Invoices": [i for i in self.invoices if i["InvoiceID"] in wanted]}


class Connections:
    def __init__(self, connections: list[Connection]) -> None:
        self.connections = connections

    def list_for_xero_tenant(self, tenant_id: str) -> list[Connection]:
        return [c for c in self.connections if c.xero.tenant_id == tenant_id]


def _connection(close_paid: bool = False) -> Connection:
    connection = Connection(
        id="c1", account_id="a1", status="active", sync=SyncSettings(close_paid_invoices=close_paid)
    )
    connection.xero.tenant_id = TENANT
    return connection


def _row(invoice_id: str, xero_id: str, **values: Any) -> dict[str, Any]:
    return {"invoiceid": invoice_id, "statecode": 0, schema.INVOICE_XERO_ID: xero_id,
            schema.INVOICE_XERO_STATUS: "AUTHORISED", **values}  # fmt: skip


def _xero(
    xero_id: str, status: str, paid: float, due: float, updated_ms: int = 1_700_000_000_000
) -> dict[str, Any]:
    invoice = {"InvoiceID": xero_id, "Status": status, "AmountPaid": paid, "AmountDue": due,
               "UpdatedDateUTC": f"/Date({updated_ms}+0000)/"}  # fmt: skip
    if status == "PAID":
        invoice["FullyPaidOnDate"] = f"/Date({updated_ms}+0000)/"
    return invoice


def _parts(connections: list[Connection], dataverse: FakeDataverse, xero: FakeXero) -> InboundParts:
    return InboundParts(
        Connections(connections), lambda c: dataverse, lambda c: xero, lambda body, delay: None
    )  # type: ignore[arg-type,return-value]


def test_several_invoices_of_one_organisation_cost_one_xero_read_and_one_batch() -> None:
    dataverse = FakeDataverse([_row(D1, X1), _row(D2, X2)])
    xero = FakeXero([_xero(X1, "PAID", 100, 0), _xero(X2, "AUTHORISED", 20, 80)])
    outcome = apply_xero_changes(
        XeroInvoicesMessage(TENANT, (X1, X2)), _parts([_connection()], dataverse, xero)
    )
    counts = (len(xero.calls), len(dataverse.gets), len(dataverse.batches))
    assert (outcome.result, outcome.written, counts) == ("written", 2, (1, 1, 1))
    assert xero.calls[0][1]["IDs"] == f"{X1},{X2}"
    written = {r.path: r.body for r in dataverse.batches[0]}
    assert written[f"invoices({D1})"][schema.INVOICE_XERO_STATUS] == "PAID"
    assert written[f"invoices({D1})"][schema.INVOICE_XERO_PAID_ON] == "2023-11-14"
    assert written[f"invoices({D2})"][schema.INVOICE_XERO_AMOUNT_DUE] == 80.0


def test_an_unknown_organisation_costs_no_read_at_all() -> None:
    dataverse, xero = FakeDataverse([]), FakeXero([])
    outcome = apply_xero_changes(
        XeroInvoicesMessage("99999999-9999-9999-9999-999999999999", (X1,)),
        _parts([_connection()], dataverse, xero),
    )
    assert (outcome.result, dataverse.gets, xero.calls) == ("unknown-tenant", [], [])


def test_a_disconnected_connection_is_not_written_for() -> None:
    connection = _connection()
    connection.status = "disconnected"
    dataverse, xero = FakeDataverse([_row(D1, X1)]), FakeXero([_xero(X1, "PAID", 100, 0)])
    outcome = apply_xero_changes(XeroInvoicesMessage(TENANT, (X1,)), _parts([connection], dataverse, xero))
    assert (outcome.result, dataverse.batches, xero.calls) == ("unknown-tenant", [], [])


def test_invoices_dynamics_does_not_hold_cost_no_xero_call() -> None:
    dataverse, xero = FakeDataverse([_row(D1, X1)]), FakeXero([])
    outcome = apply_xero_changes(XeroInvoicesMessage(TENANT, (X2,)), _parts([_connection()], dataverse, xero))
    assert (outcome.result, xero.calls, dataverse.batches) == ("unknown-invoices", [], [])


def test_what_dynamics_already_shows_is_not_written_again() -> None:
    shown = _row(D1, X1, **{schema.INVOICE_XERO_AMOUNT_PAID: 20, schema.INVOICE_XERO_AMOUNT_DUE: 80})
    dataverse, xero = FakeDataverse([shown]), FakeXero([_xero(X1, "AUTHORISED", 20, 80)])
    outcome = apply_xero_changes(XeroInvoicesMessage(TENANT, (X1,)), _parts([_connection()], dataverse, xero))
    assert (outcome.result, dataverse.batches) == ("unchanged", [])


def test_an_older_read_never_overwrites_a_newer_one() -> None:
    newer = _row(D1, X1, **{schema.INVOICE_XERO_UPDATED_AT: "2030-01-01T00:00:00.000Z"})
    assert change_for(_xero(X1, "AUTHORISED", 0, 100), newer, close_paid=False) is None


def test_closing_as_paid_writes_the_columns_before_the_state() -> None:
    dataverse, xero = FakeDataverse([_row(D1, X1)]), FakeXero([_xero(X1, "PAID", 100, 0)])
    apply_xero_changes(
        XeroInvoicesMessage(TENANT, (X1,)), _parts([_connection(close_paid=True)], dataverse, xero)
    )
    [batch] = dataverse.batches
    assert [r.body for r in batch][1] == {"statecode": 2, "statuscode": 100001}
    assert schema.INVOICE_XERO_STATUS in (batch[0].body or {})


def test_a_paid_or_cancelled_dynamics_invoice_is_left_as_it_is() -> None:
    for state in (2, 3):
        assert change_for(_xero(X1, "VOIDED", 0, 0), _row(D1, X1, statecode=state), close_paid=True) is None


def test_a_rate_limit_puts_a_delayed_copy_back() -> None:
    from shared.errors import RetriableError

    class Throttled(FakeXero):
        def get(self, resource: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            raise RetriableError("minute limit", retry_after=7)

    requeued: list[tuple[str, int]] = []
    parts = _parts([_connection()], FakeDataverse([_row(D1, X1)]), Throttled([]))
    parts.requeue = lambda body, delay: requeued.append((body, delay))
    outcome = handle_xero_message(XeroInvoicesMessage(TENANT, (X1,)).to_json(), "inv", parts)
    assert outcome.result == "deferred"
    assert [(XeroInvoicesMessage.from_json(b).deferrals, d) for b, d in requeued] == [(1, 7)]


def test_out_of_step_means_never_written_or_changed_after_the_connectors_write() -> None:
    from shared.xero_inbound.changes import out_of_step

    synced = {schema.INVOICE_SYNCED_ON: "2026-01-01T10:00:00Z"}
    assert out_of_step({"modifiedon": "2026-01-01T10:00:00Z"})  # its webhook never reached the connector
    assert not out_of_step({**synced, "modifiedon": "2026-01-01T10:00:02Z"})  # the connector's own write
    assert out_of_step({**synced, "modifiedon": "2026-01-01T10:03:00Z"})  # a person's later edit


def test_a_xero_change_written_on_a_row_holding_an_unseen_edit_leaves_that_edit_for_the_sweep() -> None:
    edited = _row(
        D1, X1, **{schema.INVOICE_SYNCED_ON: "2026-01-01T10:00:00Z", "modifiedon": "2026-01-01T11:00:00Z"}
    )
    in_step = _row(
        D2, X2, **{schema.INVOICE_SYNCED_ON: "2026-01-01T10:00:00Z", "modifiedon": "2026-01-01T10:00:01Z"}
    )
    dataverse = FakeDataverse([edited, in_step])
    xero = FakeXero([_xero(X1, "PAID", 100, 0), _xero(X2, "PAID", 100, 0)])
    apply_xero_changes(XeroInvoicesMessage(TENANT, (X1, X2)), _parts([_connection()], dataverse, xero))
    written = {r.path: r.body or {} for r in dataverse.batches[0]}
    assert schema.INVOICE_SYNCED_ON not in written[f"invoices({D1})"]
    assert schema.INVOICE_SYNCED_ON in written[f"invoices({D2})"]


def test_a_revoked_xero_consent_completes_the_message_instead_of_poisoning_the_queue() -> None:
    from shared.errors import ReconnectRequired

    class Revoked(FakeXero):
        def get(self, resource: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            raise ReconnectRequired("xero", "consent withdrawn")

    parts = _parts([_connection()], FakeDataverse([_row(D1, X1)]), Revoked([]))
    assert handle_xero_message(XeroInvoicesMessage(TENANT, (X1,)).to_json(), "inv", parts).result == "failed"
