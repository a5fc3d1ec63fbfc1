"""GET/POST /{tenant}/oauth2/v2.0/authorize: the interactive half of the authorization-code flow.

GET checks what can only be shown (unknown app, untrusted redirect URI), then everything else is
answered by redirecting back with `error` like Entra ID does. The pending request stays on the server;
the form only carries its random id, so the page cannot be used to change the scopes or redirect URI."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .identity_context import IdentityContext
from .identity_directory import Tenant
from .identity_errors import OAuthError
from .identity_grants import AUTHORIZE_REQUEST_LIFETIME, CODE_LIFETIME, AuthorizationCode, AuthorizeRequest
from .identity_pages import error_page, form_post_page, sign_in_page
from .identity_scopes import parse_scopes
from .identity_tokens import client_info

RESPONSE_MODES = ("query", "form_post")


class SignIn:
    def __init__(self, context: IdentityContext) -> None:
        self._ctx = context

    def handle(self, request: Request, tenant: Tenant) -> Response:
        if request.method == "POST":
            return self._answer(request, tenant)
        return self._show(request, tenant)

    def _show(self, request: Request, tenant: Tenant) -> Response:
        args = request.args
        client_id = args.get("client_id", "")
        if client_id not in self._ctx.directory.clients:
            return error_page(
                700016, f"Application with identifier '{client_id}' was not found in the directory."
            )
        redirect_uri = args.get("redirect_uri")
        if not self._ctx.redirect_allowed(redirect_uri):
            return error_page(
                50011,
                f"The redirect URI '{redirect_uri}' specified in the request does not match the "
                f"redirect URIs configured for the application '{client_id}'.",
            )
        assert redirect_uri is not None  # checked by redirect_allowed
        state = args.get("state")
        try:
            pending = self._pending(request, tenant, client_id, redirect_uri)
        except OAuthError as error:
            mode = args.get("response_mode", "query")
            mode = mode if mode in RESPONSE_MODES else "query"
            return _back(redirect_uri, mode, error=error.error, error_description=_text(error), state=state)
        request_id = self._ctx.grants.add_request(pending)
        return self._page(request, tenant, request_id, pending, pending.login_hint)

    def _pending(
        self, request: Request, tenant: Tenant, client_id: str, redirect_uri: str
    ) -> AuthorizeRequest:
        args = request.args
        if args.get("response_type") != "code":
            raise OAuthError(
                "unsupported_response_type",
                70005,
                "The provided value for the input parameter "
                "'response_type' is not allowed for this request. Expected value: 'code'.",
            )
        if args.get("response_mode", "query") not in RESPONSE_MODES:
            raise OAuthError(
                "invalid_request", 900144, "The sandbox supports response_mode query or form_post."
            )
        parse_scopes(args.get("scope"), set(self._ctx.resources()), app_only=False)
        challenge, method = args.get("code_challenge"), args.get("code_challenge_method", "plain")
        if challenge is not None and method not in ("S256", "plain"):
            raise OAuthError("invalid_request", 501491, "Invalid code_challenge_method: use S256 or plain.")
        if args.get("prompt") == "none":
            raise OAuthError(
                "login_required", 50058, "A silent sign-in request was sent but no user is signed in."
            )
        return AuthorizeRequest(
            tenant_id=tenant.id,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scope=args.get("scope", ""),
            state=args.get("state"),
            nonce=args.get("nonce"),
            code_challenge=challenge,
            code_challenge_method=method,
            login_hint=args.get("login_hint", ""),
            response_mode=args.get("response_mode", "query"),
            expires_at=self._ctx.clock() + AUTHORIZE_REQUEST_LIFETIME,
        )

    def _answer(self, request: Request, tenant: Tenant) -> Response:
        request_id = request.form.get("request", "")
        action = request.form.get("action")
        pending = self._ctx.grants.peek_request(request_id)
        if pending is None:
            return error_page(50097, "This sign-in request has expired or was already answered. Start again.")
        user = self._ctx.directory.user_by_id(request.form.get("user", ""))
        if action == "accept" and user is None:
            return self._page(
                request, tenant, request_id, pending, "", error="Choose an account to continue."
            )
        if self._ctx.grants.take_request(request_id) is None:  # a double submit lost the race
            return error_page(50097, "This sign-in request was already answered.")
        if action != "accept" or user is None:
            return _back(
                pending.redirect_uri,
                pending.response_mode,
                error="access_denied",
                error_description="AADSTS65004: User declined to consent to access the app.",
                state=pending.state,
            )
        expires_at = self._ctx.clock() + CODE_LIFETIME
        code = self._ctx.grants.add_code(AuthorizationCode(pending, user.object_id, expires_at))
        info = client_info(user.object_id, user.tenant_id)
        return _back(
            pending.redirect_uri, pending.response_mode, code=code, client_info=info, state=pending.state
        )

    def _page(
        self,
        request: Request,
        tenant: Tenant,
        request_id: str,
        pending: AuthorizeRequest,
        hint: str,
        error: str = "",
    ) -> Response:
        users = [u for u in self._ctx.directory.users if u.tenant_id == tenant.id]
        selected = next((u.object_id for u in users if hint and u.upn.lower() == hint.lower()), "")
        return sign_in_page(
            tenant_name=tenant.display_name,
            action=request.path,
            request_id=request_id,
            users=users,
            selected=selected,
            scopes=pending.scope.split(),
            error=error,
        )


def _back(redirect_uri: str, response_mode: str, **params: str | None) -> Response:
    """Hands the answer to the client: in the redirect's query, or POSTed by an auto-submitting form."""
    answer = [(key, value) for key, value in params.items() if value is not None]
    if response_mode == "form_post":
        return form_post_page(redirect_uri, answer)
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + answer
    return redirect(urlunsplit(parts._replace(query=urlencode(query))), 302)


def _text(error: OAuthError) -> str:
    return f"AADSTS{error.code}: {error.message}"
