"""An unknown-property answer from Dataverse: our column (Install adds it back) or Dynamics' own."""

from __future__ import annotations

import pytest

from shared.dataverse.client_errors import MissingColumn, raise_for_answer
from shared.errors import FatalError


def _unknown(prop: str, table: str) -> dict[str, object]:
    # Learn, "Troubleshoot Dataverse Web API client errors": HTTP 400, code "0x0"
    message = f"Could not find a property named '{prop}' on type 'Microsoft.Dynamics.CRM.{table}'."
    return {"error": {"code": "0x0", "message": message}}


def test_a_missing_column_of_ours_names_it_and_the_fix() -> None:
    with pytest.raises(MissingColumn) as raised:
        raise_for_answer(400, {}, _unknown("dxc_xeroamountpaid", "invoice"), "read invoices(…)")
    assert raised.value.column == "dxc_xeroamountpaid"
    assert str(raised.value) == (
        "Dynamics lacks column dxc_xeroamountpaid that this version of the connector writes — fix: Install "
        "into Dynamics again on the connection's page"
    )


def test_a_missing_column_of_dynamics_own_is_a_plain_refusal_install_cannot_fix() -> None:
    with pytest.raises(FatalError) as raised:
        raise_for_answer(400, {}, _unknown("fullname", "campaign"), "read campaigns")
    assert not isinstance(raised.value, MissingColumn)
    assert "Could not find a property named 'fullname'" in str(raised.value)
