"""The time zone a connection's invoice dates are read in, proposed from what Dynamics and Xero say
until the customer chooses one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from shared.dataverse.client import DataverseClient
from shared.dataverse.user_time_zone import dynamics_user_time_zone
from shared.errors import ConnectorError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection
from shared.time_zones import iana_for_windows
from shared.xero.accounting import XeroAccounting

log = logging.getLogger(__name__)
XeroFor = Callable[[Connection], XeroAccounting]


def organisation_time_zone(xero: XeroAccounting) -> str | None:
    """Xero's Organisation.Timezone ("NEWZEALANDSTANDARDTIME") as an IANA name; None when unknown."""
    try:
        organisations = xero.get("Organisation").get("Organisations") or [{}]
    except ConnectorError as error:
        log.info("could not read the Xero organisation's time zone: %s", error)
        return None
    return iana_for_windows(str(organisations[0].get("Timezone") or ""))


def propose_time_zone(
    store: ConnectionStore,
    connection_id: str,
    client: DataverseClient,
    xero_zone: Callable[[], str | None],
) -> list[str]:
    """Xero dates are calendar dates, and Dynamics stores a UserLocal date (invoice datedelivered) as the
    user's local midnight in UTC: on UTC, an Auckland invoice would be dated a day early. Until the
    customer chooses a zone, the one of the Dynamics user who installs is taken; an application user
    (or one left on UTC) says little, so then the Xero organisation's zone."""
    if store.require(connection_id).sync.time_zone_chosen:
        return []
    zone, source = dynamics_user_time_zone(client), "the time zone of your Dynamics user"
    if zone in (None, "UTC"):
        zone, source = xero_zone() or zone, "your Xero organisation's time zone"
    if not zone or zone == store.require(connection_id).sync.time_zone:
        return []

    def apply(connection: Connection) -> None:
        if not connection.sync.time_zone_chosen:  # the customer may have saved a zone meanwhile
            connection.sync = replace(connection.sync, time_zone=zone)

    store.update(connection_id, apply)
    return [f"Invoice dates follow {zone}, {source} (change it under Defaults)"]
