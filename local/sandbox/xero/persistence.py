"""What of the sandbox Xero survives a restart of `make run`: organisations with their records and
invoice numbering, the OAuth state (apps, consents, grants with their rotating refresh tokens, access
tokens, the app's connections), Idempotency-Key replays, the webhook subscription and the rate windows
(real Xero does not forget a day's calls because our sandbox restarted). Faults and request counts start
fresh, as they are test settings, not records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from local.sandbox.persist import StateFile, dump, shape_of
from local.sandbox.xero import identity_state
from local.sandbox.xero.orgs import Org
from local.sandbox.xero.state import Replay, SandboxState

SHAPE = shape_of(
    Org,
    Replay,
    identity_state.App,
    identity_state.Consent,
    identity_state.Grant,
    identity_state.RefreshToken,
    identity_state.Connection,
)
_IDENTITY = ("apps", "consents", "grants", "refresh_tokens", "access_tokens", "connections")


def snapshot(state: SandboxState) -> bytes:
    identity = state.identity
    with state.lock, identity.lock:
        return dump(
            {
                "orgs": state.orgs,
                "identity": {name: getattr(identity, name) for name in _IDENTITY},
                "idempotency": state.idempotency,
                "webhooks": (state.webhooks.url, state.webhooks.key),
                "limits": state.limiter.windows(),
            }
        )


def restore(state: SandboxState, saved: dict[str, Any]) -> None:
    with state.lock:
        state.orgs = saved["orgs"]
        for name, value in saved["identity"].items():
            setattr(state.identity, name, value)
        state.idempotency = saved["idempotency"]
        state.webhooks.configure(*saved["webhooks"])
        state.limiter.restore_windows(saved["limits"])


def state_file(state: SandboxState, folder: Path) -> StateFile:
    return StateFile(folder / "state.pickle", SHAPE, lambda: snapshot(state))
