"""Trial reminders on real Azurite: 3 days and 1 day before a trial ends without a subscription, once
each, whatever how often the timer runs."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shared import bootstrap
from shared.billing.reminders import Reminders
from shared.email.message import EmailMessage
from shared.store.accounts import AccountStore
from shared.store.models import Subscription, utc_now
from shared.store.tables import ACCOUNTS, table_client


class Outbox:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def test_three_days_then_one_day_before_the_trial_ends_once_each(app_env: dict[str, str]) -> None:
    store, outbox, now = AccountStore.from_settings(bootstrap.worker().settings), Outbox(), utc_now()
    ending = store.create(
        f"ending.{uuid.uuid4().hex[:6]}@x.example", "x", trial_ends_at=now + timedelta(days=2.5)
    )
    paid = store.create(f"paid.{uuid.uuid4().hex[:6]}@x.example", "x", trial_ends_at=now + timedelta(days=2))
    store.update(paid.id, lambda a: setattr(a, "subscription", Subscription("cus_1", "sub_1", "trialing")))
    store.create(f"later.{uuid.uuid4().hex[:6]}@x.example", "x", trial_ends_at=now + timedelta(days=10))
    reminders = Reminders(
        table_client(bootstrap.worker().settings, ACCOUNTS), store, outbox, "https://portal.example"
    )

    assert reminders.run(now) == 1
    assert reminders.run(now + timedelta(hours=1)) == 0
    assert reminders.run(now + timedelta(days=1.6)) == 1
    assert reminders.run(now + timedelta(days=1.7)) == 0
    assert reminders.run(now + timedelta(days=3)) == 0  # ended: the pause takes over

    assert [(m.to, m.subject) for m in outbox.sent] == [
        (ending.email, "Your free trial ends in 3 days"),
        (ending.email, "Your free trial ends tomorrow"),
    ]
    assert "https://portal.example/account#subscription" in outbox.sent[0].text
