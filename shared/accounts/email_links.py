"""E-mail links against the accounts table: issue (store a fresh nonce), open (check without using),
redeem (clear the nonce and apply a change in one ETag-conditional write, so two racing uses of one link
cannot both succeed)."""

from __future__ import annotations

from collections.abc import Callable

from shared.accounts.links import LinkProblem, Purpose, make_token, new_claims, nonce_matches, read_token
from shared.accounts.services import AccountServices
from shared.errors import ConcurrencyError
from shared.store.models import Account

PATHS: dict[str, str] = {"verify": "/verify", "reset": "/reset", "email": "/account/email/confirm"}


def _nonce_field(purpose: Purpose) -> str:
    return f"{purpose}_link_nonce"


def issue_link(svc: AccountServices, account_id: str, purpose: Purpose) -> str:
    """A new link; any older link of the same purpose stops working."""
    claims = new_claims(account_id, purpose, svc.clock())
    svc.store.update(account_id, lambda account: setattr(account, _nonce_field(purpose), claims.nonce))
    return svc.link(PATHS[purpose], make_token(claims, svc.secret))


def open_link(svc: AccountServices, token: str, purpose: Purpose) -> Account | LinkProblem:
    claims = read_token(token, purpose, svc.secret, svc.clock())
    if isinstance(claims, LinkProblem):
        return claims
    account = svc.store.get(claims.account_id)
    if account is None or not nonce_matches(getattr(account, _nonce_field(purpose)), claims):
        return LinkProblem.USED
    return account


def account_of_link(svc: AccountServices, token: str, purpose: Purpose) -> Account | None:
    """Whose link this is, used or not (None when it is not an intact, unexpired link of ours): so a
    used verification link can say the address is confirmed instead of offering a new link."""
    claims = read_token(token, purpose, svc.secret, svc.clock())
    return None if isinstance(claims, LinkProblem) else svc.store.get(claims.account_id)


def redeem_link(
    svc: AccountServices, token: str, purpose: Purpose, change: Callable[[Account], None], retries: int = 5
) -> Account | LinkProblem:
    for _ in range(retries):
        account = open_link(svc, token, purpose)
        if isinstance(account, LinkProblem):
            return account
        setattr(account, _nonce_field(purpose), "")
        change(account)
        try:
            return svc.store.save(account)
        except ConcurrencyError:
            continue  # someone wrote first: read again; if it was this link's other use, it is USED now
    raise ConcurrencyError(f"account link ({purpose}): {retries} writes in a row lost their race")
