"""Token formats: unsigned JWT-shaped tokens and MSAL's client_info.

Tokens are JWT-shaped so a client may read claims the way it would read Entra ID's, but they carry
`alg: none`: the stand-in never trusts a token's content, only its own record of the token issued."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_jwt(claims: dict[str, Any]) -> str:
    header = {"typ": "JWT", "alg": "none"}
    parts = [b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (header, claims)]
    # A random last part keeps two tokens with the same claims (same second) distinct.
    return ".".join([*parts, b64url(secrets.token_bytes(16))])


def client_info(object_id: str, tenant_id: str) -> str:
    """MSAL builds the account's home id ("uid.utid") from this; without it no account is cached."""
    return b64url(json.dumps({"uid": object_id, "utid": tenant_id}).encode())


def id_token_claims(
    *,
    issuer: str,
    client_id: str,
    tenant_id: str,
    object_id: str,
    upn: str,
    name: str,
    nonce: str | None,
    now: float,
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "ver": "2.0",
        "iss": issuer,
        "aud": client_id,
        "tid": tenant_id,
        "oid": object_id,
        "sub": object_id.replace("-", "")[::-1],  # pairwise in Entra ID: not the object id
        "preferred_username": upn,
        "name": name,
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + 3600,
    }
    if nonce is not None:
        claims["nonce"] = nonce  # MSAL refuses the answer when this differs from what it sent
    return claims


def access_token_claims(
    *,
    issuer: str,
    audience: str,
    tenant_id: str,
    client_id: str,
    now: float,
    lifetime: int,
    object_id: str | None,
    upn: str,
    scp: str,
) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "aud": audience,
        "iss": issuer,
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + lifetime,
        "appid": client_id,
        "tid": tenant_id,
        "ver": "1.0",
        "uti": secrets.token_urlsafe(12),
    }
    if object_id is None:
        claims.update({"idtyp": "app", "roles": []})
    else:
        claims.update({"idtyp": "user", "oid": object_id, "upn": upn, "scp": scp})
    return claims
