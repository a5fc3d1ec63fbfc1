"""Choosing a password from an e-mail link: after registering (verify) or when it was forgotten (reset)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from shared.accounts.breached import PwnedPasswords
from shared.accounts.email_links import open_link, redeem_link
from shared.accounts.links import LinkProblem, Purpose
from shared.accounts.passwords import LEAKED_MESSAGE, hash_password, password_problem
from shared.accounts.services import AccountServices
from shared.store.models import Account

log = logging.getLogger("portal.accounts")


def password_errors(
    password: str, confirm: str, email: str, breached: PwnedPasswords | None = None
) -> dict[str, str]:
    problem = password_problem(password, email)
    if problem:
        return {"password": problem}
    if breached is not None and breached.seen(password):
        return {"password": LEAKED_MESSAGE}
    if password != confirm:
        return {"confirm": "The two passwords are not the same. Type the password again in both fields."}
    return {}


@dataclass(frozen=True)
class PasswordOutcome:
    account: Account | None = None  # set when the password was saved: sign this account in
    problem: LinkProblem | None = None  # the link cannot be used
    errors: dict[str, str] = field(default_factory=dict)  # the password cannot be used
    email: str = ""  # whose link it is, to show again with the errors


def set_password_from_link(
    svc: AccountServices, token: str, purpose: Purpose, password: str, confirm: str
) -> PasswordOutcome:
    opened = open_link(svc, token, purpose)
    if isinstance(opened, LinkProblem):
        return PasswordOutcome(problem=opened)
    errors = password_errors(password, confirm, opened.email, svc.breached)
    if errors:
        return PasswordOutcome(errors=errors, email=opened.email)
    new_hash = hash_password(password)

    def apply(account: Account) -> None:
        account.password_hash, account.email_verified = new_hash, True
        account.failed_sign_ins, account.last_failed_sign_in_at = 0, None
        if purpose == "reset":
            account.session_version += 1  # every session signed in with the old password ends

    redeemed = redeem_link(svc, token, purpose, apply)
    if isinstance(redeemed, LinkProblem):
        return PasswordOutcome(problem=redeemed)
    log.info("account %s: password set through a %s link", redeemed.id, purpose)
    return PasswordOutcome(account=redeemed)
