"""The sandbox's Dynamics 365 Customer Engagement (on-premises) server: one organisation, Fabrikam, at
`{base}/fabrikam` (the `https://{server}/{org}` form) and at `https://fabrikam.contoso.test:{port}/` (the
Internet-facing deployment's `https://{org}.{domain}/` form, told apart by the Host header as IIS's host
name binding does; `.test` is reserved for testing, RFC 2606, so a test maps the name to 127.0.0.1 itself),
signed in through the AD FS stand-in (adfs.py).

What differs from the online environments, and where it comes from:
- Web API 9.0 and 9.1 only, up to the release the server runs (`max_version`, 9.1 unless a test says 9.0):
  Learn, "Dynamics 365 Customer Engagement Web API Versions" (v9.x services side by side in one
  deployment). A later version's path is answered like any unknown path of the web server (unverified).
- No Global Discovery (the online service at globaldisco.crm.dynamics.com); the deployment's own discovery
  service at `{server}/api/discovery/v9.x/Instances` (Learn, "Discover the URL for your organization using
  the Web API", on-premises: supported by online, on-premises and IFD deployments) — served here with the
  organisation's own tokens (its resource for discovery is not on Learn: unverified). The 2011 SOAP
  discovery service (`/XRMServices/2011/Discovery.svc`, Learn "Discover the URL for your organization using
  the Organization Service") exists on real servers too; the connector does not use it, so it is not served.
- A request without a token is answered 401 with `WWW-Authenticate: Bearer authorization_uri=…/adfs/
  oauth2/authorize, resource_id=…` (as the Dataverse Service Client reads it from an on-premises server;
  not on Learn: unverified).
- IIS in front: request filtering answers a URL over 4,096 bytes, a query string over 2,048 bytes or a body
  over 30,000,000 bytes with an HTML 404 (Learn, IIS configuration reference, "Request Limits
  <requestLimits>": defaults and "IIS 7 will return an HTTP 404 error to the client"); a stopped application
  pool gives HTTP.sys's HTML 503 "Service Unavailable" (unverified wording) — on demand (`unavailable`).
- No service protection limits (429s are Dataverse online's), so no throttling here.
- Webhooks (service endpoints, contract 8, and their steps) exist from 9.0 and are registered as online
  (Learn, on-premises developer guide, "Use webhooks to create external handlers for server events").
- On demand, an operation the server lacks (`lacking`): answered "Resource not found for the segment" like
  any unknown operation (errors.not_found_segment).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from . import errors
from .adfs import AdfsService
from .identity_directory import Principal, stable_id
from .webapi import WebApi, error_response, path_template

ORG = "fabrikam"
FRIENDLY_NAME = "Fabrikam (on-premises)"
VERSIONS = {"9.0": "9.0.2.3034", "9.1": "9.1.0.28476"}  # build numbers: unverified, any 9.0 / 9.1 build
MAX_URL, MAX_QUERY, MAX_BODY = 4096, 2048, 30_000_000
_API = re.compile(r"^api/data/v(?P<version>[0-9]+\.[0-9]+)/?(?P<rest>.*)$")
IFD_DOMAIN = "contoso.test"
_DISCOVERY = re.compile(r"^api/discovery/v9\.[01]/Instances(?:\((?P<key>[^)]*)\))?/?$")


@dataclass
class OnPremSettings:
    max_version: str = "9.1"
    unavailable: bool = False
    lacking: list[str] = field(default_factory=list)

    def update(self, values: dict[str, Any]) -> None:
        if "max_version" in values:
            if values["max_version"] not in VERSIONS:
                raise ValueError("max_version is 9.0 or 9.1")
            self.max_version = str(values["max_version"])
        if "unavailable" in values:
            self.unavailable = bool(values["unavailable"])
        if "lacking" in values:
            self.lacking = [str(name) for name in values["lacking"]]


class OnPremServer:
    def __init__(self, base_url: Callable[[], str], adfs: AdfsService, webapi: WebApi) -> None:
        self._base, self.adfs, self.webapi = base_url, adfs, webapi
        self.settings = OnPremSettings()

    def org_url(self, org: str = ORG) -> str:
        return f"{self._base().rstrip('/')}/{org}"

    def ifd_url(self, org: str = ORG) -> str:
        """The organisation's own host in an Internet-facing deployment, `https://{org}.{domain}` (Learn,
        "Discover the URL for your organization using the Web API", on-premises; IfdSettings.ExternalDomain
        in the deployment SDK). A token is taken only for the address the request came by (the relying
        party's identifiers per organisation host: unverified, the stricter choice)."""
        port = urlsplit(self._base()).port
        return f"https://{org}.{IFD_DOMAIN}" + (f":{port}" if port not in (None, 443) else "")

    def ifd_org(self, request: Request) -> str | None:
        """The organisation a request's Host header names in the IFD form, if any."""
        host = (urlsplit(f"//{request.host}").hostname or "").lower()
        return ORG if host == f"{ORG}.{IFD_DOMAIN}" else None

    def resources(self) -> set[str]:
        return {self.org_url().lower(), self.ifd_url().lower()}

    def handle(self, request: Request, org: str, rest: str, org_url: str = "") -> Response:
        """`org_url`: the form the request came by (the IFD host); the `/{org}` form when empty."""
        org_url = org_url or self.org_url(org)
        self.webapi.counter.add(request.method, "/" + path_template(rest), org)  # even if refused below
        limit = _over_iis_limits(request)
        if limit is not None:
            return limit
        if self.settings.unavailable:
            return _html(503, "Service Unavailable", "HTTP Error 503. The service is unavailable.")
        identity = self.adfs.authenticate(request.headers.get("Authorization"), org_url)
        if identity is None:
            return Response(status=401, headers={"WWW-Authenticate": self._challenge(org_url)})
        user, client_id = identity
        principal = Principal(
            user.systemuserid(org) if user else stable_id("onprem-applicationuser", org, client_id),
            user.upn if user else "",
            "",
            user is None,
            client_id,
        )
        api = _API.match(rest)
        if (
            api is None
            or api.group("version") not in VERSIONS
            or api.group("version") > self.settings.max_version
        ):
            return _html(404, "Not Found", "HTTP Error 404. The requested resource is not found.")
        lacked = next((name for name in self.settings.lacking if name in api.group("rest")), None)
        if lacked is not None:
            return error_response(errors.not_found_segment(lacked))
        api_url = f"{org_url}/api/data/v{api.group('version')}/"
        return self.webapi.handle_as(request, org, api.group("rest"), principal, api_url)

    def discovery(self, request: Request) -> Response | None:
        """The deployment's own discovery service, `{server}/api/discovery/v9.x/Instances`; None for paths
        that are not its. Any token of the server's organisations is accepted (unverified)."""
        found = _DISCOVERY.match(request.path.lstrip("/"))
        if found is None:
            return None
        self.webapi.counter.add(request.method, request.path, "")
        org_url = self.ifd_url(ORG) if self.ifd_org(request) else self.org_url(ORG)
        if self.adfs.authenticate(request.headers.get("Authorization"), org_url) is None:
            return Response(status=401, headers={"WWW-Authenticate": self._challenge(org_url)})
        return self._instances(ORG, found.group("key"), org_url)

    def version(self) -> str:
        return VERSIONS[self.settings.max_version]

    def _challenge(self, org_url: str) -> str:
        return f"Bearer authorization_uri={self.adfs.authority}/oauth2/authorize, resource_id={org_url}/"

    def _instances(self, org: str, key: str | None, org_url: str) -> Response:
        row = {
            "Id": stable_id("organization", "onprem", org),
            "UniqueName": org,
            "UrlName": org,
            "FriendlyName": FRIENDLY_NAME,
            "State": 0,
            "Version": self.version(),
            "Url": org_url,
            "ApiUrl": org_url,
        }
        if key is not None and key not in (row["Id"], f"UniqueName='{org}'"):
            return error_response(errors.not_found_segment(key))
        return Response(
            json.dumps({"value": [row]} if key is None else row), 200, mimetype="application/json"
        )


def _over_iis_limits(request: Request) -> Response | None:
    raw_path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path
    query = request.query_string
    length = request.content_length or 0
    if len(raw_path.encode()) > MAX_URL or len(query) > MAX_QUERY or length > MAX_BODY:
        return _html(404, "Not Found", "HTTP Error 404. The requested resource is not found.")
    return None


def _html(status: int, title: str, text: str) -> Response:
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h2>{text}</h2></body></html>"
    return Response(page, status, mimetype="text/html")
