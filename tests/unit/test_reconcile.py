"""Xero's total against the Dynamics total: silent within rounding, else a warning naming the cause."""

from __future__ import annotations

from shared.sync.reconcile import totals_warning


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
