"""Signing in, with two throttles: per account (5 failures → 15 minutes) and per client address."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from shared.accounts.services import AccountServices
from shared.store.models import Account
from shared.web.passwords import burn_time, hash_password, needs_rehash, verify_password
from shared.web.throttle import account_locked_for, failures_are_recent, minutes_text

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
    now = svc.clock()
    wait = svc.ip_guard.blocked_for(client_ip)
    if wait is not None:
        message = f"Too many failed sign-ins from your network. Try again in {minutes_text(wait)}."
        return SignInResult(errors={"": message}, throttled=True)
    account = svc.store.get_by_email(email)
    if account is None:
        burn_time(password)
        svc.ip_guard.record(client_ip)
        return SignInResult(errors={"": WRONG})
    locked = account_locked_for(account, now)
    if locked is not None:
        return _locked(minutes_text(locked))
    if not verify_password(account.password_hash, password):
        svc.ip_guard.record(client_ip)
        return _count_failure(svc, account)
    return SignInResult(account=_after_success(svc, account, password))


def _count_failure(svc: AccountServices, account: Account) -> SignInResult:
    now = svc.clock()
    if account.failed_sign_ins and not failures_are_recent(account, now):
        svc.store.reset_failed_sign_ins(account.id)  # old failures do not count towards a new lockout
    account = svc.store.record_failed_sign_in(account.id, now)
    log.info("account %s: failed sign-in (%d in a row)", account.id, account.failed_sign_ins)
    locked = account_locked_for(account, now)
    return _locked(minutes_text(locked)) if locked is not None else SignInResult(errors={"": WRONG})


def _after_success(svc: AccountServices, account: Account, password: str) -> Account:
    if account.failed_sign_ins:
        account = svc.store.reset_failed_sign_ins(account.id)
    if needs_rehash(account.password_hash):
        new_hash = hash_password(password)  # argon2 parameters were raised since this hash was made
        account = svc.store.update(account.id, lambda a: setattr(a, "password_hash", new_hash))
    log.info("account %s signed in", account.id)
    return account
