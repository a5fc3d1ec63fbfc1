"""Before signing in to an on-premises organisation: can Azure reach it, and where is its AD FS?

Each step names what failed in words the customer's administrator can act on — DNS, a private address,
TLS, no Web API, AD FS metadata, AD FS refusing the redirect URI — instead of a stack trace. Everything
goes through public_host.py's session, so the address is checked (and pinned) on each connection.

After signing in: which Web API version the server serves (9.0 or 9.1: Learn, "Dynamics 365 Customer
Engagement Web API Versions"), read with the RetrieveVersion function (Learn, Web API reference) on the v9.0
endpoint every 9.x server has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from shared.dataverse.client import DataverseClient
from shared.dataverse.onprem_url import Challenge, challenge_from, checked_adfs_url
from shared.dataverse.public_host import HostNotFound, PrivateAddress
from shared.errors import ConnectorError, FatalError

SUPPORTED = ("9.0", "9.1")


class OnPremProblem(FatalError):
    """What stops the connection, for the person at the page; `field` is the form field to fix."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class Server:
    org_url: str
    authority: str
    resource: str


def probe(session: requests.Session, org_url: str, adfs_url: str, timeout: float) -> Server:
    """Reach the organisation without a token (its 401 names AD FS), then AD FS's metadata."""
    answer = _get(session, f"{org_url}/api/data/v9.0/", timeout, "org_url")
    challenge = challenge_from(dict(answer.headers)) if answer.status_code == 401 else None
    if answer.status_code != 401:
        raise OnPremProblem(
            f"No Dynamics 365 Web API answered at {org_url}/api/data/v9.0/ (HTTP {answer.status_code}). "
            "Check the organisation URL: Dynamics 365 Customer Engagement (on-premises) 9.0 or later, "
            "published with OAuth (IFD).",
            "org_url",
        )
    if adfs_url:
        authority = checked_adfs_url(adfs_url)
    elif challenge is not None:
        authority = challenge.authority
    else:
        raise OnPremProblem(
            "Your Dynamics server did not say where its AD FS is (its 401 answer names no OAuth authority): "
            "enter your AD FS address, and check that OAuth is enabled on the server "
            "(Set-CrmSetting OAuthClaimsSettings).",
            "adfs_url",
        )
    metadata = _get(session, f"{authority}/.well-known/openid-configuration", timeout, "adfs_url")
    if metadata.status_code != 200 or not _is_metadata(metadata):
        raise OnPremProblem(
            f"Your AD FS at {authority} did not serve its metadata document (/.well-known/openid-"
            f"configuration, HTTP {metadata.status_code}). The connector needs AD FS 2019 or later, "
            "published on the internet.",
            "adfs_url",
        )
    return Server(org_url, authority, _resource(challenge, org_url))


def check_authorize(session: requests.Session, auth_uri: str, redirect_uri: str, timeout: float) -> None:
    """Ask AD FS for the sign-in page ourselves first: AD FS shows a refused redirect URI or an unknown
    client on its own error page and never comes back, so the customer would be stranded there. (AD FS
    answers the request with its sign-in page, or a redirect to it, when the request is valid.)"""
    answer = _get(session, auth_uri, timeout, "adfs_url")
    if answer.status_code < 400:
        return
    text = answer.text[:4000]
    if "MSIS9224" in text or "redirect_uri" in text:
        raise OnPremProblem(
            "AD FS refused the connector's redirect URI. In AD FS Management → Application Groups → the "
            f"connector's server application, the redirect URI must be exactly {redirect_uri}",
            "client_id",
        )
    if "MSIS9223" in text or "client_id" in text:
        raise OnPremProblem(
            "AD FS does not know this client identifier: copy it from the server application of the "
            "connector's application group in AD FS Management.",
            "client_id",
        )
    raise OnPremProblem(f"AD FS refused the sign-in request (HTTP {answer.status_code}).", "client_id")


def api_version(client: DataverseClient) -> str:
    """ "9.1" or "9.0": the Web API the server serves, from RetrieveVersion on its v9.0 endpoint."""
    version = str(client.get("RetrieveVersion()").get("Version", ""))
    found = re.match(r"^(\d+)\.(\d+)\.", version + ".")
    major, minor = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if (major, minor) < (9, 0):
        raise OnPremProblem(
            f"Your Dynamics server runs version {version or 'unknown'}: the connector needs Dynamics 365 "
            "Customer Engagement (on-premises) 9.0 or later (webhooks and the v9 Web API)."
        )
    return "9.1" if (major, minor) >= (9, 1) else "9.0"


def explain(error: Exception, host: str) -> OnPremProblem | None:
    """Network failures on the way to a customer's server, in words; None for anything else."""
    if isinstance(error, PrivateAddress):
        return OnPremProblem(str(error), "org_url")
    if isinstance(error, HostNotFound):
        return OnPremProblem(
            f"Azure cannot find {error.host}: DNS has no address for it. Check the address; the server must "
            "be published on the internet under this name.",
            "org_url",
        )
    if isinstance(error, requests.exceptions.SSLError):
        return OnPremProblem(
            f"{host} answered, but its certificate is not trusted. Publish Dynamics and AD FS with a "
            f"certificate from a public certificate authority that is valid for {host} and not expired.",
            "org_url",
        )
    if isinstance(error, requests.exceptions.Timeout | requests.ConnectionError):
        return OnPremProblem(
            f"{host} did not answer over HTTPS from the internet. Check that the server is published "
            "(Internet-facing deployment) and that the firewall lets HTTPS in.",
            "org_url",
        )
    return None


def _get(session: requests.Session, url: str, timeout: float, field: str) -> requests.Response:
    host = urlsplit(url).netloc
    try:
        return session.get(url, timeout=timeout, allow_redirects=False)
    except (requests.RequestException, ConnectorError) as error:
        problem = explain(error, host)
        if problem is None:
            raise
        raise OnPremProblem(problem.message, field if problem.field == "org_url" else problem.field) from None


def _is_metadata(answer: requests.Response) -> bool:
    try:
        body = answer.json()
    except ValueError:
        return False
    return isinstance(body, dict) and bool(body.get("authorization_endpoint") and body.get("token_endpoint"))


def _resource(challenge: Challenge | None, org_url: str) -> str:
    """The relying party the server names (resource_id), else the organisation URL itself."""
    named = challenge.resource if challenge is not None else ""
    return named if named.startswith("https://") else f"{org_url}/"
