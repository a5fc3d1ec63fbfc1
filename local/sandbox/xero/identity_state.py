"""OAuth 2.0 state: registered apps, consent codes, grants with rotating refresh tokens, access tokens
and the app's connections (tenants the user granted). Every lifetime runs on the sandbox clock.

Refresh-token reuse (decision): presenting a rotated-out refresh token within the 30-minute grace
period answers with the grant's CURRENT refresh token (no further rotation) and a freshly minted
access token, so two workers racing on one connection both end up holding the same live token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from local.sandbox.xero.clock import SandboxClock

ACCESS_TOKEN_LIFE = 30 * 60
CODE_LIFE = 5 * 60
REFRESH_GRACE = 30 * 60
REFRESH_UNUSED_LIFE = 60 * 24 * 3600
DEFAULT_CLIENT_ID = "sandbox-xero-client"
DEFAULT_CLIENT_SECRET = "sandbox-xero-secret"  # noqa: S105 - a published sandbox credential, not a secret
USER_ID = "5f6d3c2a-9b8e-4f71-a0c4-3e2d1b0a9f88"


class OAuthError(Exception):
    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass
class App:
    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str] | None  # None: any loopback URI (the default app, tests use random ports)

    def redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris is not None:
            return uri in self.redirect_uris
        parsed = urlparse(uri)
        return parsed.scheme in ("http", "https") and parsed.hostname in ("127.0.0.1", "localhost")


@dataclass
class Consent:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    auth_event_id: str
    expires_at: float
    used: bool = False
    code_challenge: str = ""  # PKCE (RFC 7636), S256 only


@dataclass
class Grant:
    auth_event_id: str
    client_id: str
    scopes: list[str]
    refresh_token: str | None = None
    revoked: bool = False


@dataclass
class RefreshToken:
    grant_id: str
    last_used: float
    rotated_at: float | None = None


@dataclass
class Connection:
    id: str
    client_id: str
    tenant_id: str
    auth_event_id: str
    created: float
    updated: float


@dataclass
class IdentityStore:
    clock: SandboxClock
    apps: dict[str, App] = field(default_factory=dict)
    consents: dict[str, Consent] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (grant, expiry)
    connections: dict[str, Connection] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.register_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, None, "Sandbox Connector")

    def register_app(self, client_id: str, secret: str, redirect_uris: list[str] | None, name: str) -> App:
        with self.lock:
            app = App(client_id, secret, name, redirect_uris)
            self.apps[client_id] = app
            return app

    def client(self, client_id: str, secret: str) -> App:
        app = self.apps.get(client_id)
        if app is None or not hmac.compare_digest(app.client_secret, secret):
            raise OAuthError("invalid_client", 400)
        return app

    # --- consent and codes ------------------------------------------------------------------------
    def consent(
        self, app: App, redirect_uri: str, scopes: list[str], tenant_ids: list[str], code_challenge: str = ""
    ) -> str:
        with self.lock:
            auth_event_id = str(uuid.uuid4())
            now = self.clock.now()
            for tenant_id in tenant_ids:
                self._connect(app.client_id, tenant_id, auth_event_id, now)
            code = secrets.token_urlsafe(32)
            self.consents[code] = Consent(
                app.client_id,
                redirect_uri,
                scopes,
                auth_event_id,
                now + CODE_LIFE,
                code_challenge=code_challenge,
            )
            return code

    def _connect(self, client_id: str, tenant_id: str, auth_event_id: str, now: float) -> None:
        existing = next(
            (c for c in self.connections.values() if c.client_id == client_id and c.tenant_id == tenant_id),
            None,
        )
        if existing:
            existing.auth_event_id, existing.updated = auth_event_id, now
        else:
            conn_id = str(uuid.uuid4())
            self.connections[conn_id] = Connection(conn_id, client_id, tenant_id, auth_event_id, now, now)

    def exchange_code(
        self, app: App, code: str, redirect_uri: str, code_verifier: str = ""
    ) -> dict[str, Any]:
        with self.lock:
            consent = self.consents.get(code)
            if (
                consent is None
                or consent.used
                or consent.client_id != app.client_id
                or consent.expires_at < self.clock.now()
                or consent.redirect_uri != redirect_uri
                or not _pkce_ok(consent.code_challenge, code_verifier)
            ):
                raise OAuthError("invalid_grant")
            consent.used = True
            grant = Grant(consent.auth_event_id, app.client_id, consent.scopes)
            self.grants[grant.auth_event_id] = grant
            return self._token_answer(app, grant, rotate=True)

    # --- refresh rotation -------------------------------------------------------------------------
    def refresh(self, app: App, token: str) -> dict[str, Any]:
        with self.lock:
            now = self.clock.now()
            record = self.refresh_tokens.get(token)
            grant = self.grants.get(record.grant_id) if record else None
            if record is None or grant is None or grant.revoked or grant.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            if record.rotated_at is None:
                if now - record.last_used > REFRESH_UNUSED_LIFE:
                    raise OAuthError("invalid_grant")
                record.rotated_at = now
                return self._token_answer(app, grant, rotate=True)
            if now - record.rotated_at > REFRESH_GRACE:
                raise OAuthError("invalid_grant")
            return self._token_answer(app, grant, rotate=False)

    def _token_answer(self, app: App, grant: Grant, rotate: bool) -> dict[str, Any]:
        now = self.clock.now()
        access = secrets.token_urlsafe(40)
        self.access_tokens[access] = (grant.auth_event_id, now + ACCESS_TOKEN_LIFE)
        answer: dict[str, Any] = {
            "access_token": access,
            # in real seconds: the client lives in real time, even when this clock runs faster
            "expires_in": max(1, int(self.clock.to_real_seconds(ACCESS_TOKEN_LIFE))),
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if "offline_access" in grant.scopes:
            if rotate or grant.refresh_token is None:
                grant.refresh_token = secrets.token_urlsafe(40)
                self.refresh_tokens[grant.refresh_token] = RefreshToken(grant.auth_event_id, now)
            answer["refresh_token"] = grant.refresh_token
        if "openid" in grant.scopes:
            answer["id_token"] = self._id_token(app, now)
        return answer

    def _id_token(self, app: App, now: float) -> str:
        def b64(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        claims = {
            "iss": "https://identity.xero.com",
            "aud": app.client_id,
            "sub": USER_ID,
            "iat": int(now),
            "exp": int(now + 300),
            "xero_userid": USER_ID,
            "email": "sandbox.user@example.com",
            "given_name": "Sandbox",
            "family_name": "User",
        }
        signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}"
        signature = hmac.new(app.client_secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    def revoke(self, app: App, token: str) -> None:
        with self.lock:
            record = self.refresh_tokens.get(token)
            grant = self.grants.get(record.grant_id) if record else None
            if grant is None or grant.client_id != app.client_id:
                return  # RFC 7009: an unknown token is not an error
            grant.revoked = True
            self.access_tokens = {t: v for t, v in self.access_tokens.items() if v[0] != grant.auth_event_id}
            self.connections = {
                k: c for k, c in self.connections.items() if c.auth_event_id != grant.auth_event_id
            }

    # --- bearer tokens ----------------------------------------------------------------------------
    def authenticate(self, bearer: str) -> Grant:
        """The grant behind an access token; raises OAuthError('expired' | 'invalid')."""
        with self.lock:
            found = self.access_tokens.get(bearer)
            grant = self.grants.get(found[0]) if found else None
            if found is None or grant is None or grant.revoked:
                raise OAuthError("invalid", 401)
            if found[1] <= self.clock.now():
                raise OAuthError("expired", 401)
            return grant

    def expire_access_tokens(self) -> int:
        with self.lock:
            now = self.clock.now()
            self.access_tokens = {t: (g, min(exp, now)) for t, (g, exp) in self.access_tokens.items()}
            return len(self.access_tokens)

    def connections_of(self, grant: Grant) -> list[Connection]:
        with self.lock:
            return [c for c in self.connections.values() if c.client_id == grant.client_id]

    def connected(self, grant: Grant, tenant_id: str) -> bool:
        return any(c.tenant_id == tenant_id for c in self.connections_of(grant))

    def disconnect(self, grant: Grant, connection_id: str) -> bool:
        with self.lock:
            conn = self.connections.get(connection_id)
            if conn is None or conn.client_id != grant.client_id:
                return False
            del self.connections[connection_id]
            return True

    def issue_tokens(self, client_id: str, scopes: list[str], tenant_ids: list[str]) -> dict[str, Any]:
        """Test shortcut: consent and code exchange in one step (no browser, no HTTP)."""
        app = self.apps[client_id]
        code = self.consent(app, "http://127.0.0.1/callback", scopes, tenant_ids)
        return self.exchange_code(app, code, "http://127.0.0.1/callback")


def _pkce_ok(challenge: str, verifier: str) -> bool:
    """RFC 7636 §4.6: a code issued with a challenge needs the verifier whose S256 matches it (an
    authorization server "MUST" refuse otherwise, with invalid_grant). Without a challenge: nothing to
    check. Whether Xero's identity server checks PKCE for web apps that also send a client secret is
    unverified; the stricter behaviour is kept here."""
    if not challenge:
        return True
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return 43 <= len(verifier) <= 128 and hmac.compare_digest(expected, challenge)
