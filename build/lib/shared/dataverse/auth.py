"""Microsoft sign-in for the Dynamics side, through MSAL Python.

The customer signs in once (authorization code + PKCE) for Global Discovery; the refresh token that sign-in
leaves in MSAL's token cache serves any Dataverse environment afterwards, so the cache (serialised,
encrypted by the store) is all a connection keeps. MSAL is imported inside the functions: it is heavy and
the function app's cold start is measured.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import requests

from shared.config import Settings
from shared.errors import ConnectorError, FatalError, RetriableError

if TYPE_CHECKING:
    import msal

T = TypeVar("T")
ResponseMode = Literal["query", "form_post"]


class SignInError(FatalError):
    """The sign-in did not complete; `message` is meant for the person who tried."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class SignInResult:
    cache_blob: str = field(repr=False)  # MSAL SerializableTokenCache: holds the refresh token
    home_account_id: str
    username: str
    tenant_id: str


def discovery_scope(settings: Settings) -> str:
    return f"{settings.dataverse_discovery_url.rstrip('/')}/user_impersonation"


def build_app(
    settings: Settings,
    cache: msal.SerializableTokenCache | None,
    session: requests.Session,
    *,
    tenant: str | None = None,
    client_id: str = "",
    client_secret: str = "",
) -> msal.ConfidentialClientApplication:
    """The connector's app registration, or a connection's own (client id + secret) for app-only work.

    Instance discovery and regional endpoints stay off: MSAL would otherwise call login.microsoftonline.com
    or a metadata address instead of the configured authority (FACTS.md)."""
    import msal

    client_id, client_secret = (
        (client_id, client_secret) if client_id else (settings.ms_client_id, settings.ms_client_secret)
    )
    if not client_id or not client_secret:
        raise FatalError("MS_CLIENT_ID and MS_CLIENT_SECRET must be set to connect to Dynamics")
    authority = f"{settings.ms_authority_host.rstrip('/')}/{tenant or settings.ms_tenant}"
    try:
        return guarded(
            "reach the Microsoft sign-in service",
            lambda: msal.ConfidentialClientApplication(
                client_id,
                client_credential=client_secret,
                authority=authority,
                instance_discovery=False,
                azure_region=False,
                token_cache=cache,
                http_client=TimeoutSession(session, settings.http_timeout_seconds),
            ),
        )
    except ValueError:  # MSAL could not read the authority's configuration: an unknown tenant
        raise FatalError(f"Microsoft does not know the tenant '{tenant or settings.ms_tenant}'") from None


def begin_sign_in(
    settings: Settings,
    session: requests.Session,
    redirect_uri: str,
    state: str,
    response_mode: ResponseMode = "query",
) -> dict[str, Any]:
    """MSAL's flow dict (auth_uri, PKCE verifier, nonce): the caller keeps it server-side with `state`
    and sends the browser to flow["auth_uri"].

    "query" by default: a form_post answer is a cross-site POST, which does not carry the connector's
    SameSite=Lax session cookie, so the callback could not check who is signed in. PKCE and the single-use
    server-side state already protect the code in the URL; MSAL's warning about it is therefore muted."""
    app = build_app(settings, None, session)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
        flow = app.initiate_auth_code_flow(
            scopes=[discovery_scope(settings)],
            redirect_uri=redirect_uri,
            state=state,
            response_mode=response_mode,
        )
    return dict(flow)


def complete_sign_in(
    settings: Settings, session: requests.Session, flow: dict[str, Any], auth_response: dict[str, str]
) -> SignInResult:
    """Redeems the code the browser brought back; SignInError says in words why when it cannot."""
    import msal

    cache = msal.SerializableTokenCache()
    app = build_app(settings, cache, session)
    try:  # MSAL checks the state first, then hands back an `error` the redirect carried
        result = guarded(
            "complete the Microsoft sign-in", lambda: app.acquire_token_by_auth_code_flow(flow, auth_response)
        )
    except ValueError:  # state or nonce mismatch: a stale tab or a forged answer; the details stay out
        raise SignInError(STARTED_ELSEWHERE, "state_mismatch") from None
    if "error" in result:
        raise _refusal(result)
    claims = result.get("id_token_claims") or {}
    accounts = app.get_accounts(username=claims.get("preferred_username"))
    if not accounts:
        raise SignInError(
            "Microsoft did not return an account for this sign-in. Please try again.", "no_account"
        )
    account = accounts[0]
    return SignInResult(
        cache_blob=cache.serialize(),
        home_account_id=account["home_account_id"],
        username=account.get("username") or claims.get("preferred_username", ""),
        tenant_id=claims.get("tid") or account.get("realm", ""),
    )


STARTED_ELSEWHERE = "This sign-in answer does not belong to the sign-in we started. Please start again."
_REFUSALS = {
    "access_denied": "The sign-in to Dynamics was cancelled, or consent was not given.",
    "invalid_grant": "The sign-in code expired or was already used. Please sign in to Dynamics again.",
    "consent_required": "An administrator must consent to the connector in your Microsoft tenant first.",
    "interaction_required": "Microsoft needs you to sign in again.",
    "invalid_client": "The connector's Microsoft app registration was refused; please contact support.",
    "unauthorized_client": "The connector's Microsoft app registration was refused; please contact support.",
}


def _refusal(answer: dict[str, Any]) -> SignInError:
    code = str(answer.get("error", ""))
    message = _REFUSALS.get(code, "Microsoft refused the sign-in. Please try again.")
    return SignInError(message, code)


class TimeoutSession:
    """The connector's session as MSAL's http_client, with a timeout on every call (MSAL sets none when
    it is given a client)."""

    def __init__(self, session: requests.Session, timeout: float) -> None:
        self._session, self._timeout = session, timeout

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return self._session.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return self._session.post(url, **kwargs)

    def close(self) -> None:
        """The session belongs to the caller."""


def guarded(doing: str, call: Callable[[], T]) -> T:
    """Network trouble on the way to the identity service is retriable; it never leaks request data."""
    try:
        return call()
    except ConnectorError:
        raise
    except requests.RequestException as error:
        raise RetriableError(f"could not {doing}: {type(error).__name__}") from None
