"""Global Discovery lists the tenant's environments for a delegated token, and only for one."""

from __future__ import annotations

from .conftest import Sandbox, sign_in

INSTANCES = "/api/discovery/v2.0/Instances"


def discovery_token(sandbox: Sandbox) -> str:
    app = sandbox.msal_app()
    flow = app.initiate_auth_code_flow(
        [f"{sandbox.url}/user_impersonation"], redirect_uri="http://127.0.0.1:9/cb", response_mode="form_post"
    )
    _, auth_response = sign_in(sandbox.session, flow["auth_uri"], "admin@contoso.example")
    return app.acquire_token_by_auth_code_flow(flow, auth_response)["access_token"]


def test_instances_lists_both_environments(sandbox: Sandbox) -> None:
    # GIVEN a token for the discovery audience
    token = discovery_token(sandbox)
    # WHEN the connector lists instances
    answer = sandbox.session.get(f"{sandbox.url}{INSTANCES}", headers={"Authorization": f"Bearer {token}"})
    # THEN both Contoso environments come back with URLs pointing at this sandbox
    assert answer.status_code == 200, answer.text
    rows = {row["FriendlyName"]: row for row in answer.json()["value"]}
    assert set(rows) == {"Contoso (Production)", "Contoso (Sandbox)"}
    production = rows["Contoso (Production)"]
    assert production["Url"] == sandbox.env_url("contoso") and production["ApiUrl"] == production["Url"]
    assert production["UrlName"] == "contoso" and production["UniqueName"].startswith("unq")
    assert production["State"] == 0 and production["Version"].startswith("9.2.")
    assert production["Id"] == sandbox.identity.environments[0].id


def test_instance_by_unique_name_with_select(sandbox: Sandbox) -> None:
    token = discovery_token(sandbox)
    unique = sandbox.identity.environments[1].unique_name
    answer = sandbox.session.get(
        f"{sandbox.url}{INSTANCES}(UniqueName='{unique}')",
        params={"$select": "UrlName,Url"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["UrlName"], body["Url"]) == ("contoso-sandbox", sandbox.env_url("contoso-sandbox"))
    assert "FriendlyName" not in body


def test_missing_invalid_and_expired_tokens_get_401(sandbox: Sandbox) -> None:
    # GIVEN a token that worked
    token = discovery_token(sandbox)
    url = f"{sandbox.url}{INSTANCES}"
    assert sandbox.session.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # WHEN it is missing, forged, or has expired
    sandbox.clock.advance(3601)
    answers = [
        sandbox.session.get(url),
        sandbox.session.get(url, headers={"Authorization": "Bearer not-a-token"}),
        sandbox.session.get(url, headers={"Authorization": f"Bearer {token}"}),
    ]
    # THEN each is refused in Dataverse's error shape, with a challenge naming the authority
    for answer in answers:
        assert answer.status_code == 401
        assert set(answer.json()["error"]) == {"code", "message"}
        assert f"{sandbox.url}/" in answer.headers["WWW-Authenticate"]


def test_environment_and_app_only_tokens_are_refused_by_discovery(sandbox: Sandbox) -> None:
    # GIVEN an app-only token for the discovery URL and one for an environment
    app = sandbox.msal_app()
    app_only = app.acquire_token_for_client([f"{sandbox.url}/.default"])["access_token"]
    env_token = app.acquire_token_for_client([f"{sandbox.env_url('contoso')}/.default"])["access_token"]
    # WHEN either is presented to Global Discovery
    url = f"{sandbox.url}{INSTANCES}"
    statuses = [
        sandbox.session.get(url, headers={"Authorization": f"Bearer {t}"}).status_code
        for t in (app_only, env_token)
    ]
    # THEN both are refused: discovery wants a user token for its own audience
    assert statuses == [401, 401]
