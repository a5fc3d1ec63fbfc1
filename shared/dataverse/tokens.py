"""Access tokens for background work against a Dataverse environment.

Delegated: silently from the connection's stored MSAL cache (its refresh token serves any environment);
MSAL may rotate the refresh token, and the new cache is handed to `on_cache_changed` so the caller saves
it encrypted. Entra ID keeps the previous refresh token valid, so two workers refreshing at once need no
lease (unlike Xero). App-only: client credentials with the connection's own app registration when it has
one, else the connector's.

Tokens are kept in memory per provider until 5 minutes before they expire (MSAL's own threshold), so a
busy worker does not ask MSAL, let alone Microsoft, for every request. `force_refresh=True` is for the one
retry after Dataverse answered 401 to a token we still believed in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import requests

from shared.config import Settings
from shared.dataverse.auth import build_app, guarded
from shared.errors import ReconnectRequired, RetriableError

if TYPE_CHECKING:
    import msal

EARLY_REFRESH_SECONDS = 300
SIGN_IN_AGAIN = "Microsoft no longer accepts the saved sign-in: sign in to Dynamics again"
_RECONNECT_ERRORS = frozenset(
    {
        "invalid_grant",
        "interaction_required",
        "consent_required",
        "invalid_client",
        "unauthorized_client",
        "invalid_scope",
        "no_account",
    }
)


class TokenProvider(Protocol):
    """What DataverseClient calls for a token; force_refresh after a 401."""

    def __call__(self, *, force_refresh: bool = False) -> str: ...


class _MemoTokens:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._memo: dict[str, tuple[str, float]] = {}

    def token_for(self, org_url: str, *, force_refresh: bool = False) -> str:
        raise NotImplementedError

    def for_org(self, org_url: str) -> TokenProvider:
        def provide(*, force_refresh: bool = False) -> str:
            return self.token_for(org_url, force_refresh=force_refresh)

        return provide

    def _remembered(self, scope: str, force_refresh: bool, fetch: Callable[[], dict[str, Any]]) -> str:
        with self._lock:  # also makes one thread refresh while the others wait for its token
            token, expires_at = self._memo.get(scope, ("", 0.0))
            if token and not force_refresh and expires_at - self._clock() > EARLY_REFRESH_SECONDS:
                return token
            result = fetch()
            token = str(result["access_token"])
            self._memo[scope] = (token, self._clock() + float(result.get("expires_in", 0)))
            return token


class SavedMsalCache:
    """A connection's stored MSAL cache, loaded on first use; a refresh token MSAL rotated goes to
    `on_cache_changed` (which the token registry may set later) so the caller saves it. Shared by the
    online and the AD FS providers (shared/dataverse/onprem_auth.py)."""

    _blob: str
    _cache: msal.SerializableTokenCache | None
    on_cache_changed: Callable[[str], None] | None

    @property
    def cache_blob(self) -> str:
        """The cache as this provider last saw or reported it."""
        return self._blob

    def _load_cache(self) -> msal.SerializableTokenCache:
        import msal

        cache = msal.SerializableTokenCache()
        if self._blob:
            cache.deserialize(self._blob)
        self._cache = cache
        return cache

    def _report_cache(self) -> None:
        cache = self._cache
        if cache is not None and cache.has_state_changed:
            self._blob = cache.serialize()
            cache.has_state_changed = False
            if self.on_cache_changed is not None:
                self.on_cache_changed(self._blob)


class DelegatedTokens(_MemoTokens, SavedMsalCache):
    def __init__(
        self,
        settings: Settings,
        session: requests.Session,
        cache_blob: str,
        home_account_id: str,
        *,
        tenant: str | None = None,
        on_cache_changed: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock)
        self._settings, self._session, self._tenant = settings, session, tenant
        self._blob, self._home_account_id = cache_blob, home_account_id
        self.on_cache_changed = on_cache_changed
        self._app: msal.ConfidentialClientApplication | None = None
        self._cache: msal.SerializableTokenCache | None = None

    def token_for(self, org_url: str, *, force_refresh: bool = False) -> str:
        return self.token_for_scope(f"{org_url.rstrip('/')}/user_impersonation", force_refresh=force_refresh)

    def token_for_scope(self, scope: str, *, force_refresh: bool = False) -> str:
        return self._remembered(scope, force_refresh, lambda: self._acquire(scope, force_refresh))

    def _acquire(self, scope: str, force_refresh: bool) -> dict[str, Any]:
        app = self._application()
        accounts = [a for a in app.get_accounts() if a.get("home_account_id") == self._home_account_id]
        if not accounts:
            raise ReconnectRequired("dynamics", SIGN_IN_AGAIN)
        result = guarded(
            "refresh the Dynamics sign-in",
            lambda: app.acquire_token_silent_with_error(
                [scope], account=accounts[0], force_refresh=force_refresh
            ),
        )
        self._report_cache()
        return _checked(result, "the saved Dynamics sign-in", "sign in to Dynamics again")

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            self._app = build_app(self._settings, self._load_cache(), self._session, tenant=self._tenant)
        return self._app


class AppOnlyTokens(_MemoTokens):
    def __init__(
        self,
        settings: Settings,
        session: requests.Session,
        tenant_id: str,
        *,
        client_id: str = "",
        client_secret: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock)
        self._settings, self._session, self._tenant = settings, session, tenant_id
        self._client_id, self._client_secret = client_id, client_secret
        self._app: msal.ConfidentialClientApplication | None = None

    def token_for(self, org_url: str, *, force_refresh: bool = False) -> str:
        scope = f"{org_url.rstrip('/')}/.default"
        return self._remembered(scope, force_refresh, lambda: self._acquire(scope, force_refresh))

    def _acquire(self, scope: str, force_refresh: bool) -> dict[str, Any]:
        if self._app is None:
            self._app = build_app(
                self._settings,
                None,
                self._session,
                tenant=self._tenant,
                client_id=self._client_id,
                client_secret=self._client_secret,
            )
        app = self._app
        if force_refresh:  # MSAL refuses force_refresh for client credentials: drop its cached token instead
            app.remove_tokens_for_client()
        result = guarded("get an app-only Dynamics token", lambda: app.acquire_token_for_client([scope]))
        return _checked(result, "the app registration", "check its client id and secret in the connection")


def _checked(result: dict[str, Any] | None, what: str, action: str) -> dict[str, Any]:
    if result and "access_token" in result:
        return result
    error = str((result or {}).get("error", "no_account"))
    if error in _RECONNECT_ERRORS:
        raise ReconnectRequired("dynamics", f"Microsoft refused {what} ({error}): {action}")
    raise RetriableError(f"Microsoft could not issue a Dynamics token ({error})")
