"""Signing in to the sandbox Dataverse as a browser would: the settings that point MSAL at it, and the
auth-code round trip through its sign-in page (used by the Dataverse auth, client and install tests)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

from local.sandbox.dataverse import DataverseSandbox
from shared.config import Settings
from shared.dataverse.auth import SignInResult, begin_sign_in, complete_sign_in

REDIRECT_URI = "http://127.0.0.1:7071/api/oauth/dynamics/callback"
ADMIN, LIMITED = "admin@contoso.example", "limited@contoso.example"


def settings_for(sb: DataverseSandbox) -> Settings:
    return Settings.from_env(
        {
            "MS_CLIENT_ID": "sandbox-ms-client",
            "MS_CLIENT_SECRET": "sandbox-ms-secret",
            "MS_AUTHORITY_HOST": sb.url,
            "MS_TENANT": "organizations",
            "DATAVERSE_DISCOVERY_URL": sb.url,
            "DEV_DATAVERSE_SANDBOX_ORIGIN": sb.url,
            "TLS_CA_BUNDLE": str(sb.ca_path),
            "HTTP_TIMEOUT_SECONDS": "5",
        }
    )


def sign_in(
    sb: DataverseSandbox, settings: Settings, session: requests.Session, upn: str, action: str = "accept"
) -> tuple[dict[str, Any], dict[str, str]]:
    """Drives the sandbox's sign-in page like a browser: MSAL's flow and what the redirect hands back."""
    flow = begin_sign_in(settings, session, REDIRECT_URI, state=f"state-{upn}")
    page = session.get(flow["auth_uri"], allow_redirects=False)
    assert page.status_code == 200, page.text
    request_id = unescape(re.search(r'name="request" value="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    form = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    user = next(u for u in sb.identity.users() if u["upn"] == upn)
    answer = session.post(
        urljoin(sb.url, form),
        data={"request": request_id, "action": action, "user": user["object_id"]},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    return flow, dict(parse_qsl(urlsplit(location).query))


def signed_in(sb: DataverseSandbox, settings: Settings, session: requests.Session, upn: str) -> SignInResult:
    flow, auth_response = sign_in(sb, settings, session, upn)
    return complete_sign_in(settings, session, flow, auth_response)
