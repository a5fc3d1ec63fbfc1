"""Connecting Dynamics 365 on-premises (9.x behind AD FS) against the sandbox's Fabrikam organisation and
its AD FS stand-in (issue 18): the sign-in through AD FS, the Web API version the server serves, the
background client on the same code path, and each failure in words — DNS, certificate, a private address,
AD FS refusing the redirect URI, a 9.0 server lacking a call. Real HTTP to the sandbox, real MSAL."""

from __future__ import annotations

import dataclasses
import re
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from shared.connections.dynamics_access import dataverse_client_for
from shared.connections.onprem_connect import OnPremConnect
from shared.connections.pick_state import FlowStates
from shared.connections.results import Connected, ConnectFailed
from shared.connections.sync_form import ValidationFailed
from shared.crypto import KeyRing
from shared.dataverse.client_errors import ServerRefused
from shared.dataverse.public_host import PrivateAddress, PublicOnlyAdapter, resolve
from shared.errors import NotFoundError, RetriableError
from tests.integration.connection_helpers import DYNAMICS_REDIRECT, World, browser_session

CLIENT_ID, SECRET = "5f0e4a51-7b0e-4d8e-9d6a-fabrikam0001", "adfs-generated-secret"
ADMIN, PASSWORD = "admin@fabrikam.example", "Fabrikam-Sandbox-1"


def _onprem(world: World) -> OnPremConnect:
    keys = KeyRing.from_setting(world.settings.token_encryption_keys)
    return OnPremConnect(world.store, FlowStates(world.states, keys, "dynamics"), world.settings)


def _form(world: World, **changes: str) -> dict[str, str]:
    form = {"org_url": world.dataverse.onprem.org_url(), "client_id": CLIENT_ID, "client_secret": SECRET}
    return {**form, **changes}


def _register(world: World, redirect_uri: str = DYNAMICS_REDIRECT) -> None:
    """What the customer's AD FS administrator does with the values the portal shows."""
    world.dataverse.register_adfs_client(CLIENT_ID, SECRET, [redirect_uri])


def _adfs_sign_in(world: World, authorize_url: str) -> dict[str, str]:
    """AD FS's forms sign-in page, filled in; the query AD FS sends the browser back with."""
    browser = browser_session(world.dataverse.ca_path)
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    answer = browser.post(
        action,
        data={**{k: unescape(v) for k, v in hidden.items()}, "UserName": ADMIN, "Password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302 and answer.headers["Location"].startswith(DYNAMICS_REDIRECT), answer.text
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


def _sign_in(world: World, connection_id: str) -> Connected | ConnectFailed:
    authorize_url = _onprem(world).begin("acct-a", connection_id, _form(world), DYNAMICS_REDIRECT)
    assert isinstance(authorize_url, str)
    return world.dynamics.complete("acct-a", _adfs_sign_in(world, authorize_url))  # type: ignore[return-value]


def _requests(world: World, path: str) -> int:
    return sum(r["count"] for r in world.dataverse.counter.as_list() if path in r["path"])


def test_sign_in_through_adfs_connects_the_organisation_on_its_web_api_version(world: World) -> None:
    _register(world)
    connection = world.new_connection()
    world.dataverse.counter.reset()

    assert _sign_in(world, connection.id) == Connected("Fabrikam (on-premises)")

    dynamics = world.reload(connection).dynamics
    assert (dynamics.deployment, dynamics.api_version, dynamics.auth_mode) == ("onprem", "9.1", "delegated")
    assert dynamics.org_url == world.dataverse.onprem.org_url()
    assert dynamics.adfs_authority == f"{world.dataverse.url}/adfs"
    assert dynamics.privileges_missing == []
    # the background path: same client, AD FS tokens from the saved sign-in, Web API 9.1
    client = dataverse_client_for(world.reload(connection), world.store, world.settings, world.session)
    assert client.api_base.endswith("/fabrikam/api/data/v9.1/")
    assert client.whoami().organization_id == dynamics.organisation_id
    assert client.get("accounts?$select=name&$top=1")["value"]  # a long-used business
    assert _requests(world, "/api/discovery/v2.0/Instances") == 0  # no Global Discovery on-premises


def test_app_only_with_client_credentials_needs_no_browser(world: World) -> None:
    _register(world)
    connection = world.new_connection()
    result = _onprem(world).begin("acct-a", connection.id, _form(world, mode="app"), DYNAMICS_REDIRECT)
    assert result == Connected("Fabrikam (on-premises)")
    client = dataverse_client_for(world.reload(connection), world.store, world.settings, world.session)
    assert world.reload(connection).dynamics.auth_mode == "app"
    assert client.whoami().user_id


def test_a_9_0_server_is_used_on_9_0_and_a_call_it_lacks_is_named(world: World) -> None:
    _register(world)
    requests.post(
        f"{world.dataverse.url}/_sandbox/onprem",
        json={"max_version": "9.0"},
        verify=str(world.dataverse.ca_path),
    ).raise_for_status()
    connection = world.new_connection()
    assert isinstance(_sign_in(world, connection.id), Connected)
    assert world.reload(connection).dynamics.api_version == "9.0"

    world.dataverse.onprem.settings.update({"lacking": ["RetrieveUserPrivileges"]})
    second = world.new_connection()
    result = _sign_in(world, second.id)
    assert isinstance(result, ConnectFailed)
    # "Try again" brings back what was typed (never the secret) to the on-premises form
    typed = urlencode(
        {"org_url": world.dataverse.onprem.org_url(), "client_id": CLIENT_ID, "mode": "delegated"}
    )
    assert result.retry_url == f"/connections/{second.id}/dynamics/onprem?{typed}"
    assert result.message.startswith(
        "Your Dynamics server's Web API (version 9.0) does not offer RetrieveUserPrivileges, which the "
        "connector needs."
    )


def test_adfs_refusing_the_redirect_uri_is_said_with_the_uri_to_register(world: World) -> None:
    _register(world, redirect_uri="https://connector.example/wrong/callback")
    with pytest.raises(ValidationFailed) as refused:
        _onprem(world).begin("acct-a", world.new_connection().id, _form(world), DYNAMICS_REDIRECT)
    assert refused.value.field_errors["client_id"] == (
        "AD FS refused the connector's redirect URI. In AD FS Management → Application Groups → the "
        f"connector's server application, the redirect URI must be exactly {DYNAMICS_REDIRECT}"
    )


def test_an_unknown_host_is_a_dns_failure_in_words(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _onprem(world).begin(
            "acct-a", world.new_connection().id, _form(world, org_url="https://crm.fabrikam.invalid/"), ""
        )
    assert refused.value.field_errors["org_url"].startswith(
        "Azure cannot find crm.fabrikam.invalid: DNS has no address for it."
    )


def test_a_certificate_from_a_private_ca_is_a_tls_failure_in_words(world: World) -> None:
    public_cas_only = dataclasses.replace(world.settings, tls_ca_bundle="")  # as in Azure: certifi's CAs
    world.settings = public_cas_only
    host = urlsplit(world.dataverse.url).netloc
    with pytest.raises(ValidationFailed) as refused:
        _onprem(world).begin("acct-a", world.new_connection().id, _form(world), DYNAMICS_REDIRECT)
    assert refused.value.field_errors["org_url"].startswith(
        f"{host} answered, but its certificate is not trusted."
    )


def test_an_address_resolving_to_a_private_address_is_refused_before_any_request(world: World) -> None:
    """The attack: a name whose DNS answers loopback (here `localhost`, standing for any private or
    metadata address) to make our servers call inside their own network."""
    port = urlsplit(world.dataverse.url).port
    world.dataverse.counter.reset()
    with pytest.raises(ValidationFailed) as refused:
        _onprem(world).begin(
            "acct-a",
            world.new_connection().id,
            _form(world, org_url=f"https://localhost:{port}/fabrikam"),
            "",
        )
    assert re.match(
        r"^localhost resolves to (127\.0\.0\.1|::1), which is not a public internet address",
        refused.value.field_errors["org_url"],
    )
    assert world.dataverse.counter.as_list() == []  # nothing reached the server


def test_the_address_is_checked_again_on_every_connection_after_connecting(world: World) -> None:
    """DNS changed after connecting (rebinding): the background client refuses before sending a token."""
    _register(world)
    connection = world.new_connection()
    assert isinstance(_sign_in(world, connection.id), Connected)
    port = urlsplit(world.dataverse.url).port
    world.store.update(
        connection.id, lambda c: setattr(c.dynamics, "org_url", f"https://localhost:{port}/fabrikam")
    )
    world.dataverse.counter.reset()
    client = dataverse_client_for(world.reload(connection), world.store, world.settings, world.session)
    with pytest.raises(PrivateAddress):
        client.whoami()
    assert [r for r in world.dataverse.counter.as_list() if r["organisation"] == "fabrikam"] == []


def test_iis_refusals_are_never_read_as_a_missing_row(world: World) -> None:
    """IIS answers a query string over 2,048 bytes with a bare 404 and a stopped application pool with a
    503: the first must not pass for "the row is gone" (a write would be lost), the second is retried."""
    _register(world)
    connection = world.new_connection()
    assert isinstance(_onprem(world).begin("acct-a", connection.id, _form(world, mode="app"), ""), Connected)
    client = dataverse_client_for(world.reload(connection), world.store, world.settings, world.session)
    long_filter = " or ".join(f"name eq 'Customer {n:04d}'" for n in range(80))
    with pytest.raises(ServerRefused, match="IIS request filtering") as refused:
        client.get(f"accounts?$select=name&$filter={long_filter}")
    assert not isinstance(refused.value, NotFoundError)
    with pytest.raises(NotFoundError, match="Does Not Exist|does not exist"):  # Dynamics' own 404 still is
        client.get("accounts(00000000-0000-0000-0000-00000000abcd)?$select=name")
    world.dataverse.onprem.settings.update({"unavailable": True})
    try:
        with pytest.raises(RetriableError, match="HTTP 503"):
            client.whoami()
    finally:
        world.dataverse.onprem.settings.update({"unavailable": False})


def test_a_worker_asks_adfs_once_for_many_messages(world: World) -> None:
    """Each message builds its client afresh; the process keeps the AD FS token provider, so AD FS's
    metadata and token are not fetched again for every invoice (a count of real requests)."""
    _register(world)
    connection = world.new_connection()
    assert isinstance(_sign_in(world, connection.id), Connected)
    world.dataverse.counter.reset()
    for _ in range(3):  # three queue messages
        client = dataverse_client_for(world.reload(connection), world.store, world.settings, world.session)
        client.whoami()
    adfs = {r["path"]: r["count"] for r in world.dataverse.counter.as_list() if r["organisation"] == "adfs"}
    assert adfs.pop("/adfs/.well-known/openid-configuration") == 1
    # at most one token request (MSAL files the sign-in's token under its `resource` request; the first
    # silent call may refresh once), never one per message
    assert adfs.pop("/adfs/oauth2/token", 0) <= 1 and adfs == {}
    assert _requests(world, "/WhoAmI") == 3


def test_the_organisations_own_host_form_connects_at_the_root(world: World) -> None:
    """`https://{org}.{domain}/` (an Internet-facing deployment): the Web API, the challenge's relying party
    and the deployment's discovery at the organisation's own host. `fabrikam.contoso.test` is resolved to the
    sandbox by this test's resolver; the address check still runs on every connection (allowing only that
    one loopback address for that one name), and TLS checks the certificate against the name."""
    _register(world)
    port = urlsplit(world.dataverse.url).port

    def resolver(host: str, _port: int) -> list[str]:
        return ["127.0.0.1"] if host == "fabrikam.contoso.test" else resolve(host, _port)

    session = requests.Session()
    session.trust_env, session.verify = False, str(world.dataverse.ca_path)
    session.mount(
        "https://", PublicOnlyAdapter(world.dataverse.url, resolver, allowed=lambda a: a == "127.0.0.1")
    )
    keys = KeyRing.from_setting(world.settings.token_encryption_keys)
    service = OnPremConnect(world.store, FlowStates(world.states, keys, "dynamics"), world.settings, session)
    connection = world.new_connection()
    world.dataverse.counter.reset()

    org_url = f"https://fabrikam.contoso.test:{port}"
    result = service.begin("acct-a", connection.id, _form(world, org_url=f"{org_url}/", mode="app"), "")

    assert result == Connected("Fabrikam (on-premises)")  # the name from the discovery service at the host
    dynamics = world.reload(connection).dynamics
    assert (dynamics.org_url, dynamics.onprem_resource, dynamics.api_version) == (
        org_url,
        f"{org_url}/",
        "9.1",
    )
    fabrikam = [r["path"] for r in world.dataverse.counter.as_list() if r["organisation"] == "fabrikam"]
    assert "/api/data/v9.1/WhoAmI" in fabrikam and _requests(world, "/api/discovery/v9.1/Instances") == 1


def test_an_empty_secret_reuses_the_saved_one_only_with_the_same_adfs(world: World) -> None:
    """Signing in again with the secret left empty: the saved secret is used for the same organisation,
    client identifier and AD FS; if the server now names another AD FS, the secret must be typed again
    (the saved one is never sent to an AD FS it was not made for)."""
    _register(world)
    connection = world.new_connection()
    assert _onprem(world).begin("acct-a", connection.id, _form(world, mode="app"), "") == Connected(
        "Fabrikam (on-premises)"
    )
    again = _form(world, mode="app", client_secret="")
    assert _onprem(world).begin("acct-a", connection.id, again, "") == Connected("Fabrikam (on-premises)")

    world.store.update(
        connection.id, lambda c: setattr(c.dynamics, "adfs_authority", "https://adfs.elsewhere.example/adfs")
    )
    world.dataverse.counter.reset()
    with pytest.raises(ValidationFailed) as refused:
        _onprem(world).begin("acct-a", connection.id, again, "")
    assert refused.value.field_errors == {"client_secret": "This is needed."}
    assert "/adfs/oauth2/token" not in {r["path"] for r in world.dataverse.counter.as_list()}
