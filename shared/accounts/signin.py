"""Signing in under the abuse limits of shared/accounts/abuse.py: a use is reserved before the password
is checked (atomic in table storage), and a success gives the reservation back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from shared.accounts.abuse import (
    KNOWN_NETWORK,
    SIGNIN_NETWORK,
    SIGNIN_PAIR,
    SIGNIN_STRANGERS,
    network_of,
    pair_key,
)
from shared.accounts.passwords import burn_time, hash_password, needs_rehash, verify_password
from shared.accounts.services import AccountServices
from shared.accounts.throttle import minutes_text
from shared.store.models import Account

log = logging.getLogger("portal.accounts")
WRONG = "The e-mail address or the password is not right."


@dataclass(frozen=True)
class SignInResult:
    account: Account | None = None
    errors: dict[str, str] = field(default_factory=dict)  # "" is the whole form
    throttled: bool = False


def _locked(delay_text: str) -> SignInResult:
    message = f"Too many failed sign-ins for this account. Try again in {delay_text}, or reset your password."
    return SignInResult(errors={"": message}, throttled=True)


def sign_in(svc: AccountServices, email: str, password: str, client_ip: str) -> SignInResult:
    limits, network = svc.limits, network_of(client_ip)
    wait = limits.take(SIGNIN_NETWORK, network)
    if wait is not None:
        message = f"Too many failed sign-ins from your network. Try again in {minutes_text(wait)}."
        return SignInResult(errors={"": message}, throttled=True)
    account = svc.store.get_by_email(email)
    if account is None:
        burn_time(password)
        return SignInResult(errors={"": WRONG})
    pair = pair_key(account.id, network)
    wait = limits.take(SIGNIN_PAIR, pair)
    if wait is None and not limits.used(KNOWN_NETWORK, pair):
        wait = limits.take(SIGNIN_STRANGERS, account.id)
    if wait is not None:
        return _locked(minutes_text(wait))
    if not verify_password(account.password_hash, password):
        log.info("account %s: failed sign-in", account.id)
        if limits.used(SIGNIN_PAIR, pair) >= SIGNIN_PAIR.limit:
            last = f"{WRONG} That was the last try for now: try again in {minutes_text(SIGNIN_PAIR.window)}"
            return SignInResult(errors={"": f"{last}, or reset your password."}, throttled=True)
        return SignInResult(errors={"": WRONG})
    limits.give_back(SIGNIN_NETWORK, network)  # only failures count against a network
    limits.release(SIGNIN_PAIR, pair)
    limits.take(KNOWN_NETWORK, pair)
    return SignInResult(account=_after_success(svc, account, password))


def _after_success(svc: AccountServices, account: Account, password: str) -> Account:
    if account.failed_sign_ins:
        account = svc.store.reset_failed_sign_ins(account.id)
    if needs_rehash(account.password_hash):
        new_hash = hash_password(password)  # argon2 parameters were raised since this hash was made
        account = svc.store.update(account.id, lambda a: setattr(a, "password_hash", new_hash))
    log.info("account %s signed in", account.id)
    return account


def end_sessions(svc: AccountServices, account_id: str) -> None:
    """Sign out for real (issue 16): the session cookie is signed, not stored, so a copy of it would keep
    working until it expires; raising session_version voids every cookie issued to the account so far."""

    def bump(account: Account) -> None:
        account.session_version += 1

    svc.store.update(account_id, bump)
    log.info("account %s signed out", account_id)
