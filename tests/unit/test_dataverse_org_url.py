"""Attack tests for the environment address (issue 16, SSRF): only Microsoft's Dataverse hosts, as a bare
origin, may receive a Dynamics token; the local sandbox is a development setting that Azure ignores."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.connections.dynamics_app_only import _checked
from shared.connections.sync_form import ValidationFailed
from shared.dataverse.org_url import NotDataverseUrl, checked_org_url

SANDBOX = "https://127.0.0.1:7082"
FORM = {"tenant_id": "72f988bf-86f1-41af-91ab-2d7cd011db47", "client_id": "app", "client_secret": "s"}

ATTACKS = [
    "https://169.254.169.254",  # the cloud metadata service
    "https://169.254.169.254/metadata/identity/oauth2/token",
    "https://localhost:10000",  # Azurite / anything on the instance
    "https://127.0.0.1:7082/env/contoso",  # the sandbox, when no sandbox is configured
    "https://x.crm.dynamics.com@evil.example",  # user info: the host is evil.example
    "https://evil.example/.crm.dynamics.com",  # the name only in the path
    "https://evil.example#.crm.dynamics.com",
    "https://evil.example?.crm.dynamics.com",
    "https://contoso.crm.dynamics.com.evil.example",
    "https://contoso.crm.dynamics.com:8443",  # another port on a Microsoft name is not Dataverse either
    "https://contoso.crm.dynamics.com/api/data/v9.2/",  # a path
    "http://contoso.crm.dynamics.com",  # no TLS
    "https://contoso.evilcrm.dynamics.com",
    "https://contoso.crm123.dynamics.com",
    "https://crm.dynamics.com",  # no organisation label
    "https://a.b.crm.dynamics.com",
    "https://contoso.crm.dynamics.com.",
    "https://[::1]",
    "https://contoso.crm.dynamics.com\\@evil.example",
    "file:///etc/passwd",
    "https://",
]


@pytest.mark.parametrize("url", ATTACKS)
def test_an_address_outside_dataverse_is_refused(url: str) -> None:
    with pytest.raises(NotDataverseUrl):
        checked_org_url(url)


@pytest.mark.parametrize("url", [u for u in ATTACKS if not u.startswith(SANDBOX)])
def test_the_sandbox_setting_opens_only_the_sandbox(url: str) -> None:
    with pytest.raises(NotDataverseUrl):
        checked_org_url(url, SANDBOX)


@pytest.mark.parametrize(
    "url",
    [f"{SANDBOX}/env/contoso/api", f"{SANDBOX}/other", f"{SANDBOX}/env/../x", "https://127.0.0.1:7083/env/a"],
)
def test_only_the_sandbox_environment_form_is_accepted(url: str) -> None:
    with pytest.raises(NotDataverseUrl):
        checked_org_url(url, SANDBOX)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://contoso.crm.dynamics.com/", "https://contoso.crm.dynamics.com"),
        ("https://Contoso.CRM4.dynamics.com", "https://contoso.crm4.dynamics.com"),
        ("https://org1a2b.crm11.dynamics.com:443", "https://org1a2b.crm11.dynamics.com"),
        ("https://agency.crm9.dynamics.com", "https://agency.crm9.dynamics.com"),  # GCC
        ("https://agency.crm.microsoftdynamics.us", "https://agency.crm.microsoftdynamics.us"),  # GCC High
        ("https://agency.crm.appsplatform.us", "https://agency.crm.appsplatform.us"),  # DoD
        ("https://contoso.crm.dynamics.cn", "https://contoso.crm.dynamics.cn"),  # China
        (f"{SANDBOX}/env/contoso", f"{SANDBOX}/env/contoso"),
    ],
)
def test_dataverse_addresses_are_accepted(typed: str, stored: str) -> None:
    assert checked_org_url(typed, SANDBOX) == stored


@pytest.mark.parametrize(
    "tenant", ["../../common", "contoso.onmicrosoft.com/../x", "evil.example?x=", "a b", "localhost"]
)
def test_a_tenant_that_is_not_a_guid_or_a_domain_is_refused(tenant: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _checked({**FORM, "org_url": "https://contoso.crm.dynamics.com", "tenant_id": tenant}, "")
    assert set(refused.value.field_errors) == {"tenant_id"}


def test_a_verified_domain_or_a_guid_is_a_tenant() -> None:
    for tenant in ("contoso.onmicrosoft.com", "Contoso.com", FORM["tenant_id"].upper()):
        _checked({**FORM, "org_url": "https://contoso.crm.dynamics.com", "tenant_id": tenant}, "")


def test_development_settings_are_ignored_in_azure() -> None:
    local = {"DEV_DATAVERSE_SANDBOX_ORIGIN": SANDBOX, "DEV_MAILBOX_DIR": "/tmp/mail"}
    assert Settings.from_env(local).dataverse_sandbox_origin == SANDBOX
    for marker in ("WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME"):
        in_azure = Settings.from_env({**local, marker: "x"})
        assert (in_azure.dataverse_sandbox_origin, in_azure.dev_mailbox_dir) == ("", "")
