"""Both sandboxes keep what they hold across a restart when given a state folder (as `make run` does), so
a connection made before the restart keeps working after it: tokens, organisations, invoices and their
numbering in Xero; rows, table definitions, webhook registrations and tokens in Dataverse."""

from __future__ import annotations

import base64
from pathlib import Path

import requests

from local.sandbox.dataverse import DataverseSandbox
from local.sandbox.persist import StateFile
from local.sandbox.tests.dataverse.helpers import (
    WebApiClient,
    app_token,
    create_publisher,
    register_webhook,
    session_for,
    user_token,
)
from local.sandbox.xero import XeroSandbox

NZ = "Demo Company (NZ)"


def _xero_http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _refresh(url: str, refresh_token: str) -> requests.Response:
    basic = base64.b64encode(b"sandbox-xero-client:sandbox-xero-secret").decode()
    return _xero_http().post(
        f"{url}/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )


def _put_invoice(url: str, token: str, tenant: str) -> dict[str, object]:
    body = {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"Name": "Restart Ltd"},
                "LineItems": [
                    {"Description": "Before", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}
                ],
                "Status": "AUTHORISED",
                "DueDate": "2030-01-31",
            }
        ]
    }
    answer = _xero_http().put(
        f"{url}/api.xro/2.0/Invoices",
        json=body,
        headers={"Authorization": f"Bearer {token}", "xero-tenant-id": tenant, "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    invoice: dict[str, object] = answer.json()["Invoices"][0]
    return invoice


def test_sandbox_xero_keeps_tokens_organisations_and_invoices_across_a_restart(tmp_path: Path) -> None:
    first = XeroSandbox(state_dir=tmp_path).start(port=0)
    port = first._server.port if first._server else 0
    tenant = first.state.org(NZ).tenant_id
    grant = _xero_http().post(f"{first.url}/_sandbox/tokens", json={"tenants": [tenant]}, timeout=10).json()
    before = _put_invoice(first.url, grant["access_token"], tenant)
    first.stop()

    second = XeroSandbox(state_dir=tmp_path).start(port=port)
    try:
        assert second.state.org(NZ).invoices[str(before["InvoiceID"])]["Total"] == before["Total"]
        after = _put_invoice(second.url, grant["access_token"], tenant)  # the access token still works
        assert after["InvoiceNumber"] != before["InvoiceNumber"]  # numbering continues, no duplicate
        refreshed = _refresh(second.url, grant["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text  # the connector's saved sign-in survives
        connections = _xero_http().get(
            f"{second.url}/connections",
            headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
            timeout=10,
        )
        assert [c["tenantId"] for c in connections.json()] == [tenant]
    finally:
        second.stop()


def test_sandbox_xero_without_a_state_folder_forgets_as_before(tmp_path: Path) -> None:
    first = XeroSandbox().start(port=0)
    grant = _xero_http().post(f"{first.url}/_sandbox/tokens", json={}, timeout=10).json()
    first.stop()
    second = XeroSandbox().start(port=0)
    try:
        assert _refresh(second.url, grant["refresh_token"]).json() == {"error": "invalid_grant"}
    finally:
        second.stop()


def test_sandbox_dataverse_keeps_rows_definitions_webhooks_and_tokens_across_a_restart(
    tmp_path: Path,
) -> None:
    certs, state = tmp_path / "certs", tmp_path / "state"
    first = DataverseSandbox(cert_dir=certs, state_dir=state).start(port=0)
    port = int(first.url.rsplit(":", 1)[1])
    token, user = app_token(first), user_token(first, "admin@contoso.example")
    api = WebApiClient(first, token)
    account_id = api.create("accounts", {"name": "Restart Ltd"})
    column = {
        "@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
        "SchemaName": "dxc_restartnote",
        "MaxLength": 100,
        "DisplayName": {"LocalizedLabels": [{"Label": "Restart note", "LanguageCode": 1033}]},
    }
    create_publisher(api)
    added = api.post("EntityDefinitions(LogicalName='account')/Attributes", column)
    assert added.status_code == 204, added.text
    endpoint_id = register_webhook(api, "http://127.0.0.1:9/api/dynamics/webhook")
    first.stop()

    second = DataverseSandbox(cert_dir=certs, state_dir=state).start(port=port)
    try:
        for bearer in (token, user):
            found = WebApiClient(second, bearer).get(f"accounts({account_id})?$select=name")
            assert found.status_code == 200, found.text
            assert found.json()["name"] == "Restart Ltd"
        api = WebApiClient(second, token)
        assert api.patch(f"accounts({account_id})", {"dxc_restartnote": "kept"}).status_code == 204
        assert api.get(f"serviceendpoints({endpoint_id})").status_code == 200
    finally:
        second.stop()


def test_a_state_file_from_another_shape_is_set_aside_not_half_read(tmp_path: Path) -> None:
    path = tmp_path / "state.pickle"
    StateFile(path, "shape-1", lambda: b"\x80\x04K\x01.").save()  # pickled 1
    assert StateFile(path, "shape-1", lambda: b"").load() == 1
    assert StateFile(path, "shape-2", lambda: b"").load() is None
    assert not path.exists() and path.with_suffix(".stale").exists()


def test_dataverse_ca_is_reused_so_a_trusted_bundle_survives_restarts(tmp_path: Path) -> None:
    first = DataverseSandbox(cert_dir=tmp_path, seed=False).start(port=0)
    ca = first.ca_path.read_bytes() if first.ca_path else b""
    first.stop()
    second = DataverseSandbox(cert_dir=tmp_path, seed=False).start(port=0)
    try:
        assert second.ca_path is not None and second.ca_path.read_bytes() == ca
        assert session_for(second).get(f"{second.url}/common/v2.0/.well-known/openid-configuration").ok
    finally:
        second.stop()


def test_a_changed_platform_definition_starts_the_sandbox_dataverse_fresh(tmp_path: Path) -> None:
    """After a `git pull` that changes Dataverse's own tables, yesterday's definitions are not served."""
    from local.sandbox.dataverse import persistence

    first = DataverseSandbox(cert_dir=tmp_path / "certs", state_dir=tmp_path / "state").start(port=0)
    api = WebApiClient(first, app_token(first))
    api.create("accounts", {"name": "Before the pull"})
    first.stop()
    saved = StateFile(tmp_path / "state" / "state.pickle", persistence.SHAPE, lambda: b"")
    assert saved.load() is not None  # this version reads it
    other = StateFile(tmp_path / "state" / "state.pickle", persistence.SHAPE + "-next", lambda: b"")
    assert other.load() is None  # a checkout whose platform differs sets it aside
    second = DataverseSandbox(cert_dir=tmp_path / "certs", state_dir=tmp_path / "state").start(port=0)
    try:
        names = [row["name"] for row in second.state.rows("contoso", "accounts")]
        assert "Before the pull" not in names
    finally:
        second.stop()


def test_the_dataverse_shape_follows_the_platform_source() -> None:
    from local.sandbox.dataverse import metadata_builtin
    from local.sandbox.persist import shape_of

    assert shape_of(platform=(metadata_builtin,)) != shape_of()


def test_the_adfs_stand_in_keeps_its_applications_and_tokens_across_a_restart(tmp_path: Path) -> None:
    """An on-premises connection (issue 18) made before `make run` restarts still refreshes after it."""
    certs, state = tmp_path / "certs", tmp_path / "state"
    first = DataverseSandbox(cert_dir=certs, state_dir=state).start(port=0)
    port = int(first.url.rsplit(":", 1)[1])
    first.register_adfs_client("app-1", "secret-1", ["http://127.0.0.1:9/cb"])
    resource = first.onprem.org_url() + "/"
    form = {"grant_type": "client_credentials", "client_id": "app-1", "client_secret": "secret-1"}
    issued = session_for(first).post(f"{first.url}/adfs/oauth2/token", data={**form, "resource": resource})
    token = issued.json()["access_token"]
    first.stop()

    second = DataverseSandbox(cert_dir=certs, state_dir=state).start(port=port)
    try:
        who = session_for(second).get(
            f"{second.onprem.org_url()}/api/data/v9.1/WhoAmI", headers={"Authorization": f"Bearer {token}"}
        )
        assert who.status_code == 200, who.text
        again = session_for(second).post(
            f"{second.url}/adfs/oauth2/token", data={**form, "resource": resource}
        )
        assert again.status_code == 200, again.text
    finally:
        second.stop()
