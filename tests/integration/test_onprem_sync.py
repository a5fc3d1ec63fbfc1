"""Reference refresh and Xero -> Dynamics on a Dynamics 365 on-premises connection (issue 18): the same
workers, the same DataverseClient, against the sandbox's Fabrikam organisation (Web API 9.1 at
`https://{server}/fabrikam`, tokens from the AD FS stand-in). Real HTTP to both sandboxes, real Azurite;
the assertions read what Fabrikam holds and which paths and token endpoints the sandbox counted."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local.azurite import Azurite
from shared.connections.connections import activate, create_connection
from shared.connections.dynamics_access import dataverse_client_for
from shared.connections.install_service import install_into_dynamics
from shared.connections.onprem_connect import OnPremConnect
from shared.connections.pick_state import FlowStates
from shared.connections.results import Connected
from shared.crypto import KeyRing
from shared.dataverse import schema
from shared.reference.worker import handle_refresh_message, refresh_message
from shared.store.models import Connection, utc_now
from shared.store.oauth_state import OAuthStateStore
from shared.xero.oauth import XeroOAuth
from shared.xero_inbound.apply import handle_xero_message
from shared.xero_inbound.messages import XeroInvoicesMessage
from tests.support.stack import LocalStack, _token_set

CLIENT_ID, SECRET = "7c2d1e0f-4a5b-4c6d-8e9f-fabrikam0003", "adfs-sync-secret-0003"
NZ = "Demo Company (NZ)"


@pytest.fixture(scope="module")
def stack(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    work = Path(tmp_path_factory.mktemp("onprem-sync"))
    running = LocalStack(prefix="os" + uuid.uuid4().hex[:8], azurite=azurite, work_dir=work).start(
        with_host=False
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def onprem(stack: LocalStack) -> Connection:
    """Xero's NZ organisation and the on-premises Fabrikam (app-only through AD FS), installed, active."""
    app = stack.app
    store, settings = app.connections(), app.settings
    connection = create_connection(store, "account-onprem", "Fabrikam", "trial", utc_now)
    tenant = stack.tenant_id(NZ)
    grant = requests.post(f"{stack.xero.url}/_sandbox/tokens", json={"tenants": [tenant]}, timeout=10).json()
    tokens = _token_set(grant)
    chosen = next(
        t
        for t in XeroOAuth(app.session(), settings).list_connections(tokens.access_token)
        if t.tenant_id == tenant
    )
    app.xero_tokens().save_grant(connection.id, tokens, chosen)
    stack.dataverse.register_adfs_client(
        CLIENT_ID, SECRET, ["https://connector.example/oauth/dynamics/callback"]
    )
    flows = FlowStates(
        OAuthStateStore.from_settings(settings, utc_now),
        KeyRing.from_setting(settings.token_encryption_keys),
        "dynamics",
    )
    form = {
        "org_url": stack.dataverse.onprem.org_url(),
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "mode": "app",
    }
    assert OnPremConnect(store, flows, settings).begin(
        "account-onprem", connection.id, form, ""
    ) == Connected("Fabrikam (on-premises)")
    connection = store.require(connection.id)
    client = dataverse_client_for(connection, store, settings, app.session())
    outcome = install_into_dynamics(store, connection, client, settings, xero_for=app.xero_for)
    assert not outcome.missing_privileges, outcome
    return activate(store, "account-onprem", connection.id, utc_now)


def _fabrikam(stack: LocalStack, connection: Connection) -> Any:
    app = stack.app
    return dataverse_client_for(
        app.connections().require(connection.id), app.connections(), app.settings, app.session()
    )


def _calls(stack: LocalStack) -> list[dict[str, Any]]:
    return list(stack.dataverse.counter.as_list())


def _on_premises_only(calls: list[dict[str, Any]]) -> None:
    """Every Dataverse call went to Fabrikam's 9.1 endpoint, none to Dynamics online, Entra ID or Global
    Discovery (Fabrikam answers only tokens its AD FS issued, so each answered call carried one)."""
    organisations = {c["organisation"] for c in calls} - {"adfs", ""}
    assert organisations == {"fabrikam"}, organisations
    paths = [c["path"] for c in calls if c["organisation"] == "fabrikam"]
    assert paths and all(p.startswith("/api/data/v9.1/") for p in paths), paths
    assert not [c for c in calls if "/oauth2/v2.0/token" in c["path"] or "/api/discovery/v2.0/" in c["path"]]


def test_reference_refresh_fills_the_on_premises_tables(stack: LocalStack, onprem: Connection) -> None:
    stack.dataverse.counter.reset()
    handle_refresh_message(refresh_message(onprem.id), "inv-onprem-1", stack.app.reference_worker())

    fabrikam = _fabrikam(stack, onprem)
    tax_types = {r["dxc_taxtype"] for r in fabrikam.get_all("dxc_xerotaxrates?$select=dxc_taxtype")}
    xero = requests.get(f"{stack.xero.url}/_sandbox/orgs/{onprem.xero.tenant_id}/TaxRates", timeout=10).json()
    assert tax_types == {t["TaxType"] for t in xero} and tax_types
    assert {r["dxc_code"] for r in fabrikam.get_all("dxc_xerocurrencys?$select=dxc_code")} >= {"NZD"}
    refreshed = stack.app.connections().require(onprem.id).reference
    assert refreshed.last_error == "" and refreshed.last_refresh_at is not None
    assert refreshed.counts["taxrates"] == len(tax_types)
    _on_premises_only(_calls(stack))


def test_a_change_in_xero_is_written_onto_the_on_premises_invoice(
    stack: LocalStack, onprem: Connection
) -> None:
    """What a push leaves on a Fabrikam invoice (its Xero id), then Xero's webhook message for it."""
    tenant = onprem.xero.tenant_id
    grant = requests.post(f"{stack.xero.url}/_sandbox/tokens", json={"tenants": [tenant]}, timeout=10).json()
    headers = {"Authorization": f"Bearer {grant['access_token']}", "xero-tenant-id": tenant}
    invoice = {
        "Type": "ACCREC",
        "Contact": {"Name": "Fabrikam Residential"},
        "DueDate": "2030-01-31",
        "Status": "AUTHORISED",
        "LineItems": [
            {"Description": "Server room audit", "Quantity": 1, "UnitAmount": 275, "AccountCode": "200"}
        ],
    }
    created = requests.post(
        f"{stack.xero.url}/api.xro/2.0/Invoices", json={"Invoices": [invoice]}, headers=headers, timeout=10
    )
    assert created.status_code == 200, created.text
    xero_id = created.json()["Invoices"][0]["InvoiceID"]
    fabrikam = _fabrikam(stack, onprem)
    row = fabrikam.create(
        "invoices",
        {"name": "On-premises order", schema.INVOICE_XERO_ID: xero_id, schema.INVOICE_XERO_STATUS: "DRAFT"},
    )
    stack.dataverse.counter.reset()

    body = XeroInvoicesMessage(tenant, (xero_id,), utc_now().isoformat()).to_json()
    outcome = handle_xero_message(body, "inv-onprem-2", stack.app.xero_inbound_worker())

    assert (outcome.result, outcome.written) == ("written", 1)
    shown = fabrikam.get(
        f"invoices({row})?$select={schema.INVOICE_XERO_STATUS},{schema.INVOICE_XERO_AMOUNT_DUE}"
    )
    assert shown[schema.INVOICE_XERO_STATUS] == "AUTHORISED"
    assert float(shown[schema.INVOICE_XERO_AMOUNT_DUE]) == pytest.approx(
        float(created.json()["Invoices"][0]["AmountDue"])
    )
    _on_premises_only(_calls(stack))
