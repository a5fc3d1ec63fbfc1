"""Webhooks fire like Dataverse's: registered through the Web API, the RemoteExecutionContext envelope of
Microsoft's samples, filtering attributes, retries only on 502/503/504, size limit, Depth along a chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.sandbox.dataverse import DataverseSandbox

from .helpers import Receiver, WebApiClient, register_image, register_step, register_webhook


def _samples(webhook_samples_dir: Path) -> list[dict[str, Any]]:
    files = sorted(webhook_samples_dir.glob("*.json"))
    assert files, "Microsoft's webhook samples are missing"
    return [json.loads(f.read_text()) for f in files]


def _account(sb: DataverseSandbox) -> str:
    return str(sb.state.rows("contoso", "accounts")[0]["accountid"])


def _create_invoice(sb: DataverseSandbox, api: WebApiClient, **extra: Any) -> str:
    return api.create(
        "invoices", {"name": "Hooked", "customerid_account@odata.bind": f"/accounts({_account(sb)})", **extra}
    )


def test_create_fires_the_sample_envelope_with_the_webhook_key(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver, webhook_samples_dir: Path
) -> None:
    # GIVEN a webhook registered for Create of invoice, exactly as an installer would
    endpoint = register_webhook(api, receiver.url, authvalue="s3cret")
    step = register_step(api, endpoint, "Create", "invoice")
    register_image(api, step, 1)  # a post-image of every column
    # WHEN an invoice is created through the Web API
    invoice_id = _create_invoice(sb, api, duedate="2030-02-01")
    # THEN one POST arrives with the key, the headers and Microsoft's envelope
    call = receiver.wait_for(1)[0]
    assert call["args"] == {"code": "s3cret"}
    headers = {k.lower(): v for k, v in call["headers"].items()}
    assert headers["x-ms-dynamics-entity-name"] == "invoice"
    assert headers["x-ms-dynamics-request-name"] == "Create"
    assert headers["x-ms-dynamics-organization"] == "127.0.0.1"
    assert headers["content-type"].startswith("application/json")
    assert "\\/Date(" in call["body"]  # slashes escaped like .NET's serializer
    body = json.loads(call["body"])
    samples = _samples(webhook_samples_dir)
    assert set(body) == set().union(*(set(s) for s in samples))
    for sample in samples:
        sample_target = sample["InputParameters"][0]["value"]
        assert set(body["InputParameters"][0]["value"]) == set(sample_target)
        assert set(body["OwningExtension"]) == set(sample["OwningExtension"])
        assert set(body["PostEntityImages"][0]["value"]) == set(sample["PostEntityImages"][0]["value"])
        assert set(body["ParentContext"]) <= set(sample["ParentContext"]) | {
            "InitiatingUserAgent",
            "InitiatingUserAzureActiveDirectoryObjectId",
            "UserAzureActiveDirectoryObjectId",
        }
    assert (body["MessageName"], body["PrimaryEntityName"], body["PrimaryEntityId"]) == (
        "Create",
        "invoice",
        invoice_id,
    )
    assert (body["Depth"], body["Stage"], body["Mode"]) == (1, 40, 1)
    assert body["OwningExtension"]["Id"] == step
    assert body["OrganizationName"].startswith("unq")
    assert headers["x-ms-correlation-request-id"] == body["CorrelationId"]
    target = {a["key"]: a["value"] for a in body["InputParameters"][0]["value"]["Attributes"]}
    assert target["customerid"]["__type"].startswith("EntityReference:")
    assert list(target["customerid"]) == [
        "__type",
        "Id",
        "KeyAttributes",
        "LogicalName",
        "Name",
        "RowVersion",
    ]
    assert target["totalamount"] == {
        "__type": "Money:http://schemas.microsoft.com/xrm/2011/Contracts",
        "Value": 0.0,
    }
    assert target["statecode"]["__type"].startswith("OptionSetValue:")
    assert target["duedate"].startswith("/Date(")
    post = {i["key"]: i["value"] for i in body["PostEntityImages"]}["PostImage"]
    image = {a["key"]: a["value"] for a in post["Attributes"]}
    assert image["versionnumber"] == sb.state.rows("contoso", "invoices")[-1]["versionnumber"]
    assert "modifiedon" in image


def test_update_honours_filtering_attributes(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    invoice_id = _create_invoice(sb, api)
    register_step(api, register_webhook(api, receiver.url), "Update", "invoice", filtering="name,duedate")
    assert api.patch(f"invoices({invoice_id})", {"description": "not watched"}).status_code == 204
    assert api.patch(f"invoices({invoice_id})", {"name": "watched"}).status_code == 204
    calls = receiver.wait_for(1)
    assert sb.webhooks.wait_idle()
    assert len(receiver.calls) == 1
    target = {
        a["key"]: a["value"]
        for a in json.loads(calls[0]["body"])["InputParameters"][0]["value"]["Attributes"]
    }
    assert target["name"] == "watched" and "description" not in target


def test_line_change_fires_for_invoicedetail_with_its_invoice(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    invoice_id = _create_invoice(sb, api)
    step = register_step(api, register_webhook(api, receiver.url), "Create", "invoicedetail")
    register_image(api, step, 1, "invoiceid,quantity")
    api.create(
        "invoicedetails",
        {
            "invoiceid@odata.bind": f"/invoices({invoice_id})",
            "quantity": 1,
            "priceperunit": 5,
            "isproductoverridden": True,
            "productdescription": "Extra",
        },
    )
    body = json.loads(receiver.wait_for(1)[0]["body"])
    assert body["PrimaryEntityName"] == "invoicedetail"
    for attributes in (
        body["InputParameters"][0]["value"]["Attributes"],
        body["PostEntityImages"][1]["value"]["Attributes"],
    ):
        invoice_ref = {a["key"]: a["value"] for a in attributes}["invoiceid"]
        assert (invoice_ref["Id"], invoice_ref["LogicalName"]) == (invoice_id, "invoice")
    assert {a["key"] for a in body["PostEntityImages"][1]["value"]["Attributes"]} == {"invoiceid", "quantity"}


def _line(api: WebApiClient, invoice_id: str) -> str:
    return api.create(
        "invoicedetails",
        {
            "invoiceid@odata.bind": f"/invoices({invoice_id})",
            "quantity": 1,
            "priceperunit": 5,
            "isproductoverridden": True,
            "productdescription": "Extra",
        },
    )


def test_a_step_without_images_gets_none_but_the_automatic_primary_name(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    # Learn "Use webhooks": the Update sample's only image is AsynchronousStepPrimaryName
    invoice_id = _create_invoice(sb, api)
    line_id = _line(api, invoice_id)
    register_step(api, register_webhook(api, receiver.url), "Update", "invoicedetail")
    assert api.patch(f"invoicedetails({line_id})", {"quantity": 3}).status_code == 204
    body = json.loads(receiver.wait_for(1)[0]["body"])
    assert body["PreEntityImages"] == []
    assert [i["key"] for i in body["PostEntityImages"]] == ["AsynchronousStepPrimaryName"]
    target = {a["key"] for a in body["InputParameters"][0]["value"]["Attributes"]}
    assert "quantity" in target and "invoiceid" not in target  # only what changed (and what derives)


def test_a_delete_sends_a_reference_and_only_the_registered_pre_image(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    invoice_id = _create_invoice(sb, api)
    line_id = _line(api, invoice_id)
    step = register_step(api, register_webhook(api, receiver.url), "Delete", "invoicedetail")
    register_image(api, step, 0, "invoiceid")
    register_image(api, step, 1, "", alias="NeverOnDelete")  # Delete has no post-image
    assert api.delete(f"invoicedetails({line_id})").status_code == 204
    body = json.loads(receiver.wait_for(1)[0]["body"])
    target = body["InputParameters"][0]["value"]
    assert target["__type"].startswith("EntityReference:") and "Attributes" not in target
    assert (target["Id"], target["LogicalName"]) == (line_id, "invoicedetail")
    assert body["PostEntityImages"] == []
    (pre,) = body["PreEntityImages"]
    assert pre["key"] == "PreImage"
    (only,) = pre["value"]["Attributes"]
    assert only["key"] == "invoiceid" and only["value"]["Id"] == invoice_id


def test_an_update_pre_image_shows_the_row_before_the_change(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    invoice_id = _create_invoice(sb, api)
    line_id = _line(api, invoice_id)
    step = register_step(api, register_webhook(api, receiver.url), "Update", "invoicedetail")
    register_image(api, step, 2, "quantity", alias="Both")
    assert api.patch(f"invoicedetails({line_id})", {"quantity": 7}).status_code == 204
    body = json.loads(receiver.wait_for(1)[0]["body"])
    pre = {i["key"]: i["value"] for i in body["PreEntityImages"]}["Both"]
    post = {i["key"]: i["value"] for i in body["PostEntityImages"]}["Both"]
    assert pre["Attributes"] == [{"key": "quantity", "value": 1}]
    assert post["Attributes"] == [{"key": "quantity", "value": 7}]


@pytest.mark.parametrize(("statuses", "attempts"), [([503, 202], 2), ([500], 1), ([502, 504], 2)])
def test_only_502_503_504_get_one_more_attempt(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver, statuses: list[int], attempts: int
) -> None:
    sb.limits.update({"webhook_retry_delay_seconds": 0.01})
    register_step(api, register_webhook(api, receiver.url), "Create", "invoice")
    receiver.statuses = list(statuses)
    _create_invoice(sb, api)
    receiver.wait_for(attempts)
    assert sb.webhooks.wait_idle()
    assert len(receiver.calls) == attempts
    deliveries = api.http.get(f"{sb.url}/_sandbox/deliveries").json()["deliveries"]
    assert [(d["attempt"], d["status"]) for d in deliveries] == list(
        zip(range(1, attempts + 1), statuses, strict=True)
    )
    assert deliveries[0]["url"] == receiver.url


def test_oversized_message_drops_parameters_and_images(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    sb.limits.update({"webhook_max_body_bytes": 4000})  # stands in for 256 KB
    register_step(api, register_webhook(api, receiver.url), "Create", "invoice")
    _create_invoice(sb, api, description="x" * 2000)
    call = receiver.wait_for(1)[0]
    body = json.loads(call["body"])
    assert {k.lower(): v for k, v in call["headers"].items()}["x-ms-dynamics-msg-size-exceeded"] == "true"
    assert body["InputParameters"] == [] and body["PostEntityImages"] == [] and body["PreEntityImages"] == []
    assert body["ParentContext"] is None
    assert body["PrimaryEntityId"]


def test_header_and_query_string_auth(sb: DataverseSandbox, api: WebApiClient, receiver: Receiver) -> None:
    settings = '<settings><setting name="x-api-key" value="k&amp;1"/></settings>'
    register_step(
        api, register_webhook(api, receiver.url, authtype=5, authvalue=settings), "Create", "invoice"
    )
    register_step(
        api,
        register_webhook(
            api,
            receiver.url + "?a=1",
            authtype=6,
            authvalue='<settings><setting name="token" value="t2"/></settings>',
        ),
        "Create",
        "invoice",
    )
    _create_invoice(sb, api)
    calls = receiver.wait_for(2)
    assert any(c["headers"].get("X-Api-Key") == "k&1" for c in calls)
    assert any(c["args"] == {"a": "1", "token": "t2"} for c in calls)
    endpoints = api.get("serviceendpoints").json()["value"]
    assert endpoints and all("authvalue" not in e for e in endpoints)  # write-only


def test_depth_grows_when_a_call_carries_the_webhook_correlation(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    endpoint = register_webhook(api, receiver.url)
    register_step(api, endpoint, "Create", "invoice")
    register_step(api, endpoint, "Update", "invoice", filtering="name")
    invoice_id = _create_invoice(sb, api)
    first = json.loads(receiver.wait_for(1)[0]["body"])
    # the receiver's handler writes back, passing the correlation id it was given
    api.patch(
        f"invoices({invoice_id})",
        {"name": "from the webhook"},
        headers={"x-ms-correlation-request-id": first["CorrelationId"]},
    )
    second = json.loads(receiver.wait_for(2)[1]["body"])
    assert (second["MessageName"], second["Depth"], second["CorrelationId"]) == (
        "Update",
        2,
        first["CorrelationId"],
    )
    api.patch(f"invoices({invoice_id})", {"name": "a user edit"})
    third = json.loads(receiver.wait_for(3)[2]["body"])
    assert third["Depth"] == 1 and third["CorrelationId"] != first["CorrelationId"]


def test_an_update_of_the_status_and_other_columns_fires_twice_when_split(
    sb: DataverseSandbox, api: WebApiClient, receiver: Receiver
) -> None:
    # Learn, "Behavior of specialized update operations": the state change runs as its own operation
    sb.limits.update({"webhook_split_state_updates": True})
    invoice_id = _create_invoice(sb, api)
    register_step(api, register_webhook(api, receiver.url), "Update", "invoice")
    assert api.patch(f"invoices({invoice_id})", {"name": "Billed", "statuscode": 4}).status_code == 204
    first, second = (json.loads(c["body"]) for c in receiver.wait_for(2))
    targets = [{a["key"] for a in b["InputParameters"][0]["value"]["Attributes"]} for b in (first, second)]
    assert "name" in targets[0] and "statuscode" not in targets[0]
    assert "statuscode" in targets[1] and "name" not in targets[1]
