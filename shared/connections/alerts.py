"""An e-mail to the account's owner when a running connection's light turns red — once per change.

A timer looks at every active connection; the red lights' reasons make a fingerprint kept on the row
(`alerted_lights`). A fingerprint not e-mailed yet is claimed with an ETag-conditional write *before* the
e-mail goes, so two timers (or a retried one) never send it twice; if sending fails the claim is undone
and the next run tries again. When both lights are green again the fingerprint is cleared, so the next
red light is news again. Drafts are left alone: their owner is on the page setting them up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shared.connections.lights import lights
from shared.email.message import EmailError, EmailSender
from shared.email.messages import red_light_message
from shared.errors import ConcurrencyError
from shared.store.accounts import AccountStore
from shared.store.connections import ConnectionStore
from shared.store.models import Connection

log = logging.getLogger(__name__)


def red_lights(connection: Connection, now: datetime) -> list[tuple[str, str, str]]:
    """(side, reason, what to do) of each red light."""
    xero, dynamics = lights(connection, now)
    sides = (("Xero", xero), ("Dynamics 365", dynamics))
    return [
        (side, light.reason or light.label, light.action_label) for side, light in sides if not light.green
    ]


def fingerprint(red: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"{side}: {reason}" for side, reason, _ in red)[:2000]


def alert_red_lights(
    connections: ConnectionStore,
    accounts: AccountStore,
    mailer: EmailSender,
    base_url: str,
    clock: Callable[[], datetime],
) -> int:
    """One pass over the active connections; how many e-mails went."""
    sent = 0
    for connection in connections.list_active():
        try:
            sent += _alert_one(connections, accounts, mailer, base_url, connection, clock())
        except ConcurrencyError:
            continue  # changed meanwhile: the next pass sees it as it is then
    return sent


def _alert_one(
    connections: ConnectionStore,
    accounts: AccountStore,
    mailer: EmailSender,
    base_url: str,
    connection: Connection,
    now: datetime,
) -> int:
    red = red_lights(connection, now)
    wanted = fingerprint(red)
    if wanted == connection.alerted_lights:
        return 0
    previous = connection.alerted_lights
    connection.alerted_lights = wanted
    claimed = connections.save(connection)  # ETag-conditional: ConcurrencyError if another pass won
    if not red:
        return 0  # green again: nothing to say, the next red light is news
    owner = accounts.get(connection.account_id)
    if owner is None:
        return 0
    link = f"{base_url.rstrip('/')}/connections/{connection.id}"
    try:
        mailer.send(red_light_message(owner.email, owner.name, connection.name, red, link))
    except EmailError as error:
        log.warning(
            "connection %s: red-light e-mail not sent (%s); trying again next time", connection.id, error
        )
        claimed.alerted_lights = previous
        connections.save(claimed)
        return 0
    log.info("connection %s: owner told about a red light", connection.id)
    return 1
