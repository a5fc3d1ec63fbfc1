"""Xero access tokens for a stored connection, refreshed so that exactly one refresh reaches Xero at a time.

Why: Xero rotates the refresh token on every refresh. Two workers refreshing with the same refresh token
race to store different successors; the loser's write can overwrite the winner's, and the connection is
lost once the grace period of the old token ends.

Design:
1. Fast path: read the row (or take the one the caller read for this message); an access token with
   more than 60 s left is used as is.
2. Within one process, a lock per connection lets one thread do the slow path; the others wait on the
   lock and then find the fresh token on their re-read (no storage churn from 20 threads).
3. Across processes, a lease on the row: `refresh_lease_until` + `refresh_lease_holder`, claimed with an
   ETag-conditional write. Only the claimant calls Xero. Everyone else polls the row (every `poll_seconds`)
   until a fresh token appears or the lease runs out, then tries again themselves; a holder that crashed
   therefore delays the others by one lease at most (and Xero's grace period lets the next one reuse the
   old refresh token).
4. The claimant saves the new access + refresh token with a write conditional on the lease's ETag BEFORE
   it returns the access token. If that write loses (412), it re-reads: if the refresh token there is no
   longer the one it used, someone else rotated it and their token wins; otherwise an unrelated edit
   happened in between, and it re-applies its tokens to the fresh row.
5. `invalid_grant`: re-read first. A different refresh token in the row means another worker rotated it
   (use that one, or start over); the same one means Xero revoked it: the connection turns red with
   "Reconnect to Xero", the dead tokens are cleared, and ReconnectRequired is raised. A red connection
   never calls Xero again until the customer reconnects (save_grant).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from shared.errors import ConcurrencyError, ReconnectRequired, RetriableError
from shared.store.connections import ConnectionStore
from shared.store.models import Connection, Problem, utc_now
from shared.xero.oauth import TokenSet, XeroOAuth, XeroTenant

log = logging.getLogger(__name__)

MIN_TOKEN_LIFE = timedelta(seconds=60)
REFUSED = Problem("Xero refused the saved sign-in (invalid_grant)", "Reconnect to Xero")
_SAVE_ATTEMPTS = 5


class XeroTokens:
    def __init__(
        self,
        store: ConnectionStore,
        oauth: XeroOAuth,
        clock: Callable[[], datetime] = utc_now,
        *,
        lease_seconds: float = 40.0,
        poll_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store, self._oauth, self._clock, self._sleep = store, oauth, clock, sleep
        # A lease outlives the refresh call it protects (HTTP timeout + margin).
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._holder = uuid.uuid4().hex
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def access_token(
        self, connection_id: str, known: Connection | None = None, rejected: str = ""
    ) -> tuple[str, str]:
        """(access token, tenant id) valid for at least a minute; ReconnectRequired when the customer
        must sign in to Xero again; RetriableError when Xero or a lease holder is slow. `known` is the
        row the caller read moments ago: its token, while fresh, saves reading the row again.
        `rejected` is a token Xero just answered 401 to although it had not expired (revoked, or
        Xero lost it): it is never returned again — a newer one from the row, or a refresh."""
        if known is not None and known.id == connection_id and self._is_fresh(known, rejected):
            return known.xero.access_token, known.xero.tenant_id
        connection = self._store.require(connection_id)
        if self._is_fresh(connection, rejected):
            return connection.xero.access_token, connection.xero.tenant_id
        with self._local_lock(connection_id):
            return self._refresh_once(connection_id, rejected)

    def save_grant(self, connection_id: str, tokens: TokenSet, tenant: XeroTenant) -> Connection:
        """Store the tokens of a completed consent flow; the Xero side turns green."""

        def connect(connection: Connection) -> None:
            xero = connection.xero
            xero.tenant_id, xero.organisation_name, xero.connection_id = (
                tenant.tenant_id,
                tenant.tenant_name,
                tenant.id,
            )
            _apply(connection, tokens)
            xero.scopes, xero.error = list(tokens.scopes), Problem()

        return self._store.update(connection_id, connect)

    def _refresh_once(self, connection_id: str, rejected: str = "") -> tuple[str, str]:
        deadline = time.monotonic() + self._lease.total_seconds() + 5 * self._poll
        while True:
            connection = self._store.require(connection_id)
            _require_connected(connection)
            if self._is_fresh(connection, rejected):
                return connection.xero.access_token, connection.xero.tenant_id
            if self._leased_by_other(connection):
                if time.monotonic() > deadline:
                    raise RetriableError("another worker is still refreshing the Xero token", retry_after=5)
                self._sleep(self._poll)
                continue
            try:
                leased = self._claim_lease(connection)
            except ConcurrencyError:
                continue  # someone else claimed it or changed the row: look again
            result = self._refresh_with_lease(leased)
            if result is not None:
                return result

    def _refresh_with_lease(self, connection: Connection) -> tuple[str, str] | None:
        used = connection.xero.refresh_token
        log.info("refreshing the Xero token of connection %s", connection.id)
        try:
            tokens = self._oauth.refresh(used)
        except ReconnectRequired:
            return self._after_refusal(connection.id, used)
        except Exception:
            self._release_lease(connection.id)
            raise
        return self._save_rotated(connection, used, tokens)

    def _save_rotated(self, connection: Connection, used: str, tokens: TokenSet) -> tuple[str, str]:
        for _ in range(_SAVE_ATTEMPTS):
            _apply(connection, tokens)
            try:
                self._store.save(connection)
                return tokens.access_token, connection.xero.tenant_id
            except ConcurrencyError:
                connection = self._store.require(connection.id)
            if connection.xero.refresh_token != used:
                # Another worker rotated it too (our lease ran out, or a reconnect): its row wins.
                if self._is_fresh(connection):
                    return connection.xero.access_token, connection.xero.tenant_id
                raise RetriableError("the Xero sign-in changed while refreshing", retry_after=1)
        raise ConcurrencyError(f"connection {connection.id}: could not save the rotated Xero token")

    def _after_refusal(self, connection_id: str, used: str) -> tuple[str, str] | None:
        for _ in range(_SAVE_ATTEMPTS):
            connection = self._store.require(connection_id)
            if connection.xero.refresh_token and connection.xero.refresh_token != used:
                if self._is_fresh(connection):
                    return connection.xero.access_token, connection.xero.tenant_id
                return None  # a newer refresh token than ours: start over with it
            _mark_refused(connection)
            try:
                self._store.save(connection)
            except ConcurrencyError:
                continue
            log.warning("Xero refused the refresh token of connection %s: marked red", connection_id)
            raise ReconnectRequired("xero", REFUSED.reason)
        raise ConcurrencyError(f"connection {connection_id}: could not mark the Xero side red")

    def _claim_lease(self, connection: Connection) -> Connection:
        connection.xero.refresh_lease_until = self._clock() + self._lease
        connection.xero.refresh_lease_holder = self._holder
        return self._store.save(connection)

    def _release_lease(self, connection_id: str) -> None:
        def release(connection: Connection) -> None:
            if connection.xero.refresh_lease_holder == self._holder:
                connection.xero.refresh_lease_until, connection.xero.refresh_lease_holder = None, ""

        try:
            self._store.update(connection_id, release)
        except Exception:  # the lease expires by itself; the original error matters more
            log.warning("could not release the Xero refresh lease of connection %s", connection_id)

    def _leased_by_other(self, connection: Connection) -> bool:
        until = connection.xero.refresh_lease_until
        return bool(until and until > self._clock() and connection.xero.refresh_lease_holder != self._holder)

    def _is_fresh(self, connection: Connection, rejected: str = "") -> bool:
        xero = connection.xero
        expires = xero.access_token_expires_at
        if not xero.access_token or xero.access_token == rejected:
            return False
        return bool(expires and expires - self._clock() > MIN_TOKEN_LIFE)

    @contextmanager
    def _local_lock(self, connection_id: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(connection_id, threading.Lock())
        with lock:
            yield


def _require_connected(connection: Connection) -> None:
    if not connection.xero.refresh_token:
        raise ReconnectRequired(
            "xero", connection.xero.error.reason or "the connection is not signed in to Xero"
        )


def _apply(connection: Connection, tokens: TokenSet) -> None:
    xero = connection.xero
    xero.access_token, xero.access_token_expires_at = tokens.access_token, tokens.expires_at
    xero.refresh_token = tokens.refresh_token or xero.refresh_token
    xero.refresh_lease_until, xero.refresh_lease_holder = None, ""


def _mark_refused(connection: Connection) -> None:
    xero = connection.xero
    xero.error = Problem(REFUSED.reason, REFUSED.action)
    xero.access_token, xero.access_token_expires_at, xero.refresh_token = "", None, ""
    xero.refresh_lease_until, xero.refresh_lease_holder = None, ""
