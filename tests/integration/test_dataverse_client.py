"""DataverseClient against the sandbox Web API over TLS: one-GET invoice reads, paging, conditional writes,
upserts by alternate key, atomic $batch, and every failure mapped to the connector's errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from local.sandbox.dataverse import DataverseSandbox
from shared.config import Settings
from shared.dataverse.batch import BatchRequest
from shared.dataverse.client import DataverseClient
from shared.dataverse.tokens import AppOnlyTokens, DelegatedTokens
from shared.errors import ConcurrencyError, FatalError, NotFoundError, ReconnectRequired, RetriableError
from tests.support.dataverse_sign_in import LIMITED, signed_in


@pytest.fixture
def client(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> DataverseClient:
    env_url = sb.env_url("contoso")
    tokens = AppOnlyTokens(dataverse_settings, dataverse_session, sb.identity.environments[0].tenant_id)
    return DataverseClient(env_url, tokens.for_org(env_url), dataverse_session, timeout=5)


def gets_of(sb: DataverseSandbox, template: str) -> int:
    return sum(
        r["count"] for r in sb.counter.as_list() if r["method"] == "GET" and r["path"].endswith(template)
    )


def row_id(client: DataverseClient, entity_set: str, condition: str) -> str:
    (row,) = client.get_all(f"{entity_set}?$filter={condition}")
    return str(row[f"{entity_set[:-1]}id"])


def test_one_get_reads_an_invoice_with_its_lines_products_and_customer(
    sb: DataverseSandbox, client: DataverseClient
) -> None:
    # GIVEN the demo invoice INV-00001 (Fabrikam, a widget line and a consulting line)
    invoice_id = row_id(client, "invoices", "invoicenumber eq 'INV-00001'")
    sb.counter.reset()
    # WHEN the client reads it with its expands
    invoice = client.get(
        f"invoices({invoice_id})?$select=name,invoicenumber,totalamount&$expand=customerid_account($select=name),"
        "transactioncurrencyid($select=isocurrencycode),"
        "invoice_details($select=quantity,lineitemnumber;$expand=productid($select=productnumber))"
    )
    # THEN one request brought everything, with formatted-value annotations
    assert gets_of(sb, "invoices({id})") == 1 and len(sb.counter.as_list()) == 1
    assert invoice["customerid_account"]["name"] == "Fabrikam Ltd"
    assert invoice["transactioncurrencyid"]["isocurrencycode"] == "USD"
    assert sorted(line["productid"]["productnumber"] for line in invoice["invoice_details"]) == [
        "SVC-HOUR",
        "WIDGET-01",
    ]
    assert "totalamount@OData.Community.Display.V1.FormattedValue" in invoice


def test_get_all_follows_next_links(sb: DataverseSandbox, client: DataverseClient) -> None:
    sb.counter.reset()
    products = client.get_all("products?$select=productnumber", page_size=4)
    assert len(products) == 6 and len({p["productnumber"] for p in products}) == 6
    assert gets_of(sb, "products") == 2


def test_a_write_with_a_stale_etag_is_a_concurrency_error(client: DataverseClient) -> None:
    # GIVEN an account read with its ETag, then changed by someone else
    account_id = client.create("accounts", {"name": "Contoso Pharma", "accountnumber": "CP-1"})
    etag = client.get(f"accounts({account_id})?$select=name")["@odata.etag"]
    client.update("accounts", account_id, {"telephone1": "+1 555 0100"}, etag=etag)
    # WHEN the connector writes with the ETag it read first
    with pytest.raises(ConcurrencyError):
        client.update("accounts", account_id, {"name": "Stale"}, etag=etag)
    # THEN the other change stands; with the fresh ETag the write goes through
    fresh = client.get(f"accounts({account_id})?$select=name,telephone1")
    assert (fresh["name"], fresh["telephone1"]) == ("Contoso Pharma", "+1 555 0100")
    client.update("accounts", account_id, {"name": "Contoso Pharma Ltd"}, etag=fresh["@odata.etag"])
    assert client.get(f"accounts({account_id})?$select=name")["name"] == "Contoso Pharma Ltd"


def test_an_update_never_recreates_a_deleted_row(client: DataverseClient) -> None:
    account_id = client.create("accounts", {"name": "Short-lived"})
    assert client.delete("accounts", account_id) is True
    assert client.delete("accounts", account_id) is False
    with pytest.raises(NotFoundError):
        client.update("accounts", account_id, {"name": "Back again?"})
    assert client.get_all(f"accounts?$filter=accountid eq {account_id}") == []


def test_upsert_by_alternate_key_creates_then_updates(client: DataverseClient) -> None:
    # GIVEN an alternate key on account number (its dxc_ prefix needs a publisher)
    client.create(
        "publishers",
        {"uniquename": "dxcpublisher", "friendlyname": "dxc", "customizationprefix": "dxc",
         "customizationoptionvalueprefix": 72838},
    )  # fmt: skip
    client.create(
        "EntityDefinitions(LogicalName='account')/Keys",
        {
            "SchemaName": "dxc_AccountNumber_Key",
            "KeyAttributes": ["accountnumber"],
            "DisplayName": {"LocalizedLabels": [{"Label": "Account number", "LanguageCode": 1033}]},
        },
    )
    # WHEN a row is upserted twice by a key value with a quote in it
    created = client.upsert_by_key("accounts", {"accountnumber": "O'B-9"}, {"name": "First"})
    updated = client.upsert_by_key("accounts", {"accountnumber": "O'B-9"}, {"name": "Second"})
    # THEN the first call created it and the second changed the same row
    assert (created, updated) == (True, False)
    rows = client.get_all("accounts?$select=name&$filter=accountnumber eq 'O''B-9'")
    assert [r["name"] for r in rows] == ["Second"]


def test_a_batch_change_set_is_all_or_nothing(client: DataverseClient) -> None:
    # GIVEN an invoice and its line in one change set, the line pointing at the invoice through $1
    product_id = row_id(client, "products", "productnumber eq 'GADGET-02'")
    invoice = BatchRequest("POST", "invoices", {"name": "Batch invoice"})
    line = BatchRequest(
        "POST",
        "invoicedetails",
        {"invoiceid@odata.bind": "$1", "quantity": 2, "productid@odata.bind": f"/products({product_id})"},
    )
    # WHEN it is sent
    answers = client.batch([invoice, line])
    # THEN both were created together
    assert [a.status for a in answers] == [204, 204]
    (stored,) = client.get_all("invoices?$select=totalamount&$filter=name eq 'Batch invoice'")
    assert stored["totalamount"] == 198
    # WHEN a change set has one bad request
    bad = BatchRequest("POST", "invoicedetails", {"invoiceid@odata.bind": "$1", "nosuchcolumn": 1})
    with pytest.raises(FatalError) as refused:
        client.batch([BatchRequest("POST", "invoices", {"name": "Never kept"}), bad])
    # THEN nothing of it was kept, and Dataverse's reason is in the error
    assert "nosuchcolumn" in str(refused.value)
    assert client.get_all("invoices?$filter=name eq 'Never kept'") == []


def test_throttling_is_retriable_after_the_delay_dataverse_asked_for(
    sb: DataverseSandbox, client: DataverseClient
) -> None:
    client.whoami()
    sb.limits.update({"requests_per_window": 2})
    client.whoami()
    with pytest.raises(RetriableError) as throttled:
        client.whoami()
    assert throttled.value.retry_after is not None and throttled.value.retry_after >= 1


def test_an_unavailable_service_and_a_timeout_are_retriable(
    sb: DataverseSandbox,
    dataverse_settings: Settings,
    dataverse_session: requests.Session,
    client: DataverseClient,
) -> None:
    sb.faults.update({"error_rate": 1.0})
    with pytest.raises(RetriableError, match="HTTP 503"):
        client.whoami()
    sb.faults.update({"error_rate": 0.0, "slow_rate": 1.0, "slow_seconds": 0.6})
    tokens = AppOnlyTokens(dataverse_settings, dataverse_session, sb.identity.environments[0].tenant_id)
    impatient = DataverseClient(
        client.org_url, tokens.for_org(client.org_url), dataverse_session, timeout=0.2
    )
    with pytest.raises(RetriableError, match="ReadTimeout"):
        impatient.whoami()


def test_a_refused_token_is_a_reconnect_without_the_token_in_the_message(
    sb: DataverseSandbox, dataverse_session: requests.Session
) -> None:
    # GIVEN a token Dataverse does not accept, even after the one forced refresh
    calls: list[bool] = []

    def provider(*, force_refresh: bool = False) -> str:
        calls.append(force_refresh)
        return "eyJ-not-a-valid-token-secret-value"

    client = DataverseClient(sb.env_url("contoso"), provider, dataverse_session)
    # WHEN the client calls
    with pytest.raises(ReconnectRequired) as refused:
        client.whoami()
    # THEN it tried exactly once more with a refreshed token, then asked for a reconnect
    assert calls == [False, True]
    assert refused.value.side == "dynamics"
    assert "not-a-valid-token" not in str(refused.value) and "not-a-valid-token" not in repr(refused.value)


def limited_client(
    sb: DataverseSandbox, dataverse_settings: Settings, dataverse_session: requests.Session
) -> DataverseClient:
    result = signed_in(sb, dataverse_settings, dataverse_session, LIMITED)
    tokens = DelegatedTokens(
        dataverse_settings,
        dataverse_session,
        result.cache_blob,
        result.home_account_id,
        tenant=result.tenant_id,
    )
    return DataverseClient(sb.env_url("contoso"), tokens.for_org(sb.env_url("contoso")), dataverse_session)


def test_missing_privileges_and_invalid_requests_are_fatal_with_dataverses_reason(
    sb: DataverseSandbox,
    dataverse_settings: Settings,
    dataverse_session: requests.Session,
    client: DataverseClient,
) -> None:
    invoice_id = row_id(client, "invoices", "invoicenumber eq 'INV-00001'")
    limited = limited_client(sb, dataverse_settings, dataverse_session)
    attempts: list[Callable[[], object]] = [
        lambda: limited.update("invoices", invoice_id, {"name": "Renamed"}),
        lambda: client.update("invoices", invoice_id, {"nosuchcolumn": "x"}),
    ]
    reasons = []
    for attempt in attempts:
        with pytest.raises(FatalError) as refused:
            attempt()
        reasons.append(str(refused.value))
    assert "prvWriteInvoice" in reasons[0]
    assert "nosuchcolumn" in reasons[1]
    assert client.get(f"invoices({invoice_id})?$select=name")["name"] == "Widgets for Fabrikam"
