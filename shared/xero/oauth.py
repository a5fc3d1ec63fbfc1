"""Xero's OAuth 2.0 endpoints: consent URL, code exchange, refresh, revocation and the /connections list.

The client id and secret go in HTTP Basic on the token and revocation endpoints. Errors are translated to
shared.errors: `invalid_grant` means the customer must reconnect; 429, 5xx and network trouble are
retriable. Tokens never appear in an exception message or a log line.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from shared.config import Settings
from shared.errors import FatalError, ReconnectRequired, RetriableError
from shared.http import retry_after

log = logging.getLogger(__name__)


def new_code_verifier() -> str:
    """43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1): 64 random bytes, base64url."""
    return secrets.token_urlsafe(64)[:128]


def pkce_challenge(verifier: str) -> str:
    """S256: base64url(SHA-256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# Never accounting.transactions: apps created after March 2026 may not request it (FACTS.md).
SCOPES = (
    "offline_access",
    "accounting.invoices",
    "accounting.contacts",
    "accounting.settings",
    "accounting.payments.read",
)


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class XeroTenant:
    id: str  # the connection id, for DELETE /connections/{id}
    tenant_id: str
    tenant_name: str
    tenant_type: str


class XeroOAuth:
    def __init__(
        self,
        session: requests.Session,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._settings = settings
        self._clock = clock

    def authorize_url(
        self, state: str, redirect_uri: str, scopes: tuple[str, ...] = SCOPES, code_verifier: str = ""
    ) -> str:
        """With `code_verifier`, the URL carries its S256 challenge (RFC 7636): a code that reaches our
        callback is then worth something only with this flow's verifier, so a code from another
        flow (someone else's consent, injected into the redirect) cannot be exchanged."""
        query = {
            "response_type": "code",
            "client_id": self._settings.xero_client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
        }
        if code_verifier:
            query |= {"code_challenge": pkce_challenge(code_verifier), "code_challenge_method": "S256"}
        return f"{self._settings.xero_login_url}/identity/connect/authorize?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str = "") -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._token(form | ({"code_verifier": code_verifier} if code_verifier else {}))

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, refresh_token: str) -> None:
        url = f"{self._settings.xero_identity_url}/connect/revocation"
        response = self._send("POST", url, data={"token": refresh_token}, auth=self._client_auth())
        _raise_for_status(response, "revoke the Xero token")

    def list_connections(self, access_token: str) -> list[XeroTenant]:
        response = self._send(
            "GET", f"{self._settings.xero_api_url}/connections", headers=_bearer(access_token)
        )
        _raise_for_status(response, "list Xero connections")
        return [
            XeroTenant(
                id=item["id"],
                tenant_id=item["tenantId"],
                tenant_name=item.get("tenantName") or "",
                tenant_type=item.get("tenantType") or "",
            )
            for item in response.json()
        ]

    def delete_connection(self, access_token: str, xero_connection_id: str) -> None:
        url = f"{self._settings.xero_api_url}/connections/{xero_connection_id}"
        response = self._send("DELETE", url, headers=_bearer(access_token))
        if response.status_code != 404:  # already disconnected is what we wanted
            _raise_for_status(response, "disconnect the Xero organisation")

    def _token(self, form: dict[str, str]) -> TokenSet:
        url = f"{self._settings.xero_identity_url}/connect/token"
        started = self._clock()
        response = self._send("POST", url, data=form, auth=self._client_auth())
        _raise_for_status(response, f"get a Xero token ({form['grant_type']})")
        body = response.json()
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or "",
            # Counted from when we asked, so clock skew and slow answers only make us refresh early.
            expires_at=started + timedelta(seconds=int(body.get("expires_in", 1800))),
            scopes=tuple(str(body.get("scope", "")).split()),
        )

    def _client_auth(self) -> tuple[str, str]:
        if not self._settings.xero_client_id or not self._settings.xero_client_secret:
            raise FatalError("XERO_CLIENT_ID and XERO_CLIENT_SECRET must be set")
        return (self._settings.xero_client_id, self._settings.xero_client_secret)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, url, timeout=self._settings.http_timeout_seconds, **kwargs)
        except (requests.Timeout, requests.ConnectionError) as error:
            raise RetriableError(
                f"Xero did not answer {method} {_path(url)}: {type(error).__name__}"
            ) from None


def _raise_for_status(response: requests.Response, doing: str) -> None:
    status = response.status_code
    if status < 400:
        return
    error = _oauth_error(response)
    log.warning("Xero refused to %s: HTTP %s %s", doing, status, error)
    if status == 429:
        raise RetriableError(f"Xero rate limit while trying to {doing}", retry_after(response.headers))
    if status >= 500:
        raise RetriableError(f"Xero failed to {doing} (HTTP {status})", retry_after(response.headers))
    if error == "invalid_grant":
        raise ReconnectRequired("xero", "Xero refused the saved sign-in (invalid_grant)")
    if status == 401:
        raise ReconnectRequired("xero", f"Xero refused the sign-in (HTTP 401) while trying to {doing}")
    if error == "invalid_client":
        raise FatalError("Xero refused the app's client id or secret (invalid_client)")
    raise FatalError(f"Xero refused to {doing}: HTTP {status} {error}".rstrip())


def _oauth_error(response: requests.Response) -> str:
    """The OAuth `error` code only: `error_description` might echo request data."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}


def _path(url: str) -> str:
    return url.split("?", 1)[0]
