"""Signed, expiring e-mail links (e-mail verification, password reset).

A token carries the account id, the purpose, the expiry and a nonce; it is signed with SESSION_SECRET
under a purpose-specific MAC, so a reset token never passes as a verification token. The nonce is also
stored on the account and cleared when the link is used, which makes every link single-use; issuing a new
link of the same purpose replaces the nonce, so only the newest link works."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

from shared.signing import sign, unsign

Purpose = Literal["verify", "reset", "email"]  # email: confirm a new address (sent to that address)
LIFETIMES: dict[str, timedelta] = {
    "verify": timedelta(hours=24),
    "reset": timedelta(hours=1),
    "email": timedelta(hours=24),
}


class LinkProblem(Enum):
    TAMPERED = "tampered"  # not signed by us, damaged in transit, or made for another purpose
    EXPIRED = "expired"
    USED = "used"  # used already, or a newer link of the same kind was sent since


@dataclass(frozen=True)
class LinkClaims:
    account_id: str
    purpose: Purpose
    expires_at: int  # seconds since the epoch
    nonce: str


def new_claims(account_id: str, purpose: Purpose, now: datetime) -> LinkClaims:
    expires = int((now + LIFETIMES[purpose]).timestamp())
    return LinkClaims(account_id, purpose, expires, secrets.token_urlsafe(16))


def make_token(claims: LinkClaims, secret: str) -> str:
    payload = {"a": claims.account_id, "p": claims.purpose, "e": claims.expires_at, "n": claims.nonce}
    return sign(payload, secret, f"link:{claims.purpose}")


def read_token(token: str, purpose: Purpose, secret: str, now: datetime) -> LinkClaims | LinkProblem:
    """The claims of an intact, unexpired token of this purpose; whether it is still unused is the
    account's to say (see `nonce_matches`)."""
    payload = unsign(token.strip(), secret, f"link:{purpose}")
    if payload is None or payload.get("p") != purpose:
        return LinkProblem.TAMPERED
    try:
        claims = LinkClaims(str(payload["a"]), purpose, int(payload["e"]), str(payload["n"]))
    except (KeyError, TypeError, ValueError):
        return LinkProblem.TAMPERED
    if claims.expires_at <= now.timestamp():
        return LinkProblem.EXPIRED
    return claims


def nonce_matches(stored: str, claims: LinkClaims) -> bool:
    return bool(stored) and secrets.compare_digest(stored.encode(), claims.nonce.encode())
