"""Idempotency-Key: the same key (per org, path and method) replays the first answer, doing nothing again."""

from __future__ import annotations

from local.sandbox.tests.xero.conftest import AU, XeroClient, invoice


def test_the_same_key_replays_the_first_answer_exactly(xero: XeroClient) -> None:
    key = {"Idempotency-Key": "dyn-invoice-7f3a"}
    first = xero.put("Invoices", {"Invoices": [invoice()]}, headers=key)
    second = xero.put("Invoices", {"Invoices": [invoice(Reference="changed")]}, headers=key)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert len(xero.sandbox.state.records(xero.tenant_id, "Invoices")) == 1


def test_a_refused_answer_is_replayed_too(xero: XeroClient) -> None:
    key = {"Idempotency-Key": "bad-one"}
    first = xero.put("Invoices", {"Invoices": [invoice(CurrencyCode="EUR")]}, headers=key)
    second = xero.put("Invoices", {"Invoices": [invoice()]}, headers=key)
    assert first.status_code == second.status_code == 400 and first.content == second.content


def test_keys_are_scoped_by_org_path_and_method(xero: XeroClient) -> None:
    key = {"Idempotency-Key": "shared-key"}
    xero.put("Invoices", {"Invoices": [invoice()]}, headers=key)
    xero.post("Invoices", {"Invoices": [invoice()]}, headers=key)
    XeroClient(xero.sandbox, xero.spec, AU, xero.token).put(
        "Invoices", {"Invoices": [invoice() | {"LineItems": []}]}, headers=key
    )
    assert len(xero.sandbox.state.records(xero.tenant_id, "Invoices")) == 2
    assert len(xero.sandbox.state.records(AU, "Invoices")) == 1


def test_keys_longer_than_128_characters_are_refused(xero: XeroClient) -> None:
    response = xero.put("Invoices", {"Invoices": [invoice()]}, headers={"Idempotency-Key": "k" * 129})
    assert response.status_code == 400
    assert xero.sandbox.state.records(xero.tenant_id, "Invoices") == []
    assert (
        xero.put("Invoices", {"Invoices": [invoice()]}, headers={"Idempotency-Key": "k" * 128}).status_code
        == 200
    )
