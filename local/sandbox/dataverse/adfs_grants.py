"""What the AD FS stand-in knows and issued: its users, the application group's server applications
(client id, secret, exact redirect URIs), authorization codes, access and refresh tokens.

Sources (AD FS 2019 and later, the versions MSAL Python talks to directly — Learn, "Active Directory
Federation Services support in MSAL for Python"):
- Learn, "AD FS OpenID Connect/OAuth flows and Application Scenarios": authorization code grant (with PKCE),
  refresh token grant, client credentials grant for a confidential client ("server application").
- [MS-OAPX] 2.2.3.3: the `resource` parameter names the relying party the token is for; optional from AD FS
  2016 on; the token answer echoes it.
- A redirect URI must equal one registered for the client (RFC 6749 §3.1.2.3; the application group's
  "Redirect URI" list).
Tokens are opaque random strings here: the Web API half asks this store who a token speaks for.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .identity_directory import stable_id

ACCESS_TOKEN_LIFETIME = 3600  # AD FS's default access token lifetime (unverified on Learn)
REFRESH_TOKEN_LIFETIME = 8 * 3600  # AD FS's default SSO lifetime for a refresh token (unverified)
CODE_LIFETIME = 60


@dataclass
class AdfsUser:
    upn: str
    password: str
    display_name: str

    @property
    def object_id(self) -> str:
        return stable_id("adfs-user", self.upn.lower())

    def systemuserid(self, org: str) -> str:
        return stable_id("onprem-systemuser", org, self.upn.lower())


@dataclass
class AdfsClient:
    client_id: str
    secret: str
    redirect_uris: list[str] = field(default_factory=list)


@dataclass
class Issued:
    user: AdfsUser | None  # None: client credentials
    client_id: str
    resource: str  # normalised: lower-case scheme and host, no trailing slash
    expires_at: float


@dataclass
class Code:
    user: AdfsUser
    client_id: str
    redirect_uri: str
    resource: str
    scope: str
    nonce: str | None
    challenge: str | None
    method: str | None
    expires_at: float


class AdfsGrants:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.users = [
            AdfsUser("admin@fabrikam.example", "Fabrikam-Sandbox-1", "Fabrikam Administrator"),
            AdfsUser("clerk@fabrikam.example", "Fabrikam-Sandbox-2", "Fabrikam Clerk"),
        ]
        self.clients: dict[str, AdfsClient] = {}
        self.codes: dict[str, Code] = {}
        self.access: dict[str, Issued] = {}
        self.refresh: dict[str, Issued] = {}

    def reset(self) -> None:
        with self.lock:
            self.clients.clear()
            self.codes.clear()
            self.access.clear()
            self.refresh.clear()

    def user(self, upn: str) -> AdfsUser | None:
        return next((u for u in self.users if u.upn.lower() == upn.strip().lower()), None)

    def new_code(self, code: Code) -> str:
        value = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[value] = code
        return value

    def take_code(self, value: str) -> Code | None:
        with self.lock:
            code = self.codes.pop(value, None)
        return code if code is not None and code.expires_at > self.clock() else None

    def issue(self, user: AdfsUser | None, client_id: str, resource: str, refresh: bool) -> dict[str, str]:
        now = self.clock()
        tokens = {"access_token": secrets.token_urlsafe(32)}
        with self.lock:
            self.access[tokens["access_token"]] = Issued(
                user, client_id, resource, now + ACCESS_TOKEN_LIFETIME
            )
            if refresh:
                tokens["refresh_token"] = secrets.token_urlsafe(32)
                self.refresh[tokens["refresh_token"]] = Issued(
                    user, client_id, resource, now + REFRESH_TOKEN_LIFETIME
                )
        return tokens

    def access_token(self, value: str) -> Issued | None:
        with self.lock:
            issued = self.access.get(value)
        return issued if issued is not None and issued.expires_at > self.clock() else None

    def refresh_token(self, value: str) -> Issued | None:
        with self.lock:
            issued = self.refresh.get(value)
        return issued if issued is not None and issued.expires_at > self.clock() else None

    def expire_access_tokens(self) -> None:
        with self.lock:
            for issued in self.access.values():
                issued.expires_at = 0
