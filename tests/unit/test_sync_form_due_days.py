"""The connection's default days to pay: whole days, 0 to 365, kept when the form leaves them out."""

from __future__ import annotations

import pytest

from shared.connections.sync_form import ValidationFailed, apply_form
from shared.store.sync_settings import SyncSettings


def test_days_are_read_and_kept() -> None:
    assert SyncSettings().default_due_days == 30
    assert apply_form(SyncSettings(), {"default_due_days": " 14 "}).default_due_days == 14
    assert apply_form(SyncSettings(default_due_days=7), {}).default_due_days == 7


@pytest.mark.parametrize("wrong", ["-1", "366", "two weeks", "7.5"])
def test_anything_else_is_named_wrong(wrong: str) -> None:
    with pytest.raises(ValidationFailed) as invalid:
        apply_form(SyncSettings(), {"default_due_days": wrong})
    assert invalid.value.field_errors == {"default_due_days": "Use a whole number of days from 0 to 365."}
