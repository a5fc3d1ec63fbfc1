"""What the connector may still do to an invoice Xero already holds."""

from __future__ import annotations

import pytest

from shared.sync.mapping_status import can_update, cancel_action


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("AUTHORISED", "VOIDED"),
        ("DRAFT", "DELETED"),
        ("SUBMITTED", "DELETED"),
        ("PAID", None),
        ("VOIDED", None),
        ("DELETED", None),
        ("authorised", "VOIDED"),
    ],
)
def test_cancel_action(status: str, action: str | None) -> None:
    assert cancel_action(status) == action


@pytest.mark.parametrize(
    ("status", "paid", "allowed", "reason_has"),
    [
        ("DRAFT", 0, True, ""),
        ("AUTHORISED", None, True, ""),
        ("AUTHORISED", 0.01, False, "payments"),
        ("AUTHORISED", "12.50", False, "payments"),
        ("PAID", 100, False, "paid in Xero"),
        ("VOIDED", 0, False, "voided in Xero"),
        ("DELETED", 0, False, "deleted in Xero"),
    ],
)
def test_can_update(status: str, paid: object, allowed: bool, reason_has: str) -> None:
    ok, reason = can_update(status, paid)
    assert ok is allowed
    assert (reason_has in reason) if reason_has else reason == ""
