"""On-premises addresses: the organisation URL forms, the AD FS authority, the server's 401 challenge, and
which resolved addresses count as public (issue 18; the customer-chosen-host rule of issue 16)."""

from __future__ import annotations

import pytest

from shared.dataverse.onprem_url import NotOnPremUrl, challenge_from, checked_adfs_url, checked_onprem_url
from shared.dataverse.public_host import HostNotFound, PrivateAddress, is_public, public_address


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://Fabrikam.Contoso.com/", "https://fabrikam.contoso.com"),  # IFD: the organisation's host
        ("https://crm.contoso.com/fabrikam", "https://crm.contoso.com/fabrikam"),  # server/organisation
        ("https://crm.contoso.com:444/Fabrikam/", "https://crm.contoso.com:444/Fabrikam"),
        ("  https://crm.contoso.com:443/org1 ", "https://crm.contoso.com/org1"),
    ],
)
def test_both_organisation_url_forms_are_accepted(typed: str, stored: str) -> None:
    assert checked_onprem_url(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "http://crm.contoso.com/fabrikam",  # not HTTPS
        "https://user:pw@crm.contoso.com/fabrikam",  # user info
        "https://crm.contoso.com/fabrikam/api/data/v9.1",  # more than the organisation
        "https://crm.contoso.com/fabrikam?x=1",
        "https://crm.contoso.com/fabrikam#top",
        "https://crm.contoso.com//fabrikam",
        "https://crm_contoso.com/",
        "https://crm.contoso.com:99999/",
        "crm.contoso.com/fabrikam",
    ],
)
def test_anything_else_is_refused_with_the_forms_named(typed: str) -> None:
    with pytest.raises(NotOnPremUrl, match="https://crm.contoso.com/fabrikam"):
        checked_onprem_url(typed)


def test_an_online_address_is_sent_to_the_online_choice() -> None:
    with pytest.raises(NotOnPremUrl, match="Dynamics 365 online"):
        checked_onprem_url("https://contoso.crm4.dynamics.com")


@pytest.mark.parametrize(
    "typed",
    [
        "https://adfs.contoso.com",
        "https://adfs.contoso.com/adfs/",
        "https://ADFS.contoso.com/adfs/oauth2/authorize",
        "https://adfs.contoso.com/adfs/.well-known/openid-configuration",
    ],
)
def test_the_adfs_authority_is_read_from_what_an_administrator_pastes(typed: str) -> None:
    assert checked_adfs_url(typed) == "https://adfs.contoso.com/adfs"


@pytest.mark.parametrize("typed", ["http://adfs.contoso.com/adfs", "https://adfs.contoso.com/adfs/ls/"])
def test_an_adfs_address_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(NotOnPremUrl, match="AD FS"):
        checked_adfs_url(typed)


def test_the_servers_401_challenge_names_the_adfs_authority_and_resource() -> None:
    headers = {
        "WWW-Authenticate": "Negotiate, NTLM, Bearer authorization_uri=https://adfs.contoso.com/adfs/oauth2/"
        "authorize, resource_id=https://fabrikam.contoso.com/"
    }
    found = challenge_from(headers)
    assert found is not None
    assert (found.authority, found.resource) == (
        "https://adfs.contoso.com/adfs",
        "https://fabrikam.contoso.com/",
    )
    assert challenge_from({"WWW-Authenticate": "Negotiate"}) is None
    assert challenge_from({"WWW-Authenticate": 'Bearer authorization_uri="http://evil.example/x"'}) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # Azure / AWS instance metadata
        "168.63.129.16",  # Azure WireServer: public by IANA, never a customer's server
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["20.50.2.1", "40.113.200.201", "2603:1020::1", "64:ff9b::1428:3201"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public(address)


def test_a_name_with_one_private_answer_among_public_ones_is_refused() -> None:
    def dns(host: str, port: int) -> list[str]:
        return ["20.50.2.1", "10.0.0.4"]

    with pytest.raises(PrivateAddress, match=r"crm\.contoso\.com resolves to 10\.0\.0\.4"):
        public_address("crm.contoso.com", 443, dns)
    assert public_address("crm.contoso.com", 443, lambda h, p: ["20.50.2.1", "20.50.2.2"]) == "20.50.2.1"
    with pytest.raises(HostNotFound):
        public_address("crm.contoso.com", 443, lambda h, p: [])
