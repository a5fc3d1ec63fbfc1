"""Who is calling the token endpoint (client secret, in the body or as Basic) and PKCE: checks that
must hold before any grant is looked at."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import unquote_plus

from werkzeug.wrappers import Request

from .identity_directory import Client, Directory
from .identity_errors import OAuthError, missing_parameter
from .identity_grants import AuthorizeRequest
from .identity_tokens import b64url


def authenticate_client(request: Request, directory: Directory) -> Client:
    client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    if request.authorization and request.authorization.type == "basic":
        # RFC 6749 2.3.1: both parts are form-encoded before they are put into the Basic header.
        client_id = unquote_plus(request.authorization.username or "")
        secret = unquote_plus(request.authorization.password or "")
    if not client_id:
        raise missing_parameter("client_id")
    client = directory.clients.get(client_id)
    if client is None:
        raise OAuthError(
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory 'Contoso'. "
            "The application may not have been installed by the administrator of the tenant.",
            400,
        )
    if not secret:
        raise OAuthError(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            401,
        )
    if not hmac.compare_digest(secret.encode(), client.secret.encode()):
        raise OAuthError(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client "
            f"secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            401,
        )
    return client


def check_pkce(request: AuthorizeRequest, verifier: str | None) -> None:
    if request.code_challenge is None:
        return
    if not verifier:
        raise missing_parameter("code_verifier")
    if request.code_challenge_method == "S256":
        expected = b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    else:
        expected = verifier
    if not hmac.compare_digest(expected.encode(), request.code_challenge.encode()):
        raise OAuthError(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        )
