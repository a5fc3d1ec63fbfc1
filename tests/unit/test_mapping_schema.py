"""Mapped payloads against the request schemas of Xero's own OpenAPI spec (contract test).

The spec's models allow any extra property, so besides schema validation every key we send must be one the
model declares: a misspelt "DiscountAmmount" would otherwise be silently ignored by Xero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30WriteValidator, oas30_format_checker

from shared.store.sync_settings import SyncSettings, TaxMode
from shared.sync.mapping_contact import map_contact
from shared.sync.mapping_invoice import map_invoice
from shared.sync.mapping_items import wanted_items
from tests.unit.mapping_fixtures import CONTACT_REF, invoice_document

SETTINGS = SyncSettings(
    time_zone="Pacific/Auckland",
    tax_mode=TaxMode.INCLUSIVE,
    default_tax_type="OUTPUT2",
    branding_theme_id="4c82c365-35cb-467f-bb11-dce1f2f2f67c",
)


@pytest.fixture(scope="module")
def components(xero_spec_dir: Path) -> dict[str, Any]:
    with (xero_spec_dir / "xero_accounting.yaml").open() as spec:
        return yaml.load(spec, Loader=yaml.CSafeLoader)["components"]


def assert_valid(payload: dict[str, Any], model: str, components: dict[str, Any]) -> None:
    schema = {"$ref": f"#/components/schemas/{model}", "components": components}
    validator = OAS30WriteValidator(schema, format_checker=oas30_format_checker)
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(payload)]
    assert errors == []
    assert unknown_keys(payload, components["schemas"][model], components) == []


def unknown_keys(value: Any, schema: dict[str, Any], components: dict[str, Any], path: str = "") -> list[str]:
    while "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if isinstance(value, list):
        return [
            key for item in value for key in unknown_keys(item, schema.get("items", {}), components, path)
        ]
    if not isinstance(value, dict):
        return []
    properties = schema.get("properties", {})
    found = [f"{path}.{key}" for key in value if key not in properties]
    for key, child in value.items():
        if key in properties:
            found += unknown_keys(child, properties[key], components, f"{path}.{key}")
    return found


def test_a_mapped_invoice_is_a_valid_xero_invoice(components: dict[str, Any]) -> None:
    existing = {"InvoiceID": "243a4b2e-9f6c-4f3c-b1a2-5d6e7f8a9b0c", "Status": "AUTHORISED"}
    assert_valid(map_invoice(invoice_document(), SETTINGS, CONTACT_REF, existing), "Invoice", components)


def test_a_mapped_contact_is_a_valid_xero_contact(components: dict[str, Any]) -> None:
    assert_valid(map_contact(invoice_document()).payload, "Contact", components)


def test_mapped_items_are_valid_xero_items(components: dict[str, Any]) -> None:
    for item in wanted_items(invoice_document(), SETTINGS):
        assert_valid(item, "Item", components)


def test_the_check_can_fail(components: dict[str, Any]) -> None:
    # GIVEN payloads with a too-long code and a misspelt key THEN both checks catch them
    with pytest.raises(AssertionError):
        assert_valid({"Code": "X" * 31}, "Item", components)
    with pytest.raises(AssertionError):
        assert_valid({"LineItems": [{"DiscountAmmount": 1.0}]}, "Invoice", components)
