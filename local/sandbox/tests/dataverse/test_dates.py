"""Date columns as Learn describes them (invoice table reference; "Behavior and format of the date and time
column"): duedate is DateOnly behaviour, datedelivered UserLocal shown as a date; a user's time zone is in
usersettings, named by timezonedefinition."""

from __future__ import annotations

from local.sandbox.dataverse import DataverseSandbox

from .helpers import WebApiClient, user_token


def _account(sb: DataverseSandbox) -> str:
    return str(sb.state.rows("contoso", "accounts")[0]["accountid"])


def test_due_date_is_a_calendar_date_and_date_delivered_a_utc_moment(
    sb: DataverseSandbox, api: WebApiClient
) -> None:
    invoice_id = api.create(
        "invoices",
        {
            "name": "Dated",
            "customerid_account@odata.bind": f"/accounts({_account(sb)})",
            "duedate": "2030-02-01",
            "datedelivered": "2026-12-08T00:30:00+13:00",  # half past midnight in Auckland (NZDT)
        },
    )
    row = api.get(f"invoices({invoice_id})?$select=duedate,datedelivered").json()
    assert row["duedate"] == "2030-02-01"
    assert row["datedelivered"] == "2026-12-07T11:30:00Z"


def test_a_time_sent_to_the_date_only_due_date_is_refused(sb: DataverseSandbox, api: WebApiClient) -> None:
    response = api.post(
        "invoices",
        {
            "name": "Bad",
            "customerid_account@odata.bind": f"/accounts({_account(sb)})",
            "duedate": "2030-02-01T00:00:00Z",
        },
    )
    assert response.status_code == 400
    assert "Edm.Date" in response.json()["error"]["message"]


def test_the_metadata_names_each_behaviour_and_format(sb: DataverseSandbox, api: WebApiClient) -> None:
    attributes = api.get(
        "EntityDefinitions(LogicalName='invoice')/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata"
        "?$select=LogicalName,Format,DateTimeBehavior"
    ).json()["value"]
    found = {a["LogicalName"]: (a["DateTimeBehavior"]["Value"], a["Format"]) for a in attributes}
    assert found["duedate"] == ("DateOnly", "DateOnly")
    assert found["datedelivered"] == ("UserLocal", "DateOnly")


def test_the_administrators_time_zone_is_auckland(sb: DataverseSandbox) -> None:
    admin = WebApiClient(sb, user_token(sb, "admin@contoso.example"))
    me = admin.get("WhoAmI").json()["UserId"]
    (settings,) = admin.get(
        f"usersettingscollection?$select=timezonecode&$filter=systemuserid eq {me}"
    ).json()["value"]
    (zone,) = admin.get(
        f"timezonedefinitions?$select=standardname&$filter=timezonecode eq {settings['timezonecode']}"
    ).json()["value"]
    assert zone["standardname"] == "New Zealand Standard Time"
