"""Dynamics invoice document → Xero Invoice payload."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from shared.store.sync_settings import InvoiceStatus, Numbering, SyncSettings, TaxMode
from shared.sync.mapping_invoice import map_invoice
from shared.sync.mapping_items import item_warnings
from tests.unit.mapping_fixtures import CONTACT_REF, invoice_document, line

AUCKLAND = SyncSettings(time_zone="Pacific/Auckland")


def mapped(
    doc: dict[str, Any] | None = None, settings: SyncSettings = AUCKLAND, **kwargs: Any
) -> dict[str, Any]:
    return map_invoice(doc or invoice_document(), settings, CONTACT_REF, **kwargs)


def line_amount(item: dict[str, Any]) -> Decimal:
    gross = Decimal(str(item.get("Quantity", 1))) * Decimal(str(item["UnitAmount"]))
    return (gross - Decimal(str(item.get("DiscountAmount", 0)))).quantize(Decimal("0.01"))


def test_the_sample_invoice_maps_to_an_accrec_draft() -> None:
    invoice = mapped()
    assert {key: value for key, value in invoice.items() if key != "LineItems"} == {
        "Type": "ACCREC",
        "Contact": CONTACT_REF,
        "LineAmountTypes": "Exclusive",
        "Status": "DRAFT",
        "InvoiceNumber": "INV-01001-K7Q2P9",
        "Reference": "Order 1001 - Kauri Timber",
        "Date": "2026-03-02",
        "DueDate": "2026-03-31",
        "CurrencyCode": "NZD",
    }
    assert [item["Description"] for item in invoice["LineItems"]] == [
        "Pine H3.2 100x50",  # line 1: the product has no description, so its name
        "Kwila hardwood decking 90x19mm, sold by the metre",
        "Site delivery crane hire (write-in)",
        "Discount (5%)",
        "Freight",
    ]


def test_lines_carry_quantity_price_to_four_places_item_and_account() -> None:
    first, second, write_in = mapped()["LineItems"][:3]
    assert first == {
        "Description": "Pine H3.2 100x50",
        "Quantity": 20.0,
        "UnitAmount": 22.5,
        "ItemCode": "PINE-H3-100",
        "AccountCode": "200",
        "TaxAmount": 67.5,  # the tax Dynamics computed, so both totals agree
    }
    assert second["UnitAmount"] == 48.1234 and second["DiscountAmount"] == 10.0
    assert "ItemCode" not in write_in and write_in["UnitAmount"] == 60.0


def test_invoice_discount_and_freight_reproduce_the_dynamics_total() -> None:
    # Lines net 450 + 591.54 + 60 = 1101.54; 5 % of that (55.08) plus 25 off; 40 freight.
    items = mapped()["LineItems"]
    assert items[3]["UnitAmount"] == -80.08 and items[4]["UnitAmount"] == 40.0
    assert sum(line_amount(item) for item in items) == Decimal("1061.46")


def test_a_fixed_discount_alone_is_labelled_plainly() -> None:
    doc = invoice_document()
    doc.update(discountpercentage=None, freightamount=0)
    descriptions = [item["Description"] for item in mapped(doc)["LineItems"]]
    assert descriptions[-1] == "Discount" and "Freight" not in descriptions
    assert mapped(doc)["LineItems"][-1]["UnitAmount"] == -25.0


@pytest.mark.parametrize(
    ("time_zone", "delivered", "due", "expected"),
    [
        ("Pacific/Auckland", "2026-03-01T11:30:00Z", "2026-03-30T11:00:00Z", ("2026-03-02", "2026-03-31")),
        ("UTC", "2026-03-01T11:30:00Z", "2026-03-30T11:00:00Z", ("2026-03-01", "2026-03-30")),
        # date-only values keep their date; midnight UTC is a date written without a time zone
        ("America/Los_Angeles", "2026-03-01T00:00:00Z", "2026-03-31", ("2026-03-01", "2026-03-31")),
        ("America/Los_Angeles", "2026-03-01T07:59:00Z", "2026-03-31T00:00:00Z", ("2026-02-28", "2026-03-31")),
    ],
)
def test_dates_are_calendar_dates_in_the_organisations_time_zone(
    time_zone: str, delivered: str, due: str, expected: tuple[str, str]
) -> None:
    doc = invoice_document()
    doc.update(datedelivered=delivered, duedate=due)
    invoice = mapped(doc, SyncSettings(time_zone=time_zone))
    assert (invoice["Date"], invoice["DueDate"]) == expected


def test_without_a_delivery_date_the_creation_date_is_used_and_no_due_date_is_sent() -> None:
    doc = invoice_document()
    doc.update(datedelivered=None, duedate=None)
    invoice = mapped(doc)
    assert invoice["Date"] == "2026-02-28" and "DueDate" not in invoice  # 20:15 UTC is the next morning in NZ


def test_xero_numbering_puts_the_dynamics_number_in_reference_and_keeps_xeros_number() -> None:
    settings = replace(AUCKLAND, numbering=Numbering.XERO)
    created = mapped(settings=settings)
    assert "InvoiceNumber" not in created and created["Reference"] == "INV-01001-K7Q2P9"
    existing = {
        "InvoiceID": "243a4b2e-9f6c-4f3c-b1a2-5d6e7f8a9b0c",
        "InvoiceNumber": "INV-0042",
        "Status": "DRAFT",
    }
    updated = mapped(settings=settings, existing=existing)
    assert updated["InvoiceNumber"] == "INV-0042" and updated["InvoiceID"] == existing["InvoiceID"]


@pytest.mark.parametrize(
    ("mode", "tax_type", "expected"),
    [
        (TaxMode.EXCLUSIVE, "OUTPUT2", "OUTPUT2"),
        (TaxMode.INCLUSIVE, "OUTPUT2", "OUTPUT2"),
        (TaxMode.NO_TAX, "OUTPUT2", None),
    ],
)
def test_tax_modes(mode: TaxMode, tax_type: str, expected: str | None) -> None:
    invoice = mapped(settings=replace(AUCKLAND, tax_mode=mode, default_tax_type=tax_type))
    assert invoice["LineAmountTypes"] == mode.value
    assert {item.get("TaxType") for item in invoice["LineItems"]} == {expected}


def test_without_a_tax_type_xero_applies_the_accounts_default() -> None:
    assert all("TaxType" not in item for item in mapped()["LineItems"])


@pytest.mark.parametrize(
    ("configured", "in_xero", "expected"),
    [
        (InvoiceStatus.DRAFT, None, "DRAFT"),
        (InvoiceStatus.AUTHORISED, "DRAFT", "AUTHORISED"),
        (InvoiceStatus.DRAFT, "AUTHORISED", "AUTHORISED"),
        (InvoiceStatus.SUBMITTED, "AUTHORISED", "AUTHORISED"),
        (InvoiceStatus.DRAFT, "SUBMITTED", "SUBMITTED"),
    ],
)
def test_status_is_never_downgraded(configured: InvoiceStatus, in_xero: str | None, expected: str) -> None:
    existing = {"InvoiceID": "243a4b2e-9f6c-4f3c-b1a2-5d6e7f8a9b0c", "Status": in_xero} if in_xero else None
    assert (
        mapped(settings=replace(AUCKLAND, invoice_status=configured), existing=existing)["Status"] == expected
    )


def test_branding_theme_is_sent_when_chosen() -> None:
    theme = "4c82c365-35cb-467f-bb11-dce1f2f2f67c"
    assert mapped(settings=replace(AUCKLAND, branding_theme_id=theme))["BrandingThemeID"] == theme
    assert "BrandingThemeID" not in mapped()


def test_a_product_number_longer_than_xeros_item_code_goes_description_only() -> None:
    doc = invoice_document()
    line(doc, 1)["productid"]["productnumber"] = "PINE-H3-100-TREATED-KILN-DRIED-6M"
    first = mapped(doc)["LineItems"][0]
    assert "ItemCode" not in first and first["Description"] == "Pine H3.2 100x50"
    assert item_warnings(doc) == [
        "product number 'PINE-H3-100-TREATED-KILN-DRIED-6M' is longer than Xero's 30-character item code: "
        "its lines were sent without an item"
    ]


def test_only_known_item_codes_are_put_on_lines() -> None:
    items = mapped(known_item_codes={"PINE-H3-100"})["LineItems"]
    assert [item.get("ItemCode") for item in items[:2]] == ["PINE-H3-100", None]


def test_an_overridden_product_line_is_a_write_in() -> None:
    doc = invoice_document()
    line(doc, 1).update(isproductoverridden=True, productdescription="Custom pine offcuts")
    first = mapped(doc)["LineItems"][0]
    assert first["Description"] == "Custom pine offcuts" and "ItemCode" not in first


def test_lines_without_a_number_come_last_in_a_stable_order() -> None:
    doc = invoice_document()
    line(doc, 1)["lineitemnumber"] = None
    assert [item.get("ItemCode") for item in mapped(doc)["LineItems"][:3]] == [
        "DECK-KWILA-90",
        None,
        "PINE-H3-100",
    ]


def test_the_volume_discount_lowers_the_unit_price_dynamics_charged() -> None:
    doc = invoice_document()
    first = sorted(doc["invoice_details"], key=lambda line: line["lineitemnumber"])[0]
    first["volumediscountamount"] = 1.5  # per unit, from the price list item's discount list
    line = mapped(doc)["LineItems"][0]
    assert line["UnitAmount"] == 21.0 and line["Quantity"] == 20.0


@pytest.mark.parametrize("mode", [TaxMode.INCLUSIVE, TaxMode.NO_TAX])
def test_dynamics_tax_is_sent_only_when_amounts_are_tax_exclusive(mode: TaxMode) -> None:
    lines = mapped(settings=replace(AUCKLAND, tax_mode=mode))["LineItems"]
    assert all("TaxAmount" not in line for line in lines)
