"""Signing in to Dynamics 365 on-premises through the organisation's AD FS, with MSAL Python.

MSAL talks to AD FS directly with the authority `https://{adfs}/adfs` (Learn, "Active Directory Federation
Services support in MSAL for Python": AD FS 2019 and later only — MSAL does not work with AD FS 2016, whose
OAuth needs ADAL's `resource` requests). An authority whose last path segment is `adfs` is "known to the
developer" in MSAL, so no instance discovery is made; MSAL reads
`{authority}/.well-known/openid-configuration` (msal/authority.py). On AD FS the account's home id is
the id_token's `sub` (msal/token_cache.py).

The customer's administrator registers the connector in AD FS as a server application of an application
group (its own client identifier and secret, our redirect URI) with permission to the Dynamics relying party
(Learn, "AD FS OpenID Connect/OAuth flows and Application Scenarios": authorization code for a confidential
client, refresh token, client credentials). The relying party is named twice: in the scope MSAL sends
(`{resource}/user_impersonation`) and as [MS-OAPX]'s `resource` parameter (2.2.3.3, optional from AD FS
2016 on but always understood), so either reading by AD FS reaches the same one.

All traffic goes through the caller's session, which for on-premises is public_host.py's (public addresses
only, checked and pinned on every connection).
"""

from __future__ import annotations

import hashlib
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests

from shared.dataverse.auth import SignInError, TimeoutSession, guarded
from shared.dataverse.tokens import SavedMsalCache
from shared.errors import FatalError, ReconnectRequired, RetriableError

if TYPE_CHECKING:
    import msal

EARLY_REFRESH_SECONDS = 300
_RECONNECT = frozenset({"invalid_grant", "invalid_client", "unauthorized_client", "interaction_required"})


def user_scope(resource: str) -> str:
    return f"{resource.rstrip('/')}/user_impersonation"


def app_scope(resource: str) -> str:
    return f"{resource.rstrip('/')}/.default"


def build_adfs_app(
    authority: str,
    client_id: str,
    client_secret: str,
    session: requests.Session,
    timeout: float,
    cache: msal.SerializableTokenCache | None = None,
) -> msal.ConfidentialClientApplication:
    import msal

    try:
        return guarded(
            "reach your AD FS",
            lambda: msal.ConfidentialClientApplication(
                client_id,
                client_credential=client_secret,
                authority=authority,
                validate_authority=False,
                instance_discovery=False,
                azure_region=False,
                token_cache=cache,
                http_client=TimeoutSession(session, timeout),
            ),
        )
    except ValueError:  # MSAL could not read the metadata document
        raise FatalError(
            f"AD FS did not serve its metadata at {authority}/.well-known/openid-configuration"
        ) from None


def begin(
    app: msal.ConfidentialClientApplication, resource: str, redirect_uri: str, state: str
) -> dict[str, Any]:
    """MSAL's flow (PKCE verifier, nonce), its auth_uri carrying the `resource` too."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
        flow = dict(
            app.initiate_auth_code_flow(
                scopes=[user_scope(resource)], redirect_uri=redirect_uri, state=state, response_mode="query"
            )
        )
    flow["auth_uri"] = f"{flow['auth_uri']}&{urlencode({'resource': resource})}"
    return flow


def complete(
    app: msal.ConfidentialClientApplication, flow: dict[str, Any], answer: dict[str, str], resource: str
) -> tuple[str, str]:
    """(home account id, user name) after redeeming the code; SignInError says why not."""
    try:
        result = guarded(
            "complete the AD FS sign-in",
            lambda: app.acquire_token_by_auth_code_flow(flow, answer, data={"resource": resource}),
        )
    except ValueError:
        raise SignInError("This sign-in answer does not belong to the sign-in we started.", "state") from None
    if "error" in result:
        code = str(result.get("error"))
        raise SignInError(
            f"AD FS refused the sign-in ({_safe(code)}): {_safe(result.get('error_description'))}", code
        )
    claims = result.get("id_token_claims") or {}
    accounts = app.get_accounts()
    if not accounts:
        raise SignInError("AD FS did not return an account (no id_token): check the scope openid is allowed.")
    return str(accounts[0]["home_account_id"]), str(claims.get("upn") or accounts[0].get("username") or "")


class AdfsTokens(SavedMsalCache):
    """Tokens for one connection's organisation: delegated (from the stored MSAL cache) or app-only
    (client credentials). Kept in memory until 5 minutes before expiry; `on_cache_changed` gets a
    rotated cache to save."""

    def __init__(
        self,
        app_factory: Callable[[msal.SerializableTokenCache | None], msal.ConfidentialClientApplication],
        resource: str,
        *,
        cache_blob: str = "",
        home_account_id: str = "",
        app_only: bool = False,
        on_cache_changed: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._factory, self._resource, self._app_only = app_factory, resource, app_only
        self._blob, self._home = cache_blob, home_account_id
        self.on_cache_changed, self._clock = on_cache_changed, clock
        self._lock = threading.Lock()
        self._memo: tuple[str, float] = ("", 0.0)
        self._app: msal.ConfidentialClientApplication | None = None
        self._cache: msal.SerializableTokenCache | None = None

    def __call__(self, *, force_refresh: bool = False) -> str:
        with self._lock:
            token, expires_at = self._memo
            if token and not force_refresh and expires_at - self._clock() > EARLY_REFRESH_SECONDS:
                return token
            result = self._acquire(force_refresh)
            self._memo = (str(result["access_token"]), self._clock() + float(result.get("expires_in", 0)))
            return self._memo[0]

    def _acquire(self, force_refresh: bool) -> dict[str, Any]:
        app = self._application()
        if self._app_only:
            if force_refresh:
                app.remove_tokens_for_client()
            result = guarded(
                "get a token from AD FS",
                lambda: app.acquire_token_for_client(
                    [app_scope(self._resource)], data={"resource": self._resource}
                ),
            )
            return _checked(result, "check the client identifier and secret on the connection")
        accounts = [a for a in app.get_accounts() if a.get("home_account_id") == self._home]
        if not accounts:
            raise ReconnectRequired(
                "dynamics", "AD FS no longer has the saved sign-in: sign in to Dynamics again"
            )
        result = guarded(
            "refresh the AD FS sign-in",
            lambda: app.acquire_token_silent_with_error(
                [user_scope(self._resource)], account=accounts[0], force_refresh=force_refresh
            ),
        )
        self._report_cache()
        return _checked(result, "sign in to Dynamics again")

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            self._app = self._factory(self._load_cache())
        return self._app


class AdfsTokenRegistry:
    """Providers kept per worker process, so a busy connection does not read AD FS's metadata and its
    token again for every message (as shared/dataverse/token_registry.py does for online). A delegated
    provider is reused only while the stored cache is the one it last saw or reported itself."""

    def __init__(self, max_size: int = 256) -> None:
        self._lock = threading.Lock()
        self._providers: OrderedDict[str, AdfsTokens] = OrderedDict()
        self._max = max_size

    def get(self, key_parts: tuple[str, ...], cache_blob: str, build: Callable[[], AdfsTokens]) -> AdfsTokens:
        key = hashlib.sha256("\x1f".join(key_parts).encode()).hexdigest()  # the secret is among the parts
        with self._lock:
            provider = self._providers.get(key)
            if provider is None or provider.cache_blob != cache_blob:
                provider = self._providers[key] = build()
            self._providers.move_to_end(key)
            while len(self._providers) > self._max:
                self._providers.popitem(last=False)
            return provider


def _checked(result: dict[str, Any] | None, action: str) -> dict[str, Any]:
    if result and "access_token" in result:
        return result
    error = str((result or {}).get("error", "no_account"))
    if error in _RECONNECT or error == "no_account":
        raise ReconnectRequired("dynamics", f"AD FS refused the saved sign-in ({_safe(error)}): {action}")
    raise RetriableError(f"AD FS could not issue a Dynamics token ({_safe(error)})")


def _safe(text: object) -> str:
    """An identity service's words, shortened and without anything that could pass for markup."""
    return "".join(c for c in str(text or "")[:300] if c.isprintable() and c not in "<>")
