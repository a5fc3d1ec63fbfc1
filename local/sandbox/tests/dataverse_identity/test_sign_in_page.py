"""The sign-in page: cancel, no account chosen, hints, and redirect URIs that are never trusted."""

from __future__ import annotations

from urllib.parse import urlencode

from .conftest import CLIENT_ID, Sandbox, sign_in

REDIRECT = "http://127.0.0.1:7071/callback?from=test"


def authorize_url(sandbox: Sandbox, **overrides: str) -> str:
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": f"{sandbox.env_url('contoso')}/user_impersonation openid",
        "state": "st",
        **overrides,
    }
    return f"{sandbox.url}/contoso/oauth2/v2.0/authorize?{urlencode(query)}"


def test_cancel_returns_access_denied_with_state(sandbox: Sandbox) -> None:
    answer, params = sign_in(
        sandbox.session, authorize_url(sandbox), "admin@contoso.example", action="cancel"
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("http://127.0.0.1:7071/callback?from=test&")
    assert params["error"] == "access_denied" and params["state"] == "st"
    assert params["error_description"].startswith("AADSTS65004")
    assert "code" not in params


def test_accept_without_an_account_shows_an_alert(sandbox: Sandbox) -> None:
    answer, params = sign_in(sandbox.session, authorize_url(sandbox), None)
    assert answer.status_code == 400 and params == {}
    assert 'role="alert"' in answer.text and "Choose an account" in answer.text


def test_login_hint_preselects_the_account(sandbox: Sandbox) -> None:
    page = sandbox.session.get(authorize_url(sandbox, login_hint="LIMITED@contoso.example"))
    assert page.status_code == 200
    assert "<h1>Sign in to Contoso</h1>" in page.text
    checked = page.text.split(" checked>")[0].rsplit("<div", 1)[1]
    assert 'id="user-1"' in checked  # limited is the second demo user


def test_foreign_redirect_uri_is_never_redirected_to(sandbox: Sandbox) -> None:
    answer = sandbox.session.get(
        authorize_url(sandbox, redirect_uri="https://attacker.example/cb"), allow_redirects=False
    )
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "AADSTS50011" in answer.text


def test_prompt_none_and_bad_scope_redirect_with_errors(sandbox: Sandbox) -> None:
    silent = sandbox.session.get(authorize_url(sandbox, prompt="none"), allow_redirects=False)
    bad_scope = sandbox.session.get(
        authorize_url(sandbox, scope="https://elsewhere.example/user_impersonation"), allow_redirects=False
    )
    assert silent.status_code == 302 and "error=login_required" in silent.headers["Location"]
    assert bad_scope.status_code == 302 and "error=invalid_resource" in bad_scope.headers["Location"]


def test_a_sign_in_page_answers_once(sandbox: Sandbox) -> None:
    url = authorize_url(sandbox)
    page = sandbox.session.get(url)
    request_id = page.text.split('name="request" value="')[1].split('"')[0]
    form = {"request": request_id, "action": "cancel"}
    post_url = f"{sandbox.url}/contoso/oauth2/v2.0/authorize"
    first = sandbox.session.post(post_url, data=form, allow_redirects=False)
    second = sandbox.session.post(post_url, data=form, allow_redirects=False)
    assert first.status_code == 302 and second.status_code == 400


def test_openid_configuration_points_at_the_sandbox(sandbox: Sandbox) -> None:
    config = sandbox.session.get(f"{sandbox.url}/contoso/v2.0/.well-known/openid-configuration").json()
    tenant_id = sandbox.identity.environments[0].tenant_id
    assert config["issuer"] == f"{sandbox.url}/{tenant_id}/v2.0"
    for key in ("authorization_endpoint", "token_endpoint", "end_session_endpoint"):
        assert config[key].startswith(f"{sandbox.url}/{tenant_id}/oauth2/v2.0/")
    unknown = sandbox.session.get(f"{sandbox.url}/fabrikam/v2.0/.well-known/openid-configuration")
    assert unknown.status_code == 400 and unknown.json()["error_codes"] == [90002]


def test_form_post_page_posts_code_and_state_to_the_app(sandbox: Sandbox) -> None:
    answer, fields = sign_in(
        sandbox.session, authorize_url(sandbox, response_mode="form_post"), "admin@contoso.example"
    )
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert 'action="http://127.0.0.1:7071/callback?from=test"' in answer.text
    assert fields["state"] == "st" and fields["code"] and fields["client_info"]
    assert "script-src 'sha256-" in answer.headers["Content-Security-Policy"]
