"""The time zone a Dynamics user works in: usersettings.timezonecode → timezonedefinition.standardname
(a Windows id) → an IANA name (Learn: usersettings and timezonedefinition table references; the Web API
entity sets are `usersettingscollection` and `timezonedefinitions`)."""

from __future__ import annotations

import logging

from shared.dataverse.client import DataverseClient
from shared.errors import ConnectorError
from shared.time_zones import iana_for_windows

log = logging.getLogger(__name__)


def dynamics_user_time_zone(client: DataverseClient) -> str | None:
    """The signed-in (or application) user's zone; None when Dynamics does not say or cannot be read —
    a proposal only, so no failure of it may stop what asked for it."""
    try:
        me = client.whoami()
        settings = client.get_all(
            f"usersettingscollection?$select=timezonecode&$filter=systemuserid eq {me.user_id}"
        )
        code = settings[0].get("timezonecode") if settings else None
        if not isinstance(code, int) or isinstance(code, bool):
            return None
        zones = client.get_all(f"timezonedefinitions?$select=standardname&$filter=timezonecode eq {code}")
    except ConnectorError as error:
        log.info("could not read the Dynamics user's time zone: %s", error)
        return None
    return iana_for_windows(str(zones[0].get("standardname") or "")) if zones else None
