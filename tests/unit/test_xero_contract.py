"""The end-of-run contract check can fail: an undeclared property is caught by both oracles, and a request
body the SDK cannot express is caught by the round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from xero_python.accounting import models

from tests import xero_contract

CONTACT = {"ContactID": "3ff6d40c-af9a-40a3-89ce-3c1556a25591", "Name": "Ridgeway", "ContactStatus": "ACTIVE"}


def answer(contact: dict[str, Any]) -> dict[str, Any]:
    body = {"Id": "x", "Status": "OK", "ProviderName": "p", "DateTimeUTC": "/Date(1)/", "Contacts": [contact]}
    return {
        "method": "GET",
        "path": "/api.xro/2.0/Contacts",
        "query": "",
        "request": "",
        "status": 200,
        "response": json.dumps(body),
    }


def test_the_sdk_oracle_names_a_field_xero_does_not_send() -> None:
    assert xero_contract.sdk_violations([answer(CONTACT)]) == []
    [problem] = xero_contract.sdk_violations([answer(CONTACT | {"HasErrors": False})])
    assert "Contacts[0].HasErrors is unknown to xero_python Contact" in problem


def test_a_request_the_sdk_cannot_express_fails_the_round_trip() -> None:
    sent = {"Invoices": [{"Type": "ACCREC", "Date": "2026-01-05", "Sandboxy": 1}]}
    assert (
        xero_contract.round_trip_problems(
            {"Invoices": [{"Type": "ACCREC", "Date": "2026-01-05"}]}, models.Invoices, "PUT"
        )
        == []
    )
    assert any(
        "Sandboxy is dropped" in p for p in xero_contract.round_trip_problems(sent, models.Invoices, "PUT")
    )


def test_the_closed_spec_names_an_undeclared_property(xero_spec_dir: Path) -> None:
    with open(xero_spec_dir / "xero_accounting.yaml", encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    assert xero_contract.spec_violations(spec, [answer(CONTACT)]) == []
    [problem] = xero_contract.spec_violations(spec, [answer(CONTACT | {"HasErrors": False})])
    assert "HasErrors" in problem and "Additional properties" in problem


@pytest.mark.parametrize("kept", [1, 3])
def test_the_same_answer_is_checked_once(kept: int) -> None:
    repeated = [answer(CONTACT)] * 5 + [answer(CONTACT | {"Name": f"n{i}"}) for i in range(5)]
    assert len(list(xero_contract.distinct(repeated, per_kind=kept))) == kept
