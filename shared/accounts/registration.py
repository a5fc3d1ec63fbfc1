"""Registering for the free trial: validate, create the unverified account, send the verification link."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from shared.accounts.abuse import MAIL_NETWORK, SIGNUP_NETWORK, check_network, may_mail
from shared.accounts.email_links import issue_link
from shared.accounts.fields import email_problem, text_problem
from shared.accounts.links import LIFETIMES
from shared.accounts.services import AccountServices
from shared.email.message import EmailError
from shared.email.messages import verification_message
from shared.store.accounts import EmailTakenError
from shared.store.models import Account

log = logging.getLogger("portal.accounts")
TRIAL_LENGTH = timedelta(days=14)


@dataclass(frozen=True)
class SignupForm:
    name: str
    company: str
    email: str
    terms_accepted: bool

    @classmethod
    def from_form(cls, form: dict[str, str]) -> SignupForm:
        return cls(
            name=form.get("name", "").strip(),
            company=form.get("company", "").strip(),
            email=form.get("email", "").strip(),
            terms_accepted=form.get("terms") == "accepted",
        )

    def problems(self) -> dict[str, str]:
        """Field name → what to fix, for every field at once."""
        found = {
            "name": text_problem(self.name, "your name"),
            "company": text_problem(self.company, "your company's name"),
            "email": email_problem(self.email),
            "terms": None if self.terms_accepted else "Accept the terms to start the free trial.",
        }
        return {name: problem for name, problem in found.items() if problem}


class AlreadyRegistered(Exception):
    """An account with this e-mail address exists (the portal says so: the issue asks for it)."""


@dataclass(frozen=True)
class Registered:
    account: Account
    email_sent: bool


def register(svc: AccountServices, form: SignupForm, client_ip: str) -> Registered:
    """Create the trial account (no password until the link is followed) and send the link.
    NetworkLimited when the caller's network registered too often."""
    check_network(svc.limits, SIGNUP_NETWORK, client_ip)
    try:
        account = svc.store.create(
            form.email,
            password_hash="",
            name=form.name,
            company=form.company,
            plan="trial",
            trial_ends_at=svc.clock() + TRIAL_LENGTH,
        )
    except EmailTakenError:
        raise AlreadyRegistered(form.email) from None
    log.info("account %s registered for the trial", account.id)
    return Registered(account, send_verification(svc, account))


def send_verification(svc: AccountServices, account: Account) -> bool:
    if not may_mail(svc.limits, account.email, "verify"):
        log.info("account %s: verification e-mail held back (address limit)", account.id)
        return True  # the same answer as a sent one: the page must not tell who has an account
    link = issue_link(svc, account.id, "verify")
    hours = int(LIFETIMES["verify"].total_seconds() // 3600)
    try:
        svc.mailer.send(verification_message(account.email, link, hours))
    except EmailError as error:
        log.error("account %s: verification e-mail not sent: %s", account.id, error)
        return False
    return True


def resend_verification(svc: AccountServices, email: str, client_ip: str) -> None:
    """A new link for an account still waiting for verification; nothing otherwise (the same answer).
    NetworkLimited when the caller's network asked for too many e-mails."""
    check_network(svc.limits, MAIL_NETWORK, client_ip)
    account = svc.store.get_by_email(email)
    if account is not None and not account.email_verified:
        send_verification(svc, account)
