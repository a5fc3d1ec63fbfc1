"""Short-lived OAuth state for both steps of a connect flow, on the store's single-use `state` rows.

Step "consent" is the `state` sent to Xero or Microsoft; step "pick" is the token behind the "choose an
organisation / environment" page. Both use the flow's kind ("xero" / "dynamics") and carry their step in
`extra`, so a consent state presented as a pick token (or the reverse) is refused, and burnt either way.
Secrets in `extra` (tokens, the MSAL flow and cache) are encrypted, bound to the account, the connection
and the step: a value copied into another state does not decrypt.
"""

from __future__ import annotations

import json
from typing import Any

from shared.crypto import DecryptionError, KeyRing
from shared.store.oauth_state import FlowKind, OAuthState, OAuthStateStore

CONSENT, PICK = "consent", "pick"


class FlowStates:
    def __init__(self, states: OAuthStateStore, keys: KeyRing, kind: FlowKind) -> None:
        self._states, self._keys, self._kind = states, keys, kind

    def create(
        self, step: str, account_id: str, connection_id: str, plain: dict[str, Any], secret: dict[str, Any]
    ) -> str:
        sealed = self._keys.encrypt(json.dumps(secret), owner=_owner(account_id, connection_id), field=step)
        return self._states.create(
            self._kind, account_id, connection_id, {**plain, "step": step, "sealed": sealed}
        )

    def consume(self, step: str, state: str, account_id: str) -> tuple[OAuthState, dict[str, Any]] | None:
        """(record, decrypted secret) when `state` is this account's, of this flow and step, unexpired."""
        record = self._states.consume(state, self._kind, account_id)
        if record is None or record.extra.get("step") != step:
            return None
        try:
            opened = self._keys.decrypt(
                str(record.extra.get("sealed", "")),
                owner=_owner(account_id, record.connection_id),
                field=step,
            )
        except DecryptionError:
            return None
        return record, json.loads(opened)

    def secret_of(self, record: OAuthState) -> dict[str, Any]:
        """The decrypted secret of a record of this flow (for housekeeping); {} when it does not open."""
        if record.kind != self._kind:
            return {}
        try:
            opened = self._keys.decrypt(
                str(record.extra.get("sealed", "")),
                owner=_owner(record.account_id, record.connection_id),
                field=str(record.extra.get("step", "")),
            )
        except DecryptionError:
            return {}
        value = json.loads(opened)
        return value if isinstance(value, dict) else {}


def _owner(account_id: str, connection_id: str) -> str:
    return f"{account_id}/{connection_id}"
