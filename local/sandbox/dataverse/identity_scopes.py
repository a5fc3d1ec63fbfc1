"""Scopes such as `https://127.0.0.1:8443/env/contoso/user_impersonation`: which resource (audience) a
token is for, and whether the permission asked for exists."""

from __future__ import annotations

from dataclasses import dataclass

from .identity_errors import OAuthError

OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
DELEGATED_PERMISSIONS = frozenset({"user_impersonation", ".default"})
# What Entra ID hands out when only OpenID scopes are asked for: a Microsoft Graph token, useless here.
SIGN_IN_ONLY_AUDIENCE = "https://graph.microsoft.com"


@dataclass(frozen=True)
class ScopeRequest:
    resource: str  # normalised audience: no trailing slash, lower-case scheme and host
    resource_scopes: tuple[str, ...]  # as the client wrote them, echoed back in `scope`
    oidc: frozenset[str]

    @property
    def wants_refresh_token(self) -> bool:
        return "offline_access" in self.oidc


def normalise_resource(url: str) -> str:
    scheme, sep, rest = url.strip().rstrip("/").partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}"


def parse_scopes(raw: str | None, known_resources: set[str], *, app_only: bool) -> ScopeRequest:
    words = (raw or "").split()
    oidc = frozenset(w for w in words if w in OIDC_SCOPES)
    resource_scopes = tuple(w for w in words if w not in OIDC_SCOPES)
    if not resource_scopes:
        if app_only:
            raise _default_required(raw or "")
        return ScopeRequest(SIGN_IN_ONLY_AUDIENCE, (), oidc)
    resources = {normalise_resource(s.rsplit("/", 1)[0]) for s in resource_scopes}
    if len(resources) > 1:
        raise OAuthError(
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' is not valid. "
            f"The scope '{raw}' requests tokens for more than one resource.",
        )
    resource = resources.pop()
    if resource not in known_resources:
        raise OAuthError(
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the "
            "tenant named Contoso. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant.",
        )
    _check_permissions(resource_scopes, raw or "", app_only=app_only)
    return ScopeRequest(resource, resource_scopes, oidc)


def _check_permissions(resource_scopes: tuple[str, ...], raw: str, *, app_only: bool) -> None:
    permissions = {s.rsplit("/", 1)[-1] for s in resource_scopes if "://" in s}
    if len(permissions) != len(resource_scopes):
        raise OAuthError(
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid. The scope {raw} is not valid.",
        )
    if app_only and permissions != {".default"}:
        raise _default_required(raw)
    unknown = permissions - DELEGATED_PERMISSIONS
    if unknown:
        raise OAuthError(
            "invalid_scope",
            65005,
            f"The application asked for scope '{sorted(unknown)[0]}' that doesn't exist on the resource.",
        )


def _default_required(raw: str) -> OAuthError:
    return OAuthError(
        "invalid_scope",
        1002012,
        f"The provided value for scope {raw} is not valid. Client credential "
        "flows must have a scope value with /.default suffixed to the resource identifier "
        "(application ID URI).",
    )
