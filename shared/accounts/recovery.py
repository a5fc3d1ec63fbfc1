"""Forgotten password: send a reset link (1 hour, single use) when the address is registered.

The answer is the same whether or not it is, so this form does not tell who has an account."""

from __future__ import annotations

import logging

from shared.accounts.abuse import MAIL_NETWORK, check_network, may_mail
from shared.accounts.email_links import issue_link
from shared.accounts.links import LIFETIMES
from shared.accounts.services import AccountServices
from shared.email.message import EmailError
from shared.email.messages import reset_message

log = logging.getLogger("portal.accounts")


def request_reset(svc: AccountServices, email: str, client_ip: str) -> None:
    """NetworkLimited when the caller's network asked for too many e-mails; silence when the address
    had its link moments ago or too many this hour (a new link would void the one already sent)."""
    check_network(svc.limits, MAIL_NETWORK, client_ip)
    account = svc.store.get_by_email(email)
    if account is None or not may_mail(svc.limits, account.email, "reset"):
        return
    link = issue_link(svc, account.id, "reset")
    minutes = int(LIFETIMES["reset"].total_seconds() // 60)
    try:
        svc.mailer.send(reset_message(account.email, link, minutes))
    except EmailError as error:
        log.error("account %s: reset e-mail not sent: %s", account.id, error)
