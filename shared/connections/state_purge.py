"""Housekeeping of the connect flows' state rows (issue 16): expired ones are deleted, and a Xero sign-in
that nobody finished — the organisation choice page left open — has its tokens revoked first, so no
grant outlives the ten minutes the choice was offered for."""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.connections.pick_state import PICK, FlowStates
from shared.crypto import KeyRing
from shared.store.oauth_state import OAuthState, OAuthStateStore

log = logging.getLogger(__name__)


def purge_abandoned_flows(states: OAuthStateStore, keys: KeyRing, revoke: Callable[[str], None]) -> int:
    """Delete expired state rows; returns how many. `revoke` takes a Xero refresh token."""
    flows = FlowStates(states, keys, "xero")

    def undo(record: OAuthState) -> None:
        if record.kind != "xero" or record.extra.get("step") != PICK:
            return
        tokens = flows.secret_of(record).get("tokens") or {}
        refresh_token = str(tokens.get("refresh_token") or "") if isinstance(tokens, dict) else ""
        if not refresh_token:
            return
        try:
            revoke(refresh_token)
            log.info("connection %s: revoked an unfinished Xero sign-in", record.connection_id)
        except Exception as error:  # housekeeping: the row goes anyway, the next sign-in replaces the grant
            log.warning("connection %s: could not revoke: %s", record.connection_id, type(error).__name__)

    return states.purge_expired(before_delete=undo)
