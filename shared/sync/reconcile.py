"""After a push: does Xero's total agree with the Dynamics invoice's? The two systems calculate on their own
(Xero works tax out per line from each TaxType and rounds each line, its spec's LineItem.TaxAmount; Dynamics
sums what its own tax engine put on the lines), so a difference beyond rounding means a setting disagrees.
The warning names the cause when the figures show it: the tax, the discount, or rounding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.sync.mapping_common import decimal_or_none
from shared.sync.mapping_items import lines_of

WARNING = "Warning: "
_CENT = Decimal("0.01")


def totals_warning(doc: dict[str, Any], invoice: dict[str, Any], amounts: bool = True) -> str:
    """ "" when the totals agree within rounding (a cent a line, Xero rounding each line's tax).

    With amounts (written on the Dynamics invoice, which holds them anyway) the figures are named; without
    them the same words go to the portal's activity and the logs, which keep no amounts (the
    connection-metadata rule, README "What is stored")."""
    ours, theirs = decimal_or_none(doc.get("totalamount")), decimal_or_none(invoice.get("Total"))
    if ours is None or theirs is None:
        return ""
    tolerance = _CENT * (len(lines_of(doc)) + 1)
    if abs(ours - theirs) <= tolerance:
        return ""

    def figure(text: str, value: Decimal) -> str:
        return f"{text} {value:.2f}" if amounts else text

    xero_total, dynamics_total = figure("Xero's total", theirs), figure("the Dynamics total", ours)
    said = f"{WARNING}{xero_total} differs from {dynamics_total}"
    our_tax, their_tax = decimal_or_none(doc.get("totaltax")), decimal_or_none(invoice.get("TotalTax"))
    if our_tax is not None and their_tax is not None and abs(our_tax - their_tax) > tolerance:
        both = f" (Dynamics {our_tax:.2f}, Xero {their_tax:.2f})" if amounts else ""
        return (
            f"{said}: the tax differs{both} — fix: make the "
            "tax rate of the connection's default tax type (or the account's) the one Dynamics charges, "
            "or the other way round"
        )
    our_discount = decimal_or_none(doc.get("totaldiscountamount")) or Decimal(0)
    if our_discount > 0:
        return (
            f"{said}: {figure('the discount of', our_discount) if amounts else 'the discount'} was applied "
            "differently — fix: check the invoice's discount lines in Xero"
        )
    return f"{said}: rounding — Xero rounds each line's tax, Dynamics the invoice's"
