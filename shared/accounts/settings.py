"""What a signed-in customer changes about their own account: the password, the e-mail address (proved
by a link sent to the new address), and deleting the account with its connections."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from shared.accounts.abuse import may_mail
from shared.accounts.email_links import issue_link, open_link, redeem_link
from shared.accounts.fields import email_problem
from shared.accounts.links import LIFETIMES, LinkProblem
from shared.accounts.password_setting import password_errors
from shared.accounts.passwords import hash_password, verify_password
from shared.accounts.services import AccountServices
from shared.email.message import EmailError
from shared.email.messages import email_change_message, email_changed_notice
from shared.store.accounts import EmailTakenError, normalise_email
from shared.store.limits import Rule
from shared.store.models import Account

log = logging.getLogger("portal.accounts")
WRONG_PASSWORD = "That is not your current password."  # noqa: S105 (a message, not a password)


@dataclass(frozen=True)
class Changed:
    account: Account | None = None  # set when the change was made
    errors: dict[str, str] = field(default_factory=dict)


# Each change here is confirmed with the current password; a stolen session must not become a way to
# guess it without the sign-in limits. Every check counts, right or wrong (reserved before the check).
CURRENT_PASSWORD = Rule("currentpassword", 5, timedelta(minutes=15))


def _password_refused(svc: AccountServices, account: Account, password: str, field: str) -> dict[str, str]:
    """{} when `password` is the account's; else the error for `field`."""
    wait = svc.limits.take(CURRENT_PASSWORD, account.id)
    if wait is not None:
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        unit = "minute" if minutes == 1 else "minutes"
        return {field: f"Too many tries with the password. Try again in {minutes} {unit}."}
    if not password or not verify_password(account.password_hash, password):
        return {field: WRONG_PASSWORD}
    return {}


def change_password(
    svc: AccountServices, account: Account, current: str, password: str, confirm: str
) -> Changed:
    """Every other session ends (session_version goes up); the caller signs this one in again."""
    refused = _password_refused(svc, account, current, "current_password")
    if refused:
        return Changed(errors=refused)
    errors = password_errors(password, confirm, account.email, svc.breached)
    if errors:
        return Changed(errors=errors)
    new_hash = hash_password(password)

    def apply(stored: Account) -> None:
        stored.password_hash = new_hash
        stored.session_version += 1

    changed = svc.store.update(account.id, apply)
    log.info("account %s: password changed", account.id)
    return Changed(account=changed)


def request_email_change(svc: AccountServices, account: Account, new_email: str, password: str) -> Changed:
    """Send a link to the new address; the address changes only when it is followed. The old address is
    told, so a change the owner did not make does not go unnoticed."""
    new_email = normalise_email(new_email)
    problem = email_problem(new_email)
    if problem:
        return Changed(errors={"new_email": problem})
    if new_email == account.email:
        return Changed(errors={"new_email": "That is already your e-mail address."})
    refused = _password_refused(svc, account, password, "email_password")
    if refused:
        return Changed(errors=refused)
    if svc.store.get_by_email(new_email) is not None:
        return Changed(errors={"new_email": "Another account uses this e-mail address."})
    if not may_mail(svc.limits, new_email, "email"):  # a new link voids the last: not again and again
        return Changed(
            errors={"new_email": "We sent a link there moments ago. Wait a few minutes, then ask again."}
        )
    svc.store.update(account.id, lambda stored: setattr(stored, "pending_email", new_email))
    link = issue_link(svc, account.id, "email")
    hours = int(LIFETIMES["email"].total_seconds() // 3600)
    try:
        svc.mailer.send(email_change_message(new_email, account.name, link, hours))
        svc.mailer.send(email_changed_notice(account.email, account.name, new_email))
    except EmailError as error:
        log.error("account %s: e-mail change link not sent: %s", account.id, error)
        return Changed(errors={"new_email": "We could not send the e-mail just now. Try again in a minute."})
    return Changed(account=svc.store.require(account.id))


def confirm_email_change(svc: AccountServices, token: str) -> Account | LinkProblem:
    """Follow the link: the account's address becomes the pending one (claimed in the e-mail index, so
    two accounts can never end up with one address). EmailTakenError when it was taken meanwhile."""
    opened = open_link(svc, token, "email")
    if isinstance(opened, LinkProblem):
        return opened
    if not opened.pending_email:
        return LinkProblem.USED
    new_email = opened.pending_email
    svc.store.change_email(opened.id, new_email)  # EmailTakenError: someone registered it meanwhile

    def apply(account: Account) -> None:
        account.pending_email, account.email_verified = "", True

    redeemed = redeem_link(svc, token, "email", apply)
    if not isinstance(redeemed, LinkProblem):
        log.info("account %s: e-mail address changed", redeemed.id)
    return redeemed


def delete_account(
    svc: AccountServices,
    account: Account,
    password: str,
    connection_ids: list[str],
    delete_connection: Callable[[str], list[str]],
    cancel_billing: Callable[[Account], str] = lambda account: "",
) -> Changed:
    """The subscription cancelled first (`cancel_billing` answers what went wrong, "" when nothing did:
    then nothing is deleted — an account must never go while it is still being charged), each connection
    deleted as from its own page (Xero disconnected, the webhook removed), then the account and its
    e-mail address. What a connection left behind is logged: the account goes regardless."""
    refused = _password_refused(svc, account, password, "delete_password")
    if refused:
        return Changed(errors=refused)
    problem = cancel_billing(account)
    if problem:
        return Changed(errors={"": problem})
    for connection_id in connection_ids:
        for left in delete_connection(connection_id):
            log.warning("account %s: connection %s deleted, left behind: %s", account.id, connection_id, left)
    svc.store.delete(account.id)
    log.info("account %s deleted with %d connections", account.id, len(connection_ids))
    return Changed(account=account)


__all__ = ["EmailTakenError", "change_password", "confirm_email_change", "delete_account"]
