"""Customer-chosen hosts (a Dynamics 365 on-premises server, its AD FS) are reached only at public addresses.

An on-premises organisation URL is whatever the customer types, so without this our servers could be made
to call Azurite on localhost, a private network, or the cloud's metadata service (169.254.169.254, Azure's
WireServer 168.63.129.16). Checking the name once when it is typed is not enough: DNS can answer a public
address to the check and a private one a second later (rebinding). So the check happens on every new
connection, inside the HTTP adapter, and the connection then goes to the very address that was checked
(the pinned address), with the host name kept for TLS (SNI and certificate check) and the Host header.

Development only: `DEV_DATAVERSE_SANDBOX_ORIGIN` (scheme, host and port exactly) is the one address beside
public ones, as for Dynamics online (shared/dataverse/org_url.py); shared/config.py ignores DEV_ settings
in Azure.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from shared import __version__
from shared.config import Settings
from shared.errors import FatalError

Resolver = Callable[[str, int], list[str]]
# Public by IANA's registry but never a customer's server: Azure's WireServer / host agent (Learn, "What is
# IP address 168.63.129.16?") and the metadata addresses of the clouds (Azure IMDS is 169.254.169.254,
# already link-local; AWS's IPv6 IMDS fd00:ec2::254 is private). NAT64's well-known prefix carries an IPv4
# address inside, which is checked in its place.
_NEVER = frozenset({ipaddress.ip_address("168.63.129.16")})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class PrivateAddress(FatalError):
    """The host resolves to an address that is not on the public internet."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(
            f"{host} resolves to {address}, which is not a public internet address (a private, loopback, "
            "link-local or cloud metadata address). The connector only connects to servers reachable on "
            "public addresses: publish Dynamics and AD FS on the internet (Internet-facing deployment) "
            "under a name whose DNS answers public addresses only."
        )
        self.host, self.address = host, address


class HostNotFound(requests.ConnectionError):
    """DNS has no address for the host (a ConnectionError: workers retry it like any unreachable host)."""

    def __init__(self, host: str) -> None:
        super().__init__(f"DNS has no address for {host}")
        self.host = host


def resolve(host: str, port: int) -> list[str]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise HostNotFound(host) from None
    return list(dict.fromkeys(str(info[4][0]) for info in answers))


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast and ip not in _NEVER


def public_address(
    host: str, port: int, resolver: Resolver = resolve, allowed: Callable[[str], bool] = is_public
) -> str:
    """The address to connect to: the first one DNS gave, provided every one it gave is public (a name
    with one private answer among public ones is refused: the next lookup may prefer that one)."""
    addresses = resolver(host, port)
    if not addresses:
        raise HostNotFound(host)
    for address in addresses:
        if not allowed(address):
            raise PrivateAddress(host, address)
    return addresses[0]


class PublicOnlyAdapter(HTTPAdapter):
    """requests' adapter, checking and pinning the address of every new connection it opens."""

    def __init__(
        self,
        exempt_origin: str = "",
        resolver: Resolver = resolve,
        pool_size: int = 10,
        allowed: Callable[[str], bool] = is_public,
    ) -> None:
        """`allowed` is for tests that must show the pinning itself against a local server."""
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self._exempt = _origin_key(exempt_origin) if exempt_origin else None
        self._resolver, self._allowed = resolver, allowed

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        params, kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params: dict[str, Any] = dict(params)
        pool_kwargs: dict[str, Any] = dict(kwargs)
        scheme, host = str(host_params["scheme"]), str(host_params["host"]).strip("[]")
        port = int(host_params.get("port") or (443 if scheme == "https" else 80))
        if self._exempt == (scheme, host.lower(), port):
            return host_params, pool_kwargs
        address = public_address(host, port, self._resolver, self._allowed)
        if address != host:
            host_params = {**host_params, "host": address}
            if scheme == "https":  # TLS still speaks to, and checks the certificate of, the name
                pool_kwargs = {**pool_kwargs, "server_hostname": host, "assert_hostname": host}
        return host_params, pool_kwargs

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        # The connection goes to the pinned address; the server must still see the name it serves.
        netloc = urlsplit(request.url or "").netloc.rpartition("@")[2]
        request.headers.setdefault("Host", netloc)
        return super().send(request, *args, **kwargs)


def public_only_session(
    verify: str | bool, exempt_origin: str = "", resolver: Resolver = resolve, headers: Mapping[str, str] = {}
) -> requests.Session:
    """A session for customer-chosen hosts: https only, public addresses only, no machine proxy or CA
    variables (trust_env off, as shared/http.py explains)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = verify
    session.headers.update(headers)
    session.mount("https://", PublicOnlyAdapter(exempt_origin, resolver))
    session.mount("http://", _RefuseAdapter())
    return session


_SESSIONS: dict[tuple[str, str], requests.Session] = {}


def customer_host_session(settings: Settings) -> requests.Session:
    """One public-only session per worker process and settings (its pool keeps connections to the pinned
    addresses); the sandbox origin is exempt only where DEV_DATAVERSE_SANDBOX_ORIGIN is set (never Azure)."""
    key = (settings.tls_ca_bundle, settings.dataverse_sandbox_origin)
    if key not in _SESSIONS:
        _SESSIONS[key] = public_only_session(
            settings.tls_ca_bundle or True,
            settings.dataverse_sandbox_origin,
            headers={"User-Agent": f"dynamics-xero-connector/{__version__}"},
        )
    return _SESSIONS[key]


class _RefuseAdapter(HTTPAdapter):
    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        raise FatalError("The connector only talks to customer servers over HTTPS")


def _origin_key(origin: str) -> tuple[str, str, int]:
    parts = urlsplit(origin.rstrip("/"))
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)
