"""Xero's total against the Dynamics total: silent within rounding, else a warning naming the cause."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.dataverse import schema
from shared.sync.reconcile import totals_warning
from shared.sync.write_back import success_values


def doc(total: float, tax: float, discount: float = 0.0, lines: int = 2) -> dict[str, object]:
    return {
        "totalamount": total,
        "totaltax": tax,
        "totaldiscountamount": discount,
        "invoice_details": [{"quantity": 1}] * lines,
    }


def test_agreement_within_a_cent_a_line_is_silent() -> None:
    assert totals_warning(doc(115.0, 15.0), {"Total": 115.02, "TotalTax": 15.02}) == ""
    assert totals_warning({"totalamount": None}, {"Total": 1}) == ""


def test_the_cause_is_named() -> None:
    tax = totals_warning(doc(100.0, 0.0), {"Total": 115.0, "TotalTax": 15.0})
    assert tax.startswith("Warning: Xero's total 115.00 differs from the Dynamics total 100.00")
    assert "the tax differs" in tax and "fix:" in tax
    discount = totals_warning(doc(90.0, 0.0, discount=10.0), {"Total": 80.0, "TotalTax": 0.0})
    assert "discount of 10.00" in discount
    rounding = totals_warning(doc(100.0, 10.0), {"Total": 100.2, "TotalTax": 10.02})
    assert "rounding" in rounding


def test_the_warning_rides_in_the_success_write_and_an_empty_one_clears_it() -> None:
    now = datetime(2026, 12, 8, tzinfo=UTC)
    sent = {"InvoiceID": "x-1", "InvoiceNumber": "INV-1", "Status": "DRAFT"}
    warned = success_values(sent, "d", now, warning="Warning: Xero's total 11.50 differs")
    assert warned[schema.INVOICE_SYNC_WARNING] == "Warning: Xero's total 11.50 differs"
    assert warned[schema.INVOICE_SYNC_ERROR] == ""  # a warning is not a failure
    assert success_values(sent, "d", now, warning="")[schema.INVOICE_SYNC_WARNING] == ""
    # a cancel's write (no totals compared) leaves the warning shown as it is
    assert schema.INVOICE_SYNC_WARNING not in success_values(sent, "d", now)


def test_without_amounts_the_same_cause_and_fix_carry_no_figure() -> None:
    cases = [
        (doc(100.0, 0.0), {"Total": 115.0, "TotalTax": 15.0}, "the tax differs"),
        (doc(90.0, 0.0, discount=10.0), {"Total": 80.0, "TotalTax": 0.0}, "the discount was applied"),
        (doc(100.0, 10.0), {"Total": 100.2, "TotalTax": 10.02}, "rounding — Xero rounds each line's tax"),
    ]
    for ours, theirs, cause in cases:
        said = totals_warning(ours, theirs, amounts=False)
        assert said.startswith("Warning: Xero's total differs from the Dynamics total: ") and cause in said
        assert not any(char.isdigit() for char in said), said
        assert said.split(" — ")[-1] == totals_warning(ours, theirs).split(" — ")[-1]
