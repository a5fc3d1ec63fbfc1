"""The red-light e-mail over real parts: the connections and accounts tables in Azurite, the real SMTP
sender, a real SMTP sink. One e-mail per change of red lights, to the account's owner, never repeated."""

from __future__ import annotations

from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from local.ports import free_port
from local.smtp_sink import SmtpSink
from shared.config import Settings
from shared.connections.alerts import alert_red_lights
from shared.email.smtp import SmtpSender
from shared.store.accounts import AccountStore
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, Problem, utc_now

BASE = "https://portal.example"


@pytest.fixture
def sink(tmp_path: Path) -> SmtpSink:
    running = SmtpSink(tmp_path / "mailbox").start()
    yield running  # type: ignore[misc]
    running.stop()


def _emails(sink: SmtpSink) -> list[EmailMessage]:
    parsed = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in sink.messages()]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def _running(store: ConnectionStore, account_id: str, name: str = "Kiwi NZ") -> Connection:
    """An active connection with both lights green (the facts the lights read)."""
    connection = store.create(
        account_id, name=name, plan="trial", trial_ends_at=utc_now() + timedelta(days=14)
    )

    def green(c: Connection) -> None:
        c.status = "active"
        c.xero.tenant_id, c.xero.refresh_token, c.xero.organisation_name = (
            "t-1",
            "refresh",
            "Demo Company (NZ)",
        )
        c.dynamics.org_url, c.dynamics.msal_cache = "https://contoso.crm.dynamics.com", "{}"
        c.dynamics.environment_name, c.dynamics.webhook_registered = "Contoso", True

    return store.update(connection.id, green)


def test_the_owner_is_told_once_per_change_of_red_lights(store_settings: Settings, sink: SmtpSink) -> None:
    store, accounts = (
        ConnectionStore.from_settings(store_settings),
        AccountStore.from_settings(store_settings),
    )
    owner = accounts.create("owner@example.com", "", name="Ana")
    other = accounts.create("other@example.com", "", name="Bo")
    mine, theirs = _running(store, owner.id), _running(store, other.id, "Theirs")
    mailer = SmtpSender("127.0.0.1", sink.port, "Connector <no-reply@example.test>")

    def one_pass() -> int:
        return alert_red_lights(store, accounts, mailer, BASE, utc_now)

    # both green: nothing to say
    assert one_pass() == 0 and _emails(sink) == []

    # Xero refuses the saved sign-in: one e-mail to the owner, saying what and where to fix it
    store.update(mine.id, lambda c: setattr(c.xero, "error", Problem("Xero refused the saved sign-in", "x")))
    assert one_pass() == 1
    [message] = _emails(sink)
    assert str(message["To"]) == "owner@example.com" and "“Kiwi NZ” is not syncing" in str(message["Subject"])
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Xero: Xero refused the saved sign-in What to do: Reconnect to Xero." in " ".join(text.split())
    assert f"{BASE}/connections/{mine.id}" in text

    # still red, nothing new: no second e-mail, however many passes
    assert one_pass() == 0 and one_pass() == 0 and len(_emails(sink)) == 1

    # Dynamics turns red as well: that is news
    store.update(
        mine.id, lambda c: setattr(c.dynamics, "error", Problem("Dynamics refused the sign-in", "x"))
    )
    assert one_pass() == 1 and len(_emails(sink)) == 2

    # both green again, then red again: told again
    def fixed(c: Connection) -> None:
        c.xero.error, c.dynamics.error = Problem(), Problem()

    store.update(mine.id, fixed)
    assert one_pass() == 0 and store.require(mine.id).alerted_lights == ""
    store.update(mine.id, lambda c: setattr(c.xero, "error", Problem("Xero refused the saved sign-in", "x")))
    assert one_pass() == 1 and len(_emails(sink)) == 3

    # nobody else was written to; a draft's owner is on its page setting it up and is not e-mailed
    assert {str(m["To"]) for m in _emails(sink)} == {"owner@example.com"}
    assert store.require(theirs.id).alerted_lights == ""
    draft = store.create(owner.id, name="Draft", plan="trial")
    assert draft.status == "draft" and one_pass() == 0


def test_an_e_mail_that_could_not_be_sent_is_tried_again_next_time(
    store_settings: Settings, sink: SmtpSink
) -> None:
    store, accounts = (
        ConnectionStore.from_settings(store_settings),
        AccountStore.from_settings(store_settings),
    )
    owner = accounts.create("owner@example.com", "", name="Ana")
    mine = _running(store, owner.id)
    store.update(mine.id, lambda c: setattr(c.xero, "error", Problem("Xero refused the saved sign-in", "x")))
    closed = free_port()  # nothing listens there: the SMTP connection is refused
    nowhere = SmtpSender("127.0.0.1", closed, "Connector <no-reply@example.test>", timeout=2)
    working = SmtpSender("127.0.0.1", sink.port, "Connector <no-reply@example.test>")

    assert alert_red_lights(store, accounts, nowhere, BASE, utc_now) == 0
    assert store.require(mine.id).alerted_lights == ""  # the claim was undone
    assert alert_red_lights(store, accounts, working, BASE, utc_now) == 1 and len(_emails(sink)) == 1
