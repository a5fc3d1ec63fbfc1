"""'Connect to Xero': the consent round trip, choosing among several organisations, and disconnecting.

Decision: when the customer allowed several organisations and picks one, the others are disconnected from
the app (DELETE /connections/{id}) so their Xero "connected apps" list shows only what the connector uses
and its token reaches nothing else; an organisation another connection of the same account uses is kept.
A failed flow revokes the tokens it got (best effort). An abandoned choice is not revoked: its encrypted
tokens go with the expired state, and an unused Xero refresh token dies after 60 days.
GET /connections lists every organisation this Xero user connected to the app, not only this consent's.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime

from shared.connections.connections import get_for_account, update_for_account
from shared.connections.pick_state import CONSENT, PICK, FlowStates
from shared.connections.results import (
    CONNECTION_GONE,
    STATE_EXPIRED,
    Choice,
    Connected,
    ConnectFailed,
    ConnectResult,
    NeedsChoice,
)
from shared.crypto import KeyRing
from shared.errors import ConnectorError, FatalError, NotFoundError, ReconnectRequired, RetriableError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, XeroSide
from shared.store.oauth_state import OAuthStateStore
from shared.store.xero_tokens import XeroTokens
from shared.xero.oauth import TokenSet, XeroOAuth, XeroTenant, new_code_verifier

log = logging.getLogger(__name__)

DENIED = "You chose not to connect to Xero — try again when you are ready."
CODE_USED = "This Xero sign-in expired or was already used — start again."
XERO_BUSY = "Xero is not answering right now — try again in a minute."
NO_ORGANISATION = "No Xero organisation was shared with the connector — try again and tick one."
NOT_OFFERED = "That organisation was not among those you allowed — start again."
USABLE_TYPES = ("ORGANISATION", "")


class XeroConnect:
    def __init__(
        self, connections: ConnectionStore, states: OAuthStateStore, oauth: XeroOAuth, keys: KeyRing
    ) -> None:
        self._connections, self._oauth = connections, oauth
        self._flows = FlowStates(states, keys, "xero")

    def begin(self, account_id: str, connection_id: str, redirect_uri: str) -> str:
        """The Xero consent URL to send the browser to; NotFoundError for another account's connection."""
        get_for_account(self._connections, account_id, connection_id)
        verifier = new_code_verifier()  # kept encrypted with the state, sent only to Xero's token endpoint
        state = self._flows.create(
            CONSENT, account_id, connection_id, {"redirect_uri": redirect_uri}, {"code_verifier": verifier}
        )
        return self._oauth.authorize_url(state, redirect_uri, code_verifier=verifier)

    def complete(self, account_id: str, query: Mapping[str, str]) -> ConnectResult:
        """Handle Xero's redirect back (its query parameters)."""
        opened = self._flows.consume(CONSENT, query.get("state", ""), account_id)  # burnt in every case
        if query.get("error"):
            code = "".join(c for c in query["error"][:40] if c.isalnum() or c == "_")  # attacker-controlled
            return ConnectFailed(
                DENIED if code == "access_denied" else f"Xero did not connect ({code}) — try again."
            )
        if opened is None or not query.get("code"):
            return ConnectFailed(STATE_EXPIRED)
        record, secret = opened
        if not self._owns(account_id, record.connection_id):
            return ConnectFailed(CONNECTION_GONE, retry_possible=False)
        try:
            verifier = str(secret.get("code_verifier") or "")
            tokens = self._oauth.exchange_code(query["code"], str(record.extra["redirect_uri"]), verifier)
        except ConnectorError as error:
            return _failed(error)
        try:
            tenants = [
                t for t in self._oauth.list_connections(tokens.access_token) if t.tenant_type in USABLE_TYPES
            ]
        except ConnectorError as error:
            self._revoke(tokens.refresh_token)
            return _failed(error)
        if not tenants:
            self._revoke(tokens.refresh_token)
            return ConnectFailed(NO_ORGANISATION)
        if len(tenants) == 1:
            return self._connect(account_id, record.connection_id, tokens, tenants[0], [])
        secret = {"tokens": _tokens_json(tokens), "tenants": [asdict(t) for t in tenants]}
        pick = self._flows.create(PICK, account_id, record.connection_id, {}, secret)
        return NeedsChoice(pick, [Choice(t.tenant_id, t.tenant_name) for t in tenants])

    def choose(self, account_id: str, pick_token: str, tenant_id: str) -> Connected | ConnectFailed:
        """Connect the organisation picked on the choice page."""
        opened = self._flows.consume(PICK, pick_token, account_id)
        if opened is None:
            return ConnectFailed(STATE_EXPIRED)
        record, secret = opened
        tokens = _tokens_from(secret["tokens"])
        tenants = [XeroTenant(**t) for t in secret["tenants"]]
        chosen = next((t for t in tenants if t.tenant_id == tenant_id), None)
        if chosen is None:
            self._revoke(tokens.refresh_token)
            return ConnectFailed(NOT_OFFERED)
        others = [t for t in tenants if t is not chosen]
        return self._connect(account_id, record.connection_id, tokens, chosen, others)

    def disconnect(self, account_id: str, connection_id: str) -> Connection:
        """Disconnect the organisation, revoke the sign-in, forget the tokens: the light turns red with
        "Connect to Xero". Xero being unreachable does not keep the customer connected: our copy of the
        tokens is deleted either way (an unrevoked refresh token dies unused after 60 days)."""
        connection = get_for_account(self._connections, account_id, connection_id)
        if connection.xero.refresh_token:
            self._disconnect_remote(connection)

        def forget(connection: Connection) -> None:
            connection.xero = XeroSide()
            if connection.status == "active":
                connection.status = "disconnected"

        return update_for_account(self._connections, account_id, connection_id, forget)

    def _connect(
        self,
        account_id: str,
        connection_id: str,
        tokens: TokenSet,
        chosen: XeroTenant,
        others: list[XeroTenant],
    ) -> Connected | ConnectFailed:
        if not self._owns(account_id, connection_id):
            self._revoke(tokens.refresh_token)
            return ConnectFailed(CONNECTION_GONE, retry_possible=False)
        XeroTokens(self._connections, self._oauth).save_grant(connection_id, tokens, chosen)
        for other in others:
            if not self._in_use_elsewhere(other.tenant_id, connection_id):
                self._best_effort(
                    "disconnect an unchosen organisation",
                    functools.partial(self._oauth.delete_connection, tokens.access_token, other.id),
                )
        log.info("connection %s connected to a Xero organisation", connection_id)
        return Connected(chosen.tenant_name)

    def _disconnect_remote(self, connection: Connection) -> None:
        tokens = XeroTokens(self._connections, self._oauth)
        if not self._in_use_elsewhere(connection.xero.tenant_id, connection.id):
            self._best_effort(
                "disconnect the Xero organisation",
                lambda: self._oauth.delete_connection(
                    tokens.access_token(connection.id)[0], connection.xero.connection_id
                ),
            )
        latest = self._connections.get(connection.id)  # the refresh above may have rotated the token
        self._revoke(latest.xero.refresh_token if latest else connection.xero.refresh_token)

    def _in_use_elsewhere(self, tenant_id: str, except_connection: str) -> bool:
        """Whether any other connection — of any account (issue 16): one Xero user may serve several of
        our customers — uses the organisation; then its Xero connection must stay."""
        return any(c.id != except_connection for c in self._connections.list_for_xero_tenant(tenant_id))

    def _owns(self, account_id: str, connection_id: str) -> bool:
        try:
            get_for_account(self._connections, account_id, connection_id)
        except NotFoundError:
            return False
        return True

    def _revoke(self, refresh_token: str) -> None:
        if refresh_token:
            self._best_effort("revoke the Xero sign-in", lambda: self._oauth.revoke(refresh_token))

    @staticmethod
    def _best_effort(doing: str, call: Callable[[], object]) -> None:
        try:
            call()
        except ConnectorError as error:
            log.warning("could not %s: %s", doing, type(error).__name__)


def _failed(error: ConnectorError) -> ConnectFailed:
    if isinstance(error, ReconnectRequired):  # invalid_grant: the code expired or was used already
        return ConnectFailed(CODE_USED)
    if isinstance(error, RetriableError):
        return ConnectFailed(XERO_BUSY)
    if isinstance(error, FatalError):
        return ConnectFailed(
            "Xero refused the connector's sign-in; please contact support.", retry_possible=False
        )
    return ConnectFailed(XERO_BUSY)


def _tokens_json(tokens: TokenSet) -> dict[str, object]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at.isoformat(),
        "scopes": list(tokens.scopes),
    }


def _tokens_from(raw: dict[str, object]) -> TokenSet:
    scopes = raw.get("scopes") or []
    return TokenSet(
        access_token=str(raw["access_token"]),
        refresh_token=str(raw["refresh_token"]),
        expires_at=datetime.fromisoformat(str(raw["expires_at"])),
        scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
    )
