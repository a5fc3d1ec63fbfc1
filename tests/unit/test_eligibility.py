"""Which invoices the push skips, and the reason the user reads."""

from __future__ import annotations

from typing import Any

import pytest

from shared.store.sync_settings import SyncSettings
from shared.sync.eligibility import ineligible_reason
from tests.unit.mapping_fixtures import invoice_document

XERO_ID = "243a4b2e-9f6c-4f3c-b1a2-5d6e7f8a9b0c"
NO_CUSTOMER = {"_customerid_value": None, "customerid_account": None, "customerid_contact": None}


def reason(changes: dict[str, Any], settings: SyncSettings | None = None) -> str | None:
    doc = invoice_document()
    doc.update(changes)
    return ineligible_reason(doc, settings or SyncSettings())


def test_the_sample_invoice_is_eligible() -> None:
    assert reason({}) is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"invoice_details": []}, "skipped: the invoice has no lines"),
        (NO_CUSTOMER, "skipped: the invoice has no customer"),
        ({"statecode": 2}, "skipped: the invoice was already paid in Dynamics before it was sent to Xero"),
        ({"statecode": 3}, "skipped: the invoice was cancelled before it was sent to Xero"),
    ],
)
def test_skip_reasons(changes: dict[str, Any], expected: str) -> None:
    assert reason(changes) == expected


def test_the_send_flag_matters_only_when_required() -> None:
    required = SyncSettings(require_send_flag=True)
    assert reason({"dxc_sendtoxero": None}) is None
    assert reason({"dxc_sendtoxero": True}, required) is None
    assert reason({"dxc_sendtoxero": False}, required) == "skipped: 'Send to Xero' is not set on the invoice"
    assert reason({"dxc_sendtoxero": None}, required) == "skipped: 'Send to Xero' is not set on the invoice"


def test_a_paid_invoice_already_in_xero_is_still_pushed() -> None:
    assert reason({"statecode": 2, "dxc_xeroinvoiceid": XERO_ID}) is None


def test_a_cancelled_invoice_in_xero_is_pushed_to_void_it_whatever_else() -> None:
    changes = {"statecode": 3, "dxc_xeroinvoiceid": XERO_ID, "invoice_details": [], "dxc_sendtoxero": False}
    assert reason(changes, SyncSettings(require_send_flag=True)) is None
