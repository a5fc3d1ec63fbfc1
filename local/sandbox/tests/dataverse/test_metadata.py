"""Table definitions through EntityDefinitions: what the connector's installer creates, and upserts by
alternate key on the reference tables it then fills."""

from __future__ import annotations

import time
from typing import Any

from local.sandbox.dataverse import DataverseSandbox

from .helpers import WebApiClient, create_publisher


def _label(text: str) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.Label",
        "LocalizedLabels": [
            {"@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel", "Label": text, "LanguageCode": 1033}
        ],
    }


def _string_column(schema: str, primary: bool = False, length: int = 100) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "AttributeType": "String",
        "AttributeTypeName": {"Value": "StringType"},
        "SchemaName": schema,
        "DisplayName": _label(schema),
        "RequiredLevel": {"Value": "None"},
        "MaxLength": length,
        "FormatName": {"Value": "Text"},
        "IsPrimaryName": primary,
    }


def create_tax_rate_table(api: WebApiClient) -> None:
    create_publisher(api)
    table = {
        "@odata.type": "Microsoft.Dynamics.CRM.EntityMetadata",
        "SchemaName": "dxc_XeroTaxRate",
        "DisplayName": _label("Xero tax rate"),
        "DisplayCollectionName": _label("Xero tax rates"),
        "OwnershipType": "OrganizationOwned",
        "HasActivities": False,
        "HasNotes": False,
        "IsActivity": False,
        "Attributes": [_string_column("dxc_Name", primary=True, length=200)],
    }
    assert api.post("EntityDefinitions", table).status_code == 204
    columns = "EntityDefinitions(LogicalName='dxc_xerotaxrate')/Attributes"
    assert api.post(columns, _string_column("dxc_XeroId", length=100)).status_code == 204
    rate = {
        "@odata.type": "Microsoft.Dynamics.CRM.DecimalAttributeMetadata",
        "SchemaName": "dxc_Rate",
        "DisplayName": _label("Rate"),
        "Precision": 4,
        "MinValue": 0,
        "MaxValue": 100,
    }
    assert api.post(columns, rate).status_code == 204
    key = {"SchemaName": "dxc_xeroid_key", "DisplayName": _label("Xero id"), "KeyAttributes": ["dxc_xeroid"]}
    assert api.post("EntityDefinitions(LogicalName='dxc_xerotaxrate')/Keys", key).status_code == 204


def test_installer_creates_a_table_then_upserts_by_alternate_key(api: WebApiClient) -> None:
    # GIVEN the table does not exist yet
    assert api.get("EntityDefinitions(LogicalName='dxc_xerotaxrate')").status_code == 404
    # WHEN the installer creates it with a key, and the refresh upserts twice by that key
    create_tax_rate_table(api)
    row = "dxc_xerotaxrates(dxc_xeroid='OUTPUT2')"
    assert api.patch(row, {"dxc_name": "20% (VAT on Income)", "dxc_rate": 20}).status_code == 204
    assert api.patch(row, {"dxc_name": "20% VAT", "dxc_rate": 20.0}).status_code == 204
    # THEN there is one row carrying the key and the last values
    rows = api.get("dxc_xerotaxrates?$select=dxc_name,dxc_xeroid,dxc_rate").json()["value"]
    assert [(r["dxc_xeroid"], r["dxc_name"], r["dxc_rate"]) for r in rows] == [("OUTPUT2", "20% VAT", 20.0)]
    assert api.get(f"{row}?$select=dxc_name").json()["dxc_name"] == "20% VAT"
    definition = api.get(
        "EntityDefinitions(LogicalName='dxc_xerotaxrate')?$select=LogicalName,EntitySetName,"
        "PrimaryIdAttribute,PrimaryNameAttribute&$expand=Attributes($select=LogicalName),Keys"
    ).json()
    assert definition["EntitySetName"] == "dxc_xerotaxrates"
    assert (
        definition["PrimaryIdAttribute"] == "dxc_xerotaxrateid"
        and definition["PrimaryNameAttribute"] == "dxc_name"
    )
    assert {"dxc_xeroid", "dxc_rate", "dxc_name"} <= {a["LogicalName"] for a in definition["Attributes"]}
    assert definition["Keys"][0]["KeyAttributes"] == ["dxc_xeroid"]


def test_creating_what_exists_is_refused(api: WebApiClient) -> None:
    create_tax_rate_table(api)
    again = api.post(
        "EntityDefinitions",
        {"SchemaName": "dxc_XeroTaxRate", "Attributes": [_string_column("dxc_Name", True)]},
    )
    assert again.status_code == 400 and "already exists" in again.json()["error"]["message"]
    column = api.post(
        "EntityDefinitions(LogicalName='dxc_xerotaxrate')/Attributes", _string_column("dxc_XeroId")
    )
    assert column.status_code == 400
    key = api.post(
        "EntityDefinitions(LogicalName='dxc_xerotaxrate')/Keys",
        {"SchemaName": "dxc_other_key", "KeyAttributes": ["dxc_xeroid"]},
    )
    assert key.status_code == 400


def test_duplicate_alternate_key_values_are_refused(api: WebApiClient) -> None:
    create_tax_rate_table(api)
    assert api.post("dxc_xerotaxrates", {"dxc_name": "a", "dxc_xeroid": "K1"}).status_code == 204
    duplicate = api.post("dxc_xerotaxrates", {"dxc_name": "b", "dxc_xeroid": "K1"})
    assert duplicate.status_code == 412 and duplicate.json()["error"]["code"] == "0x80060892"


def test_connector_columns_appear_on_invoice_after_install(sb: DataverseSandbox, api: WebApiClient) -> None:
    invoice_id = sb.state.rows("contoso", "invoices")[0]["invoiceid"]
    assert api.patch(f"invoices({invoice_id})", {"dxc_xerostatus": "AUTHORISED"}).status_code == 400
    columns = "EntityDefinitions(LogicalName='invoice')/Attributes"
    assert api.get(f"{columns}(LogicalName='dxc_xerostatus')").status_code == 404
    create_publisher(api)
    assert api.post(columns, _string_column("dxc_XeroStatus", length=20)).status_code == 204
    synced = {
        "@odata.type": "Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
        "SchemaName": "dxc_SyncedOn",
        "Format": "DateAndTime",
        "DateTimeBehavior": {"Value": "UserLocal"},
        "DisplayName": _label("Synced on"),
    }
    assert api.post(columns, synced).status_code == 204
    send = {
        "@odata.type": "Microsoft.Dynamics.CRM.BooleanAttributeMetadata",
        "SchemaName": "dxc_SendToXero",
        "DisplayName": _label("Send to Xero"),
        "OptionSet": {
            "TrueOption": {"Value": 1, "Label": _label("Yes")},
            "FalseOption": {"Value": 0, "Label": _label("No")},
        },
    }
    assert api.post(columns, send).status_code == 204
    assert api.get(f"{columns}(LogicalName='dxc_xerostatus')").json()["MaxLength"] == 20
    written = api.patch(
        f"invoices({invoice_id})",
        {"dxc_xerostatus": "AUTHORISED", "dxc_syncedon": "2030-01-01T10:00:00Z", "dxc_sendtoxero": True},
    )
    assert written.status_code == 204, written.text
    body = api.get(f"invoices({invoice_id})?$select=dxc_xerostatus,dxc_syncedon,dxc_sendtoxero").json()
    assert (body["dxc_xerostatus"], body["dxc_syncedon"], body["dxc_sendtoxero"]) == (
        "AUTHORISED",
        "2030-01-01T10:00:00Z",
        True,
    )


def _key_status(api: WebApiClient) -> str:
    keys = api.get("EntityDefinitions(LogicalName='dxc_xerotaxrate')/Keys?$select=EntityKeyIndexStatus")
    return str(keys.json()["value"][0]["EntityKeyIndexStatus"])


def test_a_new_key_is_pending_until_its_index_is_built_and_serves_no_upsert_before(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    # Learn, "Define alternate keys": the index is built by a background job (Pending → Active, or Failed)
    sb.limits.update({"key_build_seconds": 1.0})
    create_tax_rate_table(api)
    row = "dxc_xerotaxrates(dxc_xeroid='OUTPUT2')"
    assert _key_status(api) == "Pending"
    early = api.patch(row, {"dxc_name": "20% VAT"})
    assert early.status_code == 400 and "EntityKeyIndexStatus is Pending" in early.json()["error"]["message"]
    assert api.get("dxc_xerotaxrates?$select=dxc_name").json()["value"] == []  # nothing created
    time.sleep(1.0)
    assert _key_status(api) == "Active"
    assert api.patch(row, {"dxc_name": "20% VAT"}).status_code == 204


def test_a_key_whose_build_fails_stays_failed(sb: DataverseSandbox, api: WebApiClient) -> None:
    sb.limits.update({"key_build_fails": True})
    create_tax_rate_table(api)
    assert _key_status(api) == "Failed"
    assert api.patch("dxc_xerotaxrates(dxc_xeroid='X')", {"dxc_name": "x"}).status_code == 400


def test_a_prefix_no_publisher_owns_is_refused_and_a_solution_lists_what_was_made_in_it(
    api: WebApiClient,
) -> None:
    # GIVEN an environment with only its default publisher ("new")
    column = _string_column("dxc_Note")
    refused = api.post("EntityDefinitions(LogicalName='account')/Attributes", column)
    assert refused.status_code == 400 and "customization prefix" in refused.json()["error"]["message"]
    # WHEN a publisher for dxc and its solution exist, and the column is created in that solution
    publisher = create_publisher(api)
    solution = api.create(
        "solutions",
        {"uniquename": "XeroConnector", "friendlyname": "Xero Connector", "version": "1.0.0.0",
         "publisherid@odata.bind": f"/publishers({publisher})"},
    )  # fmt: skip
    made = api.post(
        "EntityDefinitions(LogicalName='account')/Attributes",
        column,
        headers={"MSCRM.SolutionUniqueName": "XeroConnector"},
    )
    assert made.status_code == 204, made.text
    # THEN the solution lists it (an attribute: component type 2)
    components = api.get(
        f"solutioncomponents?$select=componenttype,objectid&$filter=_solutionid_value eq {solution}"
    ).json()["value"]
    assert [c["componenttype"] for c in components] == [2]
    # AND another publisher's prefix cannot join that solution
    other = api.post(
        "EntityDefinitions(LogicalName='account')/Attributes",
        _string_column("new_Other"),
        headers={"MSCRM.SolutionUniqueName": "XeroConnector"},
    )
    assert other.status_code == 400
