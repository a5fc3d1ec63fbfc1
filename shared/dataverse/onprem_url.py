"""The addresses of a Dynamics 365 Customer Engagement (on-premises) 9.x organisation and of its AD FS.

Organisation URL, two forms (Learn, "Discover the URL for your organization using the Web API" for
on-premises: the service base address is `https://{servername}/`; an Internet-facing deployment (IFD) gives
every organisation its own host, `https://{org}.{domain}/`, and a claims-only deployment serves it under
the server, `https://{server}/{org}/`). HTTPS only: the Web API is reached over the internet with OAuth
(Learn, "Authenticate to Dynamics 365 Customer Engagement with the Web API": IFD uses OAuth). A port is
allowed (Learn writes `{hostname[:port]}`); where the address may point is public_host.py's job, on every
connection, not this module's.

AD FS: MSAL Python talks to AD FS directly with the authority `https://{adfs host}/adfs` (Learn, "Active
Directory Federation Services support in MSAL for Python": supported from AD FS 2019 on; MSAL reads
`{authority}/.well-known/openid-configuration`, msal/authority.py). When the customer does not type it, the
server says where it is: an unauthenticated request is answered 401 with
`WWW-Authenticate: Bearer authorization_uri=https://{adfs}/adfs/oauth2/authorize, resource_id=https://{org}/`
(as the Dataverse Service Client reads it; not on Learn for on-premises: unverified, so a missing or
malformed challenge just asks the customer for the AD FS URL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.dataverse.org_url import DATAVERSE_HOST

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$")
_ORG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
EXAMPLES = "https://fabrikam.contoso.com or https://crm.contoso.com/fabrikam"
_CHALLENGE_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"?([^",\s]+)"?')


class NotOnPremUrl(ValueError):
    """The text is not an on-premises organisation (or AD FS) address; the message says what is."""


@dataclass(frozen=True)
class Challenge:
    authority: str  # https://adfs.contoso.com/adfs
    resource: str  # what the server named as resource_id ("" when it did not)


def checked_onprem_url(url: str) -> str:
    """`https://host[:port]` or `https://host[:port]/org`, lower-case host, no trailing slash."""
    text = url.strip()
    parts = _split(text, NotOnPremUrl(_refusal()))
    host = parts.hostname or ""
    if DATAVERSE_HOST.match(host):
        raise NotOnPremUrl(
            "This is a Dynamics 365 online address: choose “Dynamics 365 online” on the connection's page."
        )
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > 1 or (segments and not _ORG.match(segments[0])) or parts.path.count("//"):
        raise NotOnPremUrl(_refusal())
    return _origin(parts) + (f"/{segments[0]}" if segments else "")


def checked_adfs_url(url: str) -> str:
    """The MSAL authority `https://host[:port]/adfs` from what an administrator may paste: the AD FS host,
    its /adfs path, its authorize endpoint or its metadata document."""
    text = url.strip()
    parts = _split(text, NotOnPremUrl(_adfs_refusal()))
    path = parts.path.rstrip("/").lower()
    known = ("", "/adfs", "/adfs/oauth2/authorize", "/adfs/.well-known/openid-configuration")
    if path not in known:
        raise NotOnPremUrl(_adfs_refusal())
    return _origin(parts) + "/adfs"


def challenge_from(headers: dict[str, str]) -> Challenge | None:
    """The AD FS authority a 401's `WWW-Authenticate: Bearer authorization_uri=…` names, if any."""
    for name, value in headers.items():
        if name.lower() != "www-authenticate":
            continue
        for challenge in re.split(r",\s*(?=[A-Za-z]+\s+[A-Za-z_]+=)|\n", value):
            scheme, _, params = challenge.strip().partition(" ")
            if scheme.lower() != "bearer":
                continue
            found = {k.lower(): v for k, v in _CHALLENGE_PARAM.findall(params)}
            try:
                authority = checked_adfs_url(found.get("authorization_uri", ""))
            except NotOnPremUrl:
                continue
            return Challenge(authority, found.get("resource_id", ""))
    return None


def _split(text: str, refusal: NotOnPremUrl) -> _Parts:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise refusal from None
    host = parts.hostname or ""
    clean = (
        parts.scheme.lower() == "https"
        and "@" not in parts.netloc
        and not (parts.query or parts.fragment)
        and (port is None or 0 < port < 65536)
        and bool(host)
        and (_HOST.match(host) is not None or _is_ip(host))
    )
    if not clean:
        raise refusal
    return _Parts(host.lower(), port, parts.path)


@dataclass(frozen=True)
class _Parts:
    hostname: str
    port: int | None
    path: str


def _origin(parts: _Parts) -> str:
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port not in (None, 443) else ""
    return f"https://{host}{port}"


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _refusal() -> str:
    return (
        "Enter the organisation's address as your users open Dynamics, such as "
        f"{EXAMPLES}: https, the server, and at most the organisation's name after it."
    )


def _adfs_refusal() -> str:
    return "Enter your AD FS address, such as https://adfs.contoso.com/adfs (https, nothing after /adfs)."


def host_of(url: str) -> str:
    return urlsplit(url).netloc
