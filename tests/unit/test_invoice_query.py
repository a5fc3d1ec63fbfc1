"""The one Dataverse GET selects every column the mapping reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.dataverse import schema
from shared.dataverse.invoice_query import invoice_query, line_query
from tests.unit.mapping_fixtures import invoice_document

INVOICE = "8a1d4c62-3b7e-4f0a-9c55-2e6f1b7d9a01"


def columns_used(row: dict[str, Any]) -> set[str]:
    return {key for key, value in row.items() if "@" not in key and not isinstance(value, dict | list)}


def test_the_query_selects_every_column_of_the_sample_document() -> None:
    # GIVEN the document the mapping tests use WHEN the query is built THEN every plain column appears in it
    query = invoice_query(INVOICE.upper())
    assert query.startswith(f"invoices({INVOICE})?$select=")
    doc = invoice_document()
    rows = [doc, doc["customerid_account"], doc["transactioncurrencyid"]]
    for line in doc["invoice_details"]:
        rows += [line, *([line["productid"]] if line["productid"] else [])]
    missing = {column for row in rows for column in columns_used(row) if column not in query}
    assert missing == set()
    for column in (
        *schema.INVOICE_WRITE_BACK_COLUMNS,
        schema.INVOICE_SEND_TO_XERO,
        schema.CUSTOMER_XERO_CONTACT_ID,
    ):
        assert column in query


def test_expands_nest_as_dataverse_expects() -> None:
    query = invoice_query(INVOICE)
    expand = query.split("&$expand=", 1)[1]
    assert expand.startswith("customerid_account($select=accountid,")
    assert ",transactioncurrencyid($select=isocurrencycode)," in expand
    assert expand.endswith(";$expand=productid($select=productid,productnumber,name,description,price))")
    assert " " not in query and json.dumps(query)


def test_line_query() -> None:
    assert line_query(INVOICE) == f"invoicedetails({INVOICE})?$select=_invoiceid_value"


@pytest.mark.parametrize("bad", ["", "abc", f"{INVOICE})?$select=x", f"{{{INVOICE}}}"])
def test_ids_must_be_guids(bad: str) -> None:
    with pytest.raises(ValueError):
        invoice_query(bad)
    with pytest.raises(ValueError):
        line_query(bad)
