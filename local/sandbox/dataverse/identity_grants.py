"""What the stand-in remembers between requests: sign-ins in progress, authorization codes, access and
refresh tokens. In memory and thread-safe (the server is threaded); every lifetime runs on the injected
clock so a time-scaled sandbox expires things sooner."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

AUTHORIZE_REQUEST_LIFETIME = 900.0  # the sign-in page may sit open for a while
CODE_LIFETIME = 600.0  # Entra ID: authorization codes live about 10 minutes
REFRESH_TOKEN_LIFETIME = 90 * 86400.0  # Entra ID: 90 days of inactivity

_T = TypeVar("_T")


@dataclass
class AuthorizeRequest:
    tenant_id: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str
    login_hint: str
    response_mode: str  # "query" or "form_post"
    expires_at: float


@dataclass
class AuthorizationCode:
    request: AuthorizeRequest
    user_id: str
    expires_at: float
    redeemed: bool = False


@dataclass
class AccessToken:
    audience: str
    tenant_id: str
    client_id: str
    user_id: str | None  # the user's object id; None for app-only tokens
    expires_at: float


@dataclass
class RefreshToken:
    tenant_id: str
    client_id: str
    user_id: str
    expires_at: float
    revoked: bool = False


@dataclass
class GrantStore:
    clock: Callable[[], float]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _requests: dict[str, AuthorizeRequest] = field(default_factory=dict)
    _codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    _access: dict[str, AccessToken] = field(default_factory=dict)
    _refresh: dict[str, RefreshToken] = field(default_factory=dict)

    def add_request(self, request: AuthorizeRequest) -> str:
        return self._put(self._requests, request)

    def take_request(self, request_id: str) -> AuthorizeRequest | None:
        """Removes it: a sign-in page can be answered once."""
        with self._lock:
            request = self._requests.pop(request_id, None)
        return request if request and request.expires_at > self.clock() else None

    def peek_request(self, request_id: str) -> AuthorizeRequest | None:
        with self._lock:
            request = self._requests.get(request_id)
        return request if request and request.expires_at > self.clock() else None

    def add_code(self, code: AuthorizationCode) -> str:
        return self._put(self._codes, code)

    def code(self, value: str) -> AuthorizationCode | None:
        with self._lock:
            return self._codes.get(value)

    def redeem(self, code: AuthorizationCode) -> bool:
        """True for the first redemption only, even when two arrive at once."""
        with self._lock:
            first = not code.redeemed
            code.redeemed = True
        return first

    def add_access_token(self, value: str, token: AccessToken) -> None:
        with self._lock:
            self._prune(self._access)
            self._access[value] = token

    def access_token(self, value: str) -> AccessToken | None:
        with self._lock:
            token = self._access.get(value)
        return token if token and token.expires_at > self.clock() else None

    def add_refresh_token(self, token: RefreshToken) -> str:
        return self._put(self._refresh, token)

    def refresh_token(self, value: str) -> RefreshToken | None:
        with self._lock:
            return self._refresh.get(value)

    def touch(self, token: RefreshToken) -> None:
        with self._lock:
            token.expires_at = self.clock() + REFRESH_TOKEN_LIFETIME

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def revoke_refresh_tokens(self, user_id: str | None = None) -> None:
        with self._lock:
            for token in self._refresh.values():
                if user_id is None or token.user_id == user_id:
                    token.revoked = True

    def clear(self) -> None:
        with self._lock:
            for table in (self._requests, self._codes, self._access, self._refresh):
                table.clear()

    def _put(self, table: dict[str, _T], item: _T) -> str:
        value = secrets.token_urlsafe(32)
        with self._lock:
            self._prune(table)
            table[value] = item
        return value

    def _prune(self, table: dict[str, _T]) -> None:
        """Drops long-expired entries so a sandbox that runs for days does not grow without end.

        Expired codes are kept for a while so their reuse still gets the precise error."""
        cutoff = self.clock() - CODE_LIFETIME
        for key in [k for k, v in table.items() if getattr(v, "expires_at", cutoff + 1) < cutoff]:
            del table[key]
