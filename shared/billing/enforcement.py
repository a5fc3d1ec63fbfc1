"""What the invoice worker asks of billing: may this connection push now (else why, and when to look
again), and "one more invoice went to Xero" (the month's count; the 80% e-mail once a month)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from markupsafe import escape

from shared.billing.allowance import Pause, crosses_warning, pause_for, plan_in_force
from shared.billing.usage import UsageStore
from shared.email.message import EmailMessage, EmailSender
from shared.store.models import Account, Connection

log = logging.getLogger("billing.enforcement")
# sent() follows pause() within one push: the account pause() read is what sent() needs of it (the plan,
# for the 80% e-mail), so it is not read again while this fresh — a table read fewer per invoice.
ACCOUNT_REUSE_SECONDS = 60.0


class Accounts(Protocol):
    def get(self, account_id: str) -> Account | None: ...


@dataclass
class Enforcer:
    accounts: Accounts
    usage: UsageStore
    mailer: EmailSender
    base_url: str
    grace: timedelta
    _read: dict[str, tuple[float, Account]] = field(default_factory=dict, init=False, repr=False)
    _read_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def pause(self, connection: Connection, now: datetime) -> Pause | None:
        account = self.accounts.get(connection.account_id)
        if account is None:
            return None
        with self._read_lock:
            self._read[account.id] = (time.monotonic(), account)
        return pause_for(account, self.usage.count(connection.id, now), now, self.grace, self.upgrade_url)

    def sent(self, connection: Connection, now: datetime) -> None:
        before, after = self.usage.add_one(connection.id, now)
        account = self._just_read(connection.account_id) or self.accounts.get(connection.account_id)
        if account is None:
            return
        plan = plan_in_force(account)
        if crosses_warning(plan, before, after) and self.usage.claim_warning(connection.id, now):
            try:
                self.mailer.send(
                    self._warning(account, connection, plan.label, plan.invoices_per_month, after)
                )
            except Exception as error:  # the count stands; the banner still shows it
                log.warning(
                    "usage warning for connection %s not sent: %s", connection.id, type(error).__name__
                )

    def _just_read(self, account_id: str) -> Account | None:
        with self._read_lock:
            read_at, account = self._read.get(account_id, (0.0, None))
        return account if time.monotonic() - read_at < ACCOUNT_REUSE_SECONDS else None

    @property
    def upgrade_url(self) -> str:
        return self.base_url.rstrip("/") + "/account#subscription"

    def _warning(
        self, account: Account, connection: Connection, plan: str, limit: int, used: int
    ) -> EmailMessage:
        name = connection.name or "your connection"
        text = (
            f"{name} has sent {used:,} of the {limit:,} invoices the {plan} plan includes this month.\n"
            f"When they are used, new invoices wait until next month — or upgrade now: {self.upgrade_url}\n"
        )
        html = (
            f"<p>{escape(name)} has sent {used:,} of the {limit:,} invoices the {plan} plan includes "
            "this month.</p>"
            f'<p>When they are used, new invoices wait until next month — or <a href="{self.upgrade_url}">'
            "upgrade now</a>.</p>"
        )
        return EmailMessage(account.email, f"{name}: 80% of this month's invoices used", text, html)
