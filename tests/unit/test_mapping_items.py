"""Dynamics products → Xero Items, and which of them need writing."""

from __future__ import annotations

from typing import Any

from shared.store.sync_settings import SyncSettings
from shared.sync.mapping_items import items_to_write, wanted_items
from tests.unit.mapping_fixtures import invoice_document, line

KWILA_NAME = "Kwila decking 90x19 per metre, premium grade, kiln dried"


def test_one_item_per_product_and_none_for_write_ins() -> None:
    doc = invoice_document()
    doc["invoice_details"].append({**line(doc, 1), "invoicedetailid": "b0e1a2c3-0004-4d5e-8f90-a1b2c3d4e5f6"})
    assert wanted_items(doc) == [
        {
            "Code": "DECK-KWILA-90",
            "Name": KWILA_NAME[:50],
            "Description": "Kwila hardwood decking 90x19mm, sold by the metre",
            "SalesDetails": {"UnitPrice": 48.1234},
        },
        {
            "Code": "PINE-H3-100",
            "Name": "Pine H3.2 100x50",
            "Description": "Pine H3.2 100x50",
            "SalesDetails": {"UnitPrice": 22.5},
        },
    ]


def test_a_cut_name_survives_whole_in_the_description() -> None:
    doc = invoice_document()
    line(doc, 2)["productid"]["description"] = None
    kwila = wanted_items(doc)[0]
    assert len(kwila["Name"]) == 50 and kwila["Description"] == KWILA_NAME


def test_settings_add_the_sales_account_and_tax_type() -> None:
    items = wanted_items(
        invoice_document(), SyncSettings(default_account_code="260", default_tax_type="OUTPUT2")
    )
    assert items[1]["SalesDetails"] == {"UnitPrice": 22.5, "AccountCode": "260", "TaxType": "OUTPUT2"}


def test_a_product_number_over_30_characters_is_not_an_item() -> None:
    doc = invoice_document()
    line(doc, 2)["productid"]["productnumber"] = "K" * 31
    assert [item["Code"] for item in wanted_items(doc)] == ["PINE-H3-100"]


def as_xero_returns(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The item as a GET /Items answers it: with fields Xero fills itself."""
    returned = {
        **item,
        "ItemID": f"id-{item['Code']}",
        "UpdatedDateUTC": "/Date(1573755038314+0000)/",
        "IsSold": True,
        "IsPurchased": False,
        "IsTrackedAsInventory": False,
        "PurchaseDetails": {},
        "SalesDetails": {**item["SalesDetails"], "AccountCode": "200", "TaxType": "OUTPUT2"},
    }
    return {**returned, **changes}


def test_only_missing_and_changed_items_are_written() -> None:
    deck, pine = wanted_items(invoice_document())
    assert items_to_write([deck, pine], {}) == [deck, pine]
    assert (
        items_to_write(
            [deck, pine], {"DECK-KWILA-90": as_xero_returns(deck), "PINE-H3-100": as_xero_returns(pine)}
        )
        == []
    )
    renamed = as_xero_returns(deck, Name="Kwila decking")
    repriced = as_xero_returns(pine, SalesDetails={"UnitPrice": 21.0})
    writes = items_to_write([deck, pine], {"DECK-KWILA-90": renamed, "PINE-H3-100": repriced})
    assert writes == [{**deck, "ItemID": "id-DECK-KWILA-90"}, {**pine, "ItemID": "id-PINE-H3-100"}]


def test_item_codes_match_whatever_their_case_and_prices_to_four_places() -> None:
    deck, _ = wanted_items(invoice_document())
    existing = {"deck-kwila-90": as_xero_returns(deck, SalesDetails={"UnitPrice": 48.12340001})}
    assert items_to_write([deck], existing) == []


def test_a_changed_description_is_written() -> None:
    deck, _ = wanted_items(invoice_document())
    existing = {"DECK-KWILA-90": as_xero_returns(deck, Description="old text")}
    assert items_to_write([deck], existing) == [{**deck, "ItemID": "id-DECK-KWILA-90"}]
