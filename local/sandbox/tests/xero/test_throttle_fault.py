"""The throttle fault (429 + Retry-After, nothing done) and the per-organisation counts of admitted and
refused calls that benchmarks read from GET /_sandbox/limits."""

from __future__ import annotations

from local.sandbox.tests.xero.conftest import XeroClient, http


def _put(xero: XeroClient, what: str, **settings: object) -> None:
    assert http().put(f"{xero.sandbox.url}/_sandbox/{what}", json=settings, timeout=5).status_code == 200


def _counts(xero: XeroClient) -> dict:
    return http().get(f"{xero.sandbox.url}/_sandbox/limits", timeout=5).json()


def test_a_throttled_call_is_answered_429_with_retry_after_and_changes_nothing(xero: XeroClient) -> None:
    _put(xero, "faults", throttle_rate=1.0, throttle_retry_after=3)
    answer = xero.put("Contacts", {"Contacts": [{"Name": "Never"}]})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "3"
    assert answer.headers["X-Rate-Limit-Problem"] == "minute"
    assert xero.sandbox.state.records(xero.tenant_id, "Contacts") == []
    assert _counts(xero)["refused"][xero.tenant_id] == {"injected": 1}


def test_admitted_and_refused_calls_are_counted_per_organisation(xero: XeroClient) -> None:
    _put(xero, "limits", minute=2)
    statuses = [xero.get("Currencies").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    counts = _counts(xero)
    assert counts["admitted"][xero.tenant_id] == 2
    assert counts["refused"][xero.tenant_id] == {"minute": 1}
    assert http().post(f"{xero.sandbox.url}/_sandbox/limits/reset", timeout=5).status_code == 200
    assert _counts(xero)["admitted"] == {}
