"""E-mails before a trial ends without a subscription: 3 days before and 1 day before, once each.

Run hourly by a timer (functions/billing_reminders.py). Each reminder is claimed on the account row with
an ETag-conditional update before it is sent, so two timers never send it twice; a send that fails is
tried again next hour (the claim is undone)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from azure.data.tables import TableClient

from shared.billing.subscriptions import LIVE
from shared.email.message import EmailMessage, EmailSender
from shared.store.accounts import ACCOUNT_ROW, AccountStore
from shared.store.models import Account

log = logging.getLogger("billing.reminders")
REMINDER_DAYS = (3, 1)


def due_reminder(account: Account, now: datetime) -> int:
    """The reminder (days) to send now, or 0."""
    held, ends = account.subscription, account.trial_ends_at
    if ends is None or ends <= now or (held.subscription_id and held.status in LIVE):
        return 0
    left = ends - now
    window = min((days for days in REMINDER_DAYS if left <= timedelta(days=days)), default=0)
    if not window or (held.trial_reminded_days and held.trial_reminded_days <= window):
        return 0
    return window


@dataclass
class Reminders:
    table: TableClient  # the accounts table, scanned for trials ending within three days
    accounts: AccountStore
    mailer: EmailSender
    base_url: str

    def run(self, now: datetime) -> int:
        sent = 0
        for account_id in self._ending_soon(now):
            account = self.accounts.get(account_id)
            days = due_reminder(account, now) if account else 0
            if account is None or not days:
                continue
            before = account.subscription.trial_reminded_days
            if not self._claim(account.id, days, now):
                continue
            try:
                self.mailer.send(self._message(account, days))
                sent += 1
            except Exception as error:  # next hour's run tries again
                log.warning("trial reminder for %s not sent: %s", account.id, type(error).__name__)
                self._set(account.id, before)
        return sent

    def _ending_soon(self, now: datetime) -> Iterable[str]:
        query = "RowKey eq @row and trial_ends_at gt @now and trial_ends_at le @until"
        params = {"row": ACCOUNT_ROW, "now": now, "until": now + timedelta(days=max(REMINDER_DAYS))}
        for entity in self.table.query_entities(query, parameters=params, select=["PartitionKey"]):
            yield str(entity["PartitionKey"])

    def _claim(self, account_id: str, days: int, now: datetime) -> bool:
        claimed = False

        def claim(account: Account) -> None:
            nonlocal claimed
            claimed = due_reminder(account, now) == days
            if claimed:
                account.subscription.trial_reminded_days = days

        self.accounts.update(account_id, claim)
        return claimed

    def _set(self, account_id: str, days: int) -> None:
        self.accounts.update(
            account_id, lambda account: setattr(account.subscription, "trial_reminded_days", days)
        )

    def _message(self, account: Account, days: int) -> EmailMessage:
        link = self.base_url.rstrip("/") + "/account#subscription"
        when = "tomorrow" if days == 1 else f"in {days} days"
        ends = f"{account.trial_ends_at:%d %B %Y}" if account.trial_ends_at else ""
        text = (
            f"Your free trial of the Dynamics to Xero connector ends {when} ({ends}).\n"
            f"Choose a plan to keep invoices flowing: {link}\n"
            "Without one, new invoices wait (nothing is lost) and go as soon as you subscribe.\n"
        )
        html = (
            f"<p>Your free trial of the Dynamics to Xero connector ends {when} ({ends}).</p>"
            f'<p><a href="{link}">Choose a plan</a> to keep invoices flowing. Without one, new invoices wait '
            "(nothing is lost) and go as soon as you subscribe.</p>"
        )
        return EmailMessage(account.email, f"Your free trial ends {when}", text, html)
