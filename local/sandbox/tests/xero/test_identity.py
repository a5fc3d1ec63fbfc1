"""OAuth 2.0 through real HTTP: consent, code exchange, rotation with grace, revocation, connections."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from local.sandbox.tests.xero.conftest import AU, NZ, UK, http
from local.sandbox.xero import XeroSandbox
from local.sandbox.xero.identity_state import REFRESH_GRACE

CLIENT = ("sandbox-xero-client", "sandbox-xero-secret")
REDIRECT = "http://127.0.0.1:7071/api/xero/callback"
SCOPES = "openid offline_access accounting.invoices accounting.contacts accounting.settings"


class _Form(HTMLParser):
    """Reads the consent form's fields the way a browser would."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.tenants: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self._label_for: str | None = None
        self.h1 = ""
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a["value"]
        if tag == "input" and a.get("name") == "tenant":
            self.tenants[a["id"]] = a["value"]
        if tag == "label":
            self._label_for = a.get("for")
        self._in_h1 = tag == "h1"

    def handle_data(self, data: str) -> None:
        if self._label_for:
            self.labels[self._label_for] = data.strip()
        if self._in_h1:
            self.h1 += data

    def handle_endtag(self, tag: str) -> None:
        self._label_for = None if tag == "label" else self._label_for
        self._in_h1 = False if tag == "h1" else self._in_h1


def _consent(
    sb: XeroSandbox,
    org_names: list[str],
    decision: str = "allow",
    scope: str = SCOPES,
    redirect: str = REDIRECT,
) -> requests.Response:
    session = http()
    page = session.get(
        f"{sb.url}/identity/connect/authorize",
        params={
            "response_type": "code",
            "client_id": CLIENT[0],
            "redirect_uri": redirect,
            "scope": scope,
            "state": "xyz-123",
        },
        timeout=5,
    )
    assert page.status_code == 200
    form = _Form()
    form.feed(page.text)
    chosen = [form.tenants[i] for i, label in form.labels.items() if label in org_names]
    return session.post(
        f"{sb.url}/identity/connect/authorize",
        data=form.hidden | {"tenant": chosen, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )


def _query(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlparse(response.headers["Location"]).query).items()}


def _token(sb: XeroSandbox, auth: tuple[str, str] = CLIENT, **form: str) -> requests.Response:
    return http().post(f"{sb.url}/connect/token", data=form, auth=auth, timeout=5)


def _code_flow(sb: XeroSandbox, orgs: list[str], scope: str = SCOPES) -> dict[str, Any]:
    code = _query(_consent(sb, orgs, scope=scope))["code"]
    answer = _token(sb, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _api(sb: XeroSandbox, token: str, tenant: str, resource: str = "Organisation") -> requests.Response:
    return http().get(
        f"{sb.url}/api.xro/2.0/{resource}",
        headers={"Authorization": f"Bearer {token}", "xero-tenant-id": tenant},
        timeout=5,
    )


def _connections(sb: XeroSandbox, token: str) -> list[dict[str, Any]]:
    return http().get(f"{sb.url}/connections", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()


def test_consent_page_is_labelled_and_names_app_and_scopes(sandbox: XeroSandbox) -> None:
    page = http().get(
        f"{sandbox.url}/identity/connect/authorize",
        params={
            "response_type": "code",
            "client_id": CLIENT[0],
            "redirect_uri": REDIRECT,
            "scope": SCOPES,
            "state": "s",
        },
        timeout=5,
    )
    form = _Form()
    form.feed(page.text)
    assert "Sandbox Connector" in form.h1
    assert set(form.labels.values()) == {NZ, AU, UK} and set(form.labels) == set(form.tenants)
    assert "accounting.invoices" in page.text and re.search(r"<button[^>]*>Allow access</button>", page.text)


def test_code_flow_grants_only_the_chosen_orgs(sandbox: XeroSandbox) -> None:
    tokens = _code_flow(sandbox, [NZ, UK])
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 1800
    assert tokens["refresh_token"] and tokens["id_token"].count(".") == 2
    names = {c["tenantName"]: c["tenantId"] for c in _connections(sandbox, tokens["access_token"])}
    assert set(names) == {NZ, UK}
    assert _api(sandbox, tokens["access_token"], names[NZ]).status_code == 200
    refused = _api(sandbox, tokens["access_token"], sandbox.state.org(AU).tenant_id)
    assert refused.status_code == 403
    assert refused.json()["Title"] == "Forbidden" and refused.json()["Detail"] == "AuthenticationUnsuccessful"
    assert _api(sandbox, tokens["access_token"], "").status_code == 403


def test_cancel_redirects_with_access_denied_and_state(sandbox: XeroSandbox) -> None:
    assert _query(_consent(sandbox, [NZ], decision="cancel")) == {
        "error": "access_denied",
        "state": "xyz-123",
    }


def test_bad_client_or_redirect_uri_shows_an_error_page_not_a_redirect(sandbox: XeroSandbox) -> None:
    base = {"response_type": "code", "scope": SCOPES, "state": "s"}
    unknown = http().get(
        f"{sandbox.url}/identity/connect/authorize",
        allow_redirects=False,
        timeout=5,
        params=base | {"client_id": "nope", "redirect_uri": REDIRECT},
    )
    assert unknown.status_code == 400 and "Location" not in unknown.headers
    http().post(
        f"{sandbox.url}/_sandbox/apps",
        timeout=5,
        json={"client_id": "exact-app", "client_secret": "s3", "redirect_uris": ["https://app.example/cb"]},
    )
    wrong = http().get(
        f"{sandbox.url}/identity/connect/authorize",
        allow_redirects=False,
        timeout=5,
        params=base | {"client_id": "exact-app", "redirect_uri": "https://app.example/cb/"},
    )
    assert wrong.status_code == 400 and "Location" not in wrong.headers
    right = http().get(
        f"{sandbox.url}/identity/connect/authorize",
        allow_redirects=False,
        timeout=5,
        params=base | {"client_id": "exact-app", "redirect_uri": "https://app.example/cb"},
    )
    assert right.status_code == 200


def test_a_code_works_once_and_only_for_five_minutes(sandbox: XeroSandbox) -> None:
    code = _query(_consent(sandbox, [NZ]))["code"]
    assert (
        _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT).status_code == 200
    )
    reuse = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert (reuse.status_code, reuse.json()) == (400, {"error": "invalid_grant"})
    late = _query(_consent(sandbox, [NZ]))["code"]
    sandbox.state.clock.advance(5 * 60 + 1)
    assert _token(sandbox, grant_type="authorization_code", code=late, redirect_uri=REDIRECT).json() == {
        "error": "invalid_grant"
    }
    other = _query(_consent(sandbox, [NZ]))["code"]
    assert _token(
        sandbox, grant_type="authorization_code", code=other, redirect_uri=REDIRECT + "x"
    ).json() == {"error": "invalid_grant"}


def test_bad_client_credentials_are_invalid_client(sandbox: XeroSandbox) -> None:
    code = _query(_consent(sandbox, [NZ]))["code"]
    answer = _token(
        sandbox, auth=(CLIENT[0], "wrong"), grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert answer.status_code in (400, 401) and answer.json() == {"error": "invalid_client"}


def test_refresh_rotates_with_a_thirty_minute_grace(sandbox: XeroSandbox) -> None:
    first = _code_flow(sandbox, [NZ])
    second = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    # the old token, retried inside the grace period, answers the grant's current refresh token
    retried = _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert retried["refresh_token"] == second["refresh_token"]
    assert _api(sandbox, retried["access_token"], sandbox.state.org(NZ).tenant_id).status_code == 200
    sandbox.state.clock.advance(REFRESH_GRACE + 1)
    assert _token(sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"]).json() == {
        "error": "invalid_grant"
    }
    assert (
        "access_token"
        in _token(sandbox, grant_type="refresh_token", refresh_token=second["refresh_token"]).json()
    )
    assert _token(sandbox, grant_type="refresh_token", refresh_token="made-up").status_code == 400


def test_access_tokens_expire_after_thirty_sandbox_minutes(sandbox: XeroSandbox) -> None:
    tokens = _code_flow(sandbox, [NZ])
    tenant = sandbox.state.org(NZ).tenant_id
    sandbox.state.clock.set_scale(3600)  # thirty minutes pass in half a second
    time.sleep(0.6)
    expired = _api(sandbox, tokens["access_token"], tenant)
    assert expired.status_code == 401 and expired.json()["Detail"].startswith("TokenExpired")
    sandbox.state.clock.set_scale(1)
    fresh = _token(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    assert _api(sandbox, fresh["access_token"], tenant).status_code == 200
    http().post(f"{sandbox.url}/_sandbox/tokens/expire", timeout=5)
    assert _api(sandbox, fresh["access_token"], tenant).status_code == 401


def test_revoked_grant_loses_tokens_and_connections(sandbox: XeroSandbox) -> None:
    tokens = _code_flow(sandbox, [NZ])
    revoke = http().post(
        f"{sandbox.url}/connect/revocation", data={"token": tokens["refresh_token"]}, auth=CLIENT, timeout=5
    )
    assert revoke.status_code == 200
    assert _token(sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json() == {
        "error": "invalid_grant"
    }
    assert _api(sandbox, tokens["access_token"], sandbox.state.org(NZ).tenant_id).status_code == 401


def test_deleting_a_connection_makes_that_org_unreachable(sandbox: XeroSandbox) -> None:
    tokens = _code_flow(sandbox, [NZ, AU])
    connections = _connections(sandbox, tokens["access_token"])
    nz = next(c for c in connections if c["tenantName"] == NZ)
    deleted = http().delete(
        f"{sandbox.url}/connections/{nz['id']}",
        timeout=5,
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert deleted.status_code == 204
    assert [c["tenantName"] for c in _connections(sandbox, tokens["access_token"])] == [AU]
    assert _api(sandbox, tokens["access_token"], nz["tenantId"]).status_code == 403


def test_scopes_are_checked_per_call(sandbox: XeroSandbox) -> None:
    tokens = _code_flow(sandbox, [NZ], scope="accounting.contacts.read accounting.settings")
    assert "refresh_token" not in tokens  # no offline_access, no refresh token
    tenant = sandbox.state.org(NZ).tenant_id
    assert _api(sandbox, tokens["access_token"], tenant, "Contacts").status_code == 200
    assert _api(sandbox, tokens["access_token"], tenant, "Items").status_code == 200  # settings covers items
    denied = _api(sandbox, tokens["access_token"], tenant, "Invoices")
    assert denied.status_code == 401 and denied.json()["Detail"] == "AuthorizationUnsuccessful"
    write = http().put(
        f"{sandbox.url}/api.xro/2.0/Contacts",
        json={"Contacts": [{"Name": "x"}]},
        timeout=5,
        headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": tenant},
    )
    assert write.status_code == 401
    assert _api(sandbox, "not-a-token", tenant).status_code == 401
