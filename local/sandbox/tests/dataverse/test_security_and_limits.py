"""Privileges of the demo users, service protection (429) and faults on demand."""

from __future__ import annotations

import requests

from local.sandbox.dataverse import DataverseSandbox
from local.sandbox.dataverse.identity_directory import Client

from .helpers import WebApiClient, session_for, user_token


def _privileges(api: WebApiClient) -> set[str]:
    user_id = api.get("WhoAmI").json()["UserId"]
    response = api.get(f"systemusers({user_id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()")
    assert response.status_code == 200, response.text
    rows = response.json()["RolePrivileges"]
    assert all(r["Depth"] == "Global" and r["PrivilegeId"] and r["BusinessUnitId"] for r in rows)
    return {r["PrivilegeName"] for r in rows}


def test_admin_has_everything_and_the_limited_user_cannot_write_invoices(sb: DataverseSandbox) -> None:
    admin = WebApiClient(sb, user_token(sb, "admin@contoso.example"))
    limited = WebApiClient(sb, user_token(sb, "limited@contoso.example"))
    assert {
        "prvReadInvoice",
        "prvWriteInvoice",
        "prvCreateEntity",
        "prvReadProduct",
        "prvReadUser",
    } <= _privileges(admin)
    held = _privileges(limited)
    assert "prvReadInvoice" in held and not {"prvWriteInvoice", "prvWriteAccount"} & held
    invoice_id = sb.state.rows("contoso", "invoices")[0]["invoiceid"]
    assert limited.get(f"invoices({invoice_id})?$select=name").status_code == 200
    refused = limited.patch(f"invoices({invoice_id})", {"name": "nope"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "0x80040220"
    assert "prvWriteInvoice" in refused.json()["error"]["message"]
    assert admin.patch(f"invoices({invoice_id})", {"name": "yes"}).status_code == 204


def test_privileges_can_be_removed_for_a_test(sb: DataverseSandbox, api: WebApiClient) -> None:
    admin = WebApiClient(sb, user_token(sb, "admin@contoso.example"))
    changed = session_for(sb).post(
        f"{sb.url}/_sandbox/users/admin@contoso.example/privileges", json={"remove": ["prvReadProduct"]}
    )
    assert changed.status_code == 200
    assert "prvReadProduct" not in _privileges(admin)
    assert admin.get("products").status_code == 403


def test_over_the_request_limit_answers_429_with_retry_after(sb: DataverseSandbox, api: WebApiClient) -> None:
    session_for(sb).put(f"{sb.url}/_sandbox/limits", json={"requests_per_window": 3, "window_seconds": 300})
    statuses = [api.get("WhoAmI").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = api.get("WhoAmI")
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "0x80072322"


def test_faults_on_demand(sb: DataverseSandbox, api: WebApiClient) -> None:
    control = session_for(sb)
    control.put(f"{sb.url}/_sandbox/faults", json={"error_rate": 1.0})
    failed = api.get("WhoAmI")
    assert failed.status_code == 503 and "error" in failed.json()
    control.put(f"{sb.url}/_sandbox/faults", json={"error_rate": 0.0, "lost_rate": 1.0})
    try:
        api.post("accounts", {"name": "Committed but lost"})
        raise AssertionError("the answer should have been lost")
    except requests.ConnectionError:
        pass
    control.put(f"{sb.url}/_sandbox/faults", json={"lost_rate": 0.0})
    assert any(r["name"] == "Committed but lost" for r in sb.state.rows("contoso", "accounts"))


def test_requests_are_counted_by_path_template(sb: DataverseSandbox, api: WebApiClient) -> None:
    control = session_for(sb)
    control.post(f"{sb.url}/_sandbox/requests/reset")
    invoice_id = sb.state.rows("contoso", "invoices")[0]["invoiceid"]
    api.get(f"invoices({invoice_id})?$select=name")
    api.get(f"invoices({invoice_id})?$select=name")
    counts = control.get(f"{sb.url}/_sandbox/requests").json()["requests"]
    assert {
        "method": "GET",
        "path": "/api/data/v9.2/invoices({id})",
        "organisation": "contoso",
        "count": 2,
    } in counts


def test_an_app_without_an_application_user_is_not_a_member_and_one_without_a_role_holds_nothing(
    sb: DataverseSandbox,
) -> None:
    # GIVEN an app of the tenant that has no application user in the environment
    directory = sb.identity.directory
    directory.clients["no-user-app"] = Client("no-user-app", "no-user-secret", "App", directory.tenant.id, {})
    token = session_for(sb).post(
        f"{sb.url}/contoso/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": "no-user-app",
              "client_secret": "no-user-secret", "scope": f"{sb.env_url('contoso')}/.default"},
    ).json()["access_token"]  # fmt: skip
    app = WebApiClient(sb, token)
    # THEN Entra ID issues a token, but the environment refuses it as Dataverse does (403 0x80072560)
    refused = app.get("WhoAmI")
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {"code": "0x80072560", "message": "The user is not a member of the organization."}
    }
    # WHEN an administrator creates the application user without a security role
    directory.clients["no-user-app"].application_userids["contoso"] = "5b2c1c0e-0000-4000-8000-00000000abcd"
    directory.clients["no-user-app"].roles["contoso"] = "none"
    # THEN it is a member, holds no privilege, and reading invoices is refused for the privilege
    assert app.get("WhoAmI").status_code == 200
    assert _privileges(app) == set()
    denied = app.get("invoices?$select=name")
    assert denied.status_code == 403 and "prvReadInvoice" in denied.json()["error"]["message"]
    directory.clients.pop("no-user-app")
