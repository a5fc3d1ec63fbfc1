"""Dataverse webhook bodies → WebhookContext → what the connector does with them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.dataverse.values import parse_ms_date
from shared.dataverse.webhook import (
    EntityRef,
    Ignored,
    InvoiceChange,
    WebhookContext,
    WebhookError,
    classify,
    parse_context,
)

EVENTS = Path(__file__).resolve().parent.parent / "events"
INVOICE_ID = "8a1d4c62-3b7e-4f0a-9c55-2e6f1b7d9a01"
LINE_ID = "b0e1a2c3-0002-4d5e-8f90-a1b2c3d4e5f6"
SIZE_EXCEEDED = {"x-ms-dynamics-msg-size-exceeded": "true"}


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def parse(document: dict[str, Any], headers: dict[str, str] | None = None) -> WebhookContext:
    return parse_context(json.dumps(document).encode(), headers or {})


def samples(webhook_samples_dir: Path) -> list[Path]:
    found = sorted(webhook_samples_dir.glob("*.json"))
    assert found, "Microsoft's webhook samples are missing from the reference folder"
    return found


# --- Microsoft's published bodies: the envelope we must read ---------------------------------------------


def test_every_microsoft_sample_parses_and_is_ignored_with_its_table_named(webhook_samples_dir: Path) -> None:
    for path in samples(webhook_samples_dir):
        # GIVEN a real body from Microsoft's documentation WHEN parsed and classified
        ctx = parse_context(path.read_bytes(), {"x-ms-dynamics-entity-name": "contact"})
        outcome = classify(ctx)
        # THEN it is a post-operation Update of a table the connector does not handle
        assert ctx.message_name == "Update"
        assert outcome == Ignored(f"table {ctx.entity_name} is not handled")
        assert ctx.entity_name in ("contact", "msdyn_agentstatus")


def test_contact_sample_values_become_plain_python(webhook_samples_dir: Path) -> None:
    path = webhook_samples_dir / "ms-docs-use-webhooks-contact-update-async.json"
    ctx = parse_context(path.read_bytes(), {})
    assert ctx.entity_id == "6d81597f-0f9f-e711-8122-000d3aa2331c"
    assert ctx.organization_id == "4ef5b371-e89e-e711-8122-000d3aa2331c"
    assert ctx.organization_name == "OrgName" and ctx.depth == 1 and ctx.request_id is None
    assert ctx.target["firstname"] == "James"
    assert ctx.target["modifiedon"] == datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC)
    assert ctx.target["modifiedby"] == EntityRef("75c2dd85-e89e-e711-8122-000d3aa2331c", "systemuser", None)
    assert ctx.target["modifiedonbehalfby"] is None
    # The only post image is Dataverse's automatic one: picked because nothing is named PostImage.
    assert ctx.post_image == {
        "fullname": "James Glynn (sample)",
        "contactid": "6d81597f-0f9f-e711-8122-000d3aa2331c",
    }
    assert ctx.changed_attributes >= {"firstname", "fullname", "modifiedon"}
    assert not ctx.size_exceeded


def test_agent_status_sample_keeps_its_row_version(webhook_samples_dir: Path) -> None:
    path = webhook_samples_dir / "ms-docs-contact-center-presence-msdyn_agentstatus-update.json"
    ctx = parse_context(path.read_bytes(), {})
    assert ctx.target_row_version == "5948260"
    assert ctx.organization_name == "unq6042beb1a93aef118e4b00224802c"
    assert ctx.target["timezoneruleversionnumber"] == 4


# --- Our invoice bodies -----------------------------------------------------------------------------------


def test_invoice_create_is_pushed_with_the_post_image_version() -> None:
    ctx = parse(event("invoice_create.json"))
    assert classify(ctx) == InvoiceChange(invoice_id=INVOICE_ID, line_id=None, version=5948260)
    assert ctx.target["totalamount"] == Decimal("1143.85")
    assert ctx.target["statecode"] == 0
    assert ctx.target["customerid"] == EntityRef(
        "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "account", "Kauri Timber Ltd"
    )
    # -0700 is informational in .NET's format: the same instant as the plain value
    assert ctx.target["createdon"] == ctx.target["datedelivered"] == datetime(2026, 3, 1, 11, 30, tzinfo=UTC)


def test_invoice_update_prefers_the_image_named_postimage() -> None:
    ctx = parse(event("invoice_update.json"))
    assert ctx.post_image["versionnumber"] == 5948377  # not the AsynchronousStepPrimaryName image sent first
    assert ctx.pre_image == {"name": "Order 1001 - Kauri Timber"}
    assert classify(ctx) == InvoiceChange(invoice_id=INVOICE_ID, version=5948377)


def test_version_falls_back_to_the_targets_row_version_then_none() -> None:
    body = event("invoice_update.json")
    body["PostEntityImages"] = []
    assert classify(parse(body)) == InvoiceChange(invoice_id=INVOICE_ID, version=5948377)
    body["InputParameters"][0]["value"]["RowVersion"] = None
    assert classify(parse(body)) == InvoiceChange(invoice_id=INVOICE_ID, version=None)


def test_the_connectors_own_write_back_is_ignored() -> None:
    ctx = parse(event("invoice_update_write_back.json"))
    outcome = classify(ctx)
    assert isinstance(outcome, Ignored) and "write-back" in outcome.reason
    assert ctx.depth == 2


def test_write_back_alongside_a_business_column_is_pushed_even_at_depth_two() -> None:
    body = event("invoice_update_write_back.json")
    body["InputParameters"][0]["value"]["Attributes"].append({"key": "freightamount", "value": None})
    assert classify(parse(body)) == InvoiceChange(invoice_id=INVOICE_ID, version=5948390)


def test_a_line_change_is_mapped_to_its_invoice() -> None:
    ctx = parse(event("invoicedetail_update.json"))
    assert classify(ctx) == InvoiceChange(invoice_id=INVOICE_ID, line_id=LINE_ID, version=None)
    assert ctx.target["priceperunit"] == Decimal("48.1234")


def test_a_deleted_line_finds_its_invoice_in_the_pre_image() -> None:
    body = event("invoicedetail_update.json")
    body["MessageName"] = "Delete"
    body["InputParameters"][0]["value"] = {"Id": LINE_ID, "LogicalName": "invoicedetail", "Name": None}
    body["PostEntityImages"] = []
    ctx = parse(body)
    assert ctx.target == {}
    assert classify(ctx) == InvoiceChange(invoice_id=INVOICE_ID, line_id=LINE_ID)


def test_a_line_moved_to_another_invoice_names_the_invoice_it_left() -> None:
    # GIVEN an Update that changed the line's invoiceid: the pre-image still names the old invoice
    body = event("invoicedetail_update.json")
    other = "0f0e0d0c-0b0a-4909-8807-060504030201"
    for image in (body["InputParameters"][0]["value"], body["PostEntityImages"][0]["value"]):
        for attribute in image["Attributes"]:
            if attribute["key"] == "invoiceid":
                attribute["value"] = {**attribute["value"], "Id": other}
    change = classify(parse(body))
    # THEN the line's new invoice is pushed, and the one it left too
    assert change == InvoiceChange(invoice_id=other, line_id=LINE_ID, moved_from=INVOICE_ID)


def test_size_exceeded_line_leaves_the_invoice_to_the_worker() -> None:
    ctx = parse(event("invoicedetail_update_size_exceeded.json"), {"X-MS-Dynamics-Msg-Size-Exceeded": "True"})
    assert ctx.size_exceeded and ctx.target == {} and ctx.post_image == {}
    assert classify(ctx) == InvoiceChange(invoice_id=None, line_id=LINE_ID)


def test_size_exceeded_invoice_update_is_pushed_without_a_version() -> None:
    body = event("invoice_update.json")
    for part in ("InputParameters", "PreEntityImages", "PostEntityImages"):
        del body[part]
    ctx = parse(body, SIZE_EXCEEDED)
    assert ctx.size_exceeded and ctx.changed_attributes == frozenset()
    assert classify(ctx) == InvoiceChange(invoice_id=INVOICE_ID, version=None)


@pytest.mark.parametrize("message", ["Delete", "Assign", "SetState"])
def test_other_invoice_messages_are_ignored(message: str) -> None:
    body = event("invoice_update.json")
    body["MessageName"] = message
    assert classify(parse(body)) == Ignored(f"message {message} on invoice is not handled")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1506384247000)/", datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC)),
        ("/Date(1506384247000+0000)/", datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC)),
        ("/Date(1506384247000-0700)/", datetime(2017, 9, 26, 0, 4, 7, tzinfo=UTC)),
        ("/Date(-86400000)/", datetime(1969, 12, 31, tzinfo=UTC)),
        ("/Date(99999999999999999)/", None),  # too many digits: not a date
        ("/Date(1506384247000)", None),
        ("Date(1506384247000)", None),
    ],
)
def test_ms_dates(text: str, expected: datetime | None) -> None:
    assert parse_ms_date(text) == expected


# --- Malformed bodies: WebhookError naming the field ------------------------------------------------------


def mutated(change: Any) -> dict[str, Any]:
    body = event("invoice_update.json")
    change(body)
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.pop("MessageName"), "MessageName"),
        (lambda b: b.update(MessageName=7), "MessageName"),
        (lambda b: b.update(PrimaryEntityName=""), "PrimaryEntityName"),
        (lambda b: b.update(PrimaryEntityId="not-a-guid"), "PrimaryEntityId"),
        (lambda b: b.pop("OrganizationId"), "OrganizationId"),
        (lambda b: b.update(Depth="1"), "Depth"),
        (lambda b: b.update(Depth=True), "Depth"),
        (lambda b: b.update(CorrelationId=5), "CorrelationId"),
        (lambda b: b.update(InputParameters={"Target": {}}), "InputParameters"),
        (lambda b: b["InputParameters"].append(3), "InputParameters[2]"),
        (
            lambda b: b["InputParameters"][0]["value"].update(Attributes={}),
            "InputParameters[0].value.Attributes",
        ),
        (
            lambda b: b["InputParameters"][0]["value"]["Attributes"][0].update(key=None),
            "InputParameters[0].value.Attributes[0].key",
        ),
        (lambda b: b["InputParameters"][0].update(value=[]), "InputParameters[0].value"),
        (
            lambda b: b["InputParameters"][0]["value"]["Attributes"][4]["value"].update(Id=12),
            "InputParameters[0].value.Attributes[4].value.Id",
        ),
        (lambda b: b.update(PostEntityImages="PostImage"), "PostEntityImages"),
        (lambda b: b["PreEntityImages"][0].update(value="x"), "PreEntityImages[0].value"),
    ],
)
def test_malformed_bodies_name_the_field(change: Any, field: str) -> None:
    with pytest.raises(WebhookError) as caught:
        parse(mutated(change))
    assert caught.value.field == field


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b"\xff\xfe\x00", b"1" * 5000, b"[" * 100_000])
def test_bodies_that_are_not_a_json_object(body: bytes) -> None:
    with pytest.raises(WebhookError) as caught:
        parse_context(body, {})
    assert caught.value.field == "body"


def test_money_that_is_not_a_number_is_refused() -> None:
    body = event("invoice_create.json")
    money = next(a for a in body["InputParameters"][0]["value"]["Attributes"] if a["key"] == "totalamount")
    money["value"]["Value"] = "lots"
    with pytest.raises(WebhookError, match="Value"):
        parse(body)


# --- Whatever the bytes: a context or a WebhookError, nothing else ----------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
VALID_BODIES = [
    "invoice_create.json",
    "invoice_update.json",
    "invoice_update_write_back.json",
    "invoicedetail_update.json",
    "invoicedetail_update_size_exceeded.json",
]


def only_context_or_webhook_error(body: bytes, headers: dict[str, str]) -> None:
    try:
        ctx = parse_context(body, headers)
    except WebhookError as error:
        assert error.field
        return
    assert isinstance(classify(ctx), InvoiceChange | Ignored)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += paths(child, (*prefix, index))
    return found


def apply(body: dict[str, Any], path: tuple[Any, ...], how: str, value: Any) -> Any:
    if not path:
        return value
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if how == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=300), size_exceeded=st.booleans())
def test_arbitrary_bytes(body: bytes, size_exceeded: bool) -> None:
    only_context_or_webhook_error(body, SIZE_EXCEEDED if size_exceeded else {})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_valid_bodies(data: st.DataObject) -> None:
    body = event(data.draw(st.sampled_from(VALID_BODIES)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths(body)))
        how = data.draw(st.sampled_from(["delete", "replace", "huge"])) if path else "replace"
        value = "x" * 300_000 if how == "huge" else data.draw(JSON_VALUES)
        body = apply(body, path, how, copy.deepcopy(value))
    raw = json.dumps(body).encode()
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    only_context_or_webhook_error(raw, {})
