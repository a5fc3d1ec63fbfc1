"""Faults on demand: errors without effect, slow answers past the client's timeout, writes that commit
but whose answer is lost, added latency; repeatable with a seed."""

from __future__ import annotations

import time

import pytest
import requests

from local.sandbox.tests.xero.conftest import XeroClient, http, invoice
from local.sandbox.xero import XeroSandbox


def _faults(sb: XeroSandbox, **settings: object) -> None:
    assert http().put(f"{sb.url}/_sandbox/faults", json=settings, timeout=5).status_code == 200


def test_errors_answer_500_or_503_and_change_nothing(xero: XeroClient) -> None:
    _faults(xero.sandbox, error_rate=1.0, seed=7)
    answers = {xero.put("Contacts", {"Contacts": [{"Name": "Never"}]}).status_code for _ in range(12)}
    assert answers == {500, 503}
    assert xero.sandbox.state.records(xero.tenant_id, "Contacts") == []
    # identity and control calls are not faulted
    assert http().get(f"{xero.sandbox.url}/_sandbox/orgs", timeout=5).status_code == 200


def test_slow_answers_outlast_the_client_timeout_and_still_happen(xero: XeroClient) -> None:
    _faults(xero.sandbox, slow_rate=1.0, slow_seconds=0.8)
    with pytest.raises(requests.exceptions.ReadTimeout):
        xero.put("Contacts", {"Contacts": [{"Name": "Slowpoke"}]}, timeout=0.3)
    deadline = time.monotonic() + 3
    while not xero.sandbox.state.records(xero.tenant_id, "Contacts") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c["Name"] for c in xero.sandbox.state.records(xero.tenant_id, "Contacts")] == ["Slowpoke"]


def test_a_lost_answer_still_commits_and_the_idempotency_key_replays_it(xero: XeroClient) -> None:
    _faults(xero.sandbox, lost_rate=1.0)
    key = {"Idempotency-Key": "push-invoice-42"}
    with pytest.raises(requests.exceptions.ConnectionError):
        xero.put("Invoices", {"Invoices": [invoice()]}, headers=key)
    stored = xero.sandbox.state.records(xero.tenant_id, "Invoices")
    assert [i["InvoiceNumber"] for i in stored] == ["INV-0001"]
    _faults(xero.sandbox, lost_rate=0.0)
    retried = xero.put("Invoices", {"Invoices": [invoice()]}, headers=key)
    assert retried.json()["Invoices"][0]["InvoiceID"] == stored[0]["InvoiceID"]
    assert len(xero.sandbox.state.records(xero.tenant_id, "Invoices")) == 1


def test_latency_is_added_to_every_call(xero: XeroClient) -> None:
    _faults(xero.sandbox, latency_ms=250)
    started = time.monotonic()
    assert xero.get("Currencies").status_code == 200
    assert time.monotonic() - started >= 0.25


def test_a_seed_makes_faults_repeatable(xero: XeroClient) -> None:
    def run() -> list[int]:
        _faults(xero.sandbox, error_rate=0.5, seed=42)
        return [xero.get("Currencies").status_code for _ in range(12)]

    first = run()
    xero.sandbox.state.limiter.reset()
    assert run() == first and 200 in first and len(set(first)) > 1
