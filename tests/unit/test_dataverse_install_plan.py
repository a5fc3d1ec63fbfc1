"""The declarative plan of Install into Dynamics: names agree with schema.py, bodies are real metadata."""

from __future__ import annotations

from shared.dataverse import install_plan as plan
from shared.dataverse import schema
from shared.dataverse.privileges import INSTALL, RUNTIME, MissingPrivilege

CRM = "Microsoft.Dynamics.CRM."


def by_name(columns: tuple[plan.Column, ...]) -> dict[str, plan.Column]:
    return {c.logical_name: c for c in columns}


def test_invoice_gets_every_write_back_column_and_send_to_xero() -> None:
    # GIVEN the columns planned for invoice
    columns = by_name(plan.COLUMNS_BY_TABLE["invoice"])
    # THEN they are exactly the schema's write-back columns plus "send to Xero"
    assert set(columns) == {*schema.INVOICE_WRITE_BACK_COLUMNS, schema.INVOICE_SEND_TO_XERO}
    # AND the sync error has room for a long Xero validation message
    error = columns[schema.INVOICE_SYNC_ERROR]
    assert error.kind == "memo" and error.max_length >= 2000
    assert columns[schema.INVOICE_SYNCED_ON].kind == "datetime"
    assert columns[schema.INVOICE_SEND_TO_XERO].kind == "boolean"
    assert all(
        columns[c].kind == "string" and columns[c].max_length >= 50
        for c in (
            schema.INVOICE_XERO_ID,
            schema.INVOICE_XERO_NUMBER,
            schema.INVOICE_XERO_STATUS,
            schema.INVOICE_XERO_URL,
        )
    )


def test_customers_get_the_xero_contact_column() -> None:
    for table in ("account", "contact"):
        (column,) = plan.COLUMNS_BY_TABLE[table]
        assert column.logical_name == schema.CUSTOMER_XERO_CONTACT_ID and column.kind == "string"


def test_attribute_metadata_bodies_are_typed_and_labelled() -> None:
    # GIVEN every column the plan adds anywhere
    columns = [c for cs in plan.COLUMNS_BY_TABLE.values() for c in cs]
    columns += [c for t in plan.TABLES for c in (t.primary_name, *t.columns)]
    for column in columns:
        # WHEN its AttributeMetadata is built
        body = column.metadata()
        # THEN it is the right metadata type, with a prefixed schema name and a localized label
        assert (
            body["@odata.type"]
            == CRM
            + {
                "string": "StringAttributeMetadata",
                "memo": "MemoAttributeMetadata",
                "datetime": "DateTimeAttributeMetadata",
                "date": "DateTimeAttributeMetadata",
                "boolean": "BooleanAttributeMetadata",
                "decimal": "DecimalAttributeMetadata",
            }[column.kind]
        )
        assert body["SchemaName"].startswith("dxc_") and body["SchemaName"].lower() == column.logical_name
        assert body["DisplayName"]["LocalizedLabels"][0]["Label"]
        assert body["DisplayName"]["LocalizedLabels"][0]["LanguageCode"] == 1033
        assert body["RequiredLevel"]["Value"] == "None"
        if column.kind in ("string", "memo"):
            assert body["MaxLength"] == column.max_length > 0
        if column.kind == "boolean":
            assert {body["OptionSet"]["TrueOption"]["Value"], body["OptionSet"]["FalseOption"]["Value"]} == {
                0,
                1,
            }


def test_the_connector_tables_are_the_reference_tables_and_settings() -> None:
    names = [t.logical_name for t in plan.TABLES]
    assert sorted(names) == sorted([*schema.REFERENCE_TABLES, schema.SETTINGS_TABLE])
    assert len(set(names)) == len(names)


def test_every_reference_table_has_the_common_columns_and_the_xero_id_key() -> None:
    for table in (t for t in plan.TABLES if t.logical_name in schema.REFERENCE_TABLES):
        columns = by_name((table.primary_name, *table.columns))
        assert table.primary_name.logical_name == "dxc_name"
        assert {"dxc_xeroid", "dxc_name", "dxc_code", "dxc_status", "dxc_isactive"} <= set(columns)
        assert columns[schema.REFERENCE_ID_COLUMN].kind == "string"
        assert columns[schema.REFERENCE_ID_COLUMN].max_length == 100
        assert columns["dxc_isactive"].kind == "boolean"
        assert table.key is not None
        assert table.key.logical_name == schema.REFERENCE_KEY_NAME
        assert table.key.columns == (schema.REFERENCE_ID_COLUMN,)
    tax_rates = next(t for t in plan.TABLES if t.logical_name == schema.TAX_RATE_TABLE)
    assert by_name(tax_rates.columns)["dxc_rate"].kind == "decimal"


def test_entity_metadata_is_an_organisation_owned_table_with_one_primary_name() -> None:
    for table in plan.TABLES:
        body = table.metadata()
        assert body["@odata.type"] == CRM + "EntityMetadata"
        assert body["SchemaName"].lower() == table.logical_name
        assert body["OwnershipType"] == "OrganizationOwned"
        assert body["HasActivities"] is False and body["HasNotes"] is False
        (primary,) = [a for a in body["Attributes"] if a.get("IsPrimaryName")]
        assert primary["@odata.type"] == CRM + "StringAttributeMetadata"
        assert primary["SchemaName"].lower() == table.primary_name.logical_name
        key = table.key.metadata() if table.key else None
        assert key is None or set(key["KeyAttributes"]) <= {
            c.logical_name for c in (table.primary_name, *table.columns)
        }


def test_the_invoice_update_step_never_fires_for_the_connectors_own_write_back() -> None:
    # GIVEN the planned steps
    steps = {(s.message, s.table): s for s in plan.STEPS}
    assert set(steps) == {
        ("Create", "invoice"),
        ("Update", "invoice"),
        ("Create", "invoicedetail"),
        ("Update", "invoicedetail"),
        ("Delete", "invoicedetail"),
    }
    # WHEN the invoice Update step's row is built
    row = steps[("Update", "invoice")].row("e" * 8, "m" * 8, "f" * 8)
    filtering = set(row["filteringattributes"].split(","))
    # THEN it filters on the trigger columns, never on a write-back column
    assert filtering == set(schema.INVOICE_TRIGGER_COLUMNS)
    assert not filtering & set(schema.INVOICE_WRITE_BACK_COLUMNS)
    assert schema.INVOICE_SEND_TO_XERO in filtering
    # AND it is an asynchronous post-operation step bound to the endpoint, message and filter
    assert (row["stage"], row["mode"], row["rank"], row["asyncautodelete"], row["supporteddeployment"]) == (
        40,
        1,
        1,
        True,
        0,
    )
    assert row["eventhandler_serviceendpoint@odata.bind"] == "/serviceendpoints(eeeeeeee)"
    assert row["sdkmessageid@odata.bind"] == "/sdkmessages(mmmmmmmm)"
    assert row["sdkmessagefilterid@odata.bind"] == "/sdkmessagefilters(ffffffff)"
    assert steps[("Create", "invoice")].row("e", "m", "f")["filteringattributes"] is None


def test_the_endpoint_is_a_json_webhook_with_a_key_written_separately() -> None:
    row = plan.endpoint_row("https://connector.example/api/dynamics/webhook/c1")
    assert (row["contract"], row["authtype"], row["messageformat"]) == (8, 4, 2)
    assert row["name"] == plan.ENDPOINT_NAME and row["url"].endswith("/c1")
    assert "authvalue" not in row


def test_privileges_are_named_in_words_with_a_reason() -> None:
    # GIVEN the privileges the sync needs
    names = {n.privilege for n in RUNTIME}
    # THEN they cover invoices, products, customers and the connector's own tables
    assert {
        "prvReadInvoice",
        "prvWriteInvoice",
        "prvReadProduct",
        "prvReadUser",
        "prvReadAccount",
        "prvWriteAccount",
        "prvReadContact",
        "prvWriteContact",
    } <= names
    for table in plan.TABLES:
        assert {f"prvRead{table.schema_name}", f"prvWrite{table.schema_name}"} <= names
    assert {"prvCreateEntity", "prvCreateAttribute", "prvCreateServiceEndpoint"} <= {
        n.privilege for n in INSTALL
    }
    # AND a missing one reads as a sentence a customer can forward
    write = next(n for n in RUNTIME if n.privilege == "prvWriteInvoice")
    text = str(MissingPrivilege(write.privilege, write.name, write.what_for))
    assert text == "Write Invoice — needed to write the Xero number back on invoices"
