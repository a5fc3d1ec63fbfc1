"""Idempotency-Key: same business change, same key; any difference, another key."""

from __future__ import annotations

import pytest

from shared.sync.idempotency import MAX_LENGTH, idempotency_key

CONNECTION = "c-7f3a"
INVOICE = "8a1d4c62-3b7e-4f0a-9c55-2e6f1b7d9a01"


def test_the_same_change_always_gets_the_same_key() -> None:
    assert idempotency_key(CONNECTION, INVOICE, 5948377, "invoice") == idempotency_key(
        CONNECTION, INVOICE.upper(), "5948377", "invoice"
    )


def test_every_part_changes_the_key() -> None:
    base = idempotency_key(CONNECTION, INVOICE, 5948377, "invoice")
    others = {
        idempotency_key("c-other", INVOICE, 5948377, "invoice"),
        idempotency_key(CONNECTION, "8a1d4c62-3b7e-4f0a-9c55-2e6f1b7d9a02", 5948377, "invoice"),
        idempotency_key(CONNECTION, INVOICE, 5948378, "invoice"),
        idempotency_key(CONNECTION, INVOICE, 5948377, "contact"),
        idempotency_key(CONNECTION, INVOICE, 5948377, "items:2"),
    }
    assert base not in others and len(others) == 5


def test_keys_fit_xeros_limit_and_show_the_step() -> None:
    key = idempotency_key("c" * 500, INVOICE, "v" * 500, "cancel")
    assert len(key) <= MAX_LENGTH and key.startswith("dxc-cancel-")


@pytest.mark.parametrize(("version", "step"), [("", "invoice"), (5, ""), (5, "Invoice Call"), (5, "x" * 40)])
def test_incomplete_or_odd_parts_are_refused(version: int | str, step: str) -> None:
    with pytest.raises(ValueError):
        idempotency_key(CONNECTION, INVOICE, version, step)
