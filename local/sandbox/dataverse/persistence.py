"""What of the sandbox Dataverse survives a restart of `make run`: every environment's table definitions
(the connector's columns and tables), rows (invoices, accounts, the service endpoints and steps that make
its webhooks), rowversion counter and privileges, and the Entra ID and AD FS stand-ins' codes, access and
refresh tokens (and AD FS's registered applications) — so the connector's saved sign-in still works.
Faults, limits and delivery logs start fresh.

The built-in tables and system rows are Dataverse's own: when this checkout defines them differently
from the saved state (a `git pull`), the saved state is set aside and the sandbox starts fresh (the
connection then needs connecting and installing again), rather than serving yesterday's platform."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from local.sandbox.persist import StateFile, dump, shape_of

from . import (
    adfs_grants,
    identity_grants,
    metadata_builtin,
    metadata_columns,
    metadata_model,
    metadata_plugins,
    system_rows,
)
from .identity import IdentityService
from .store import Ref, SandboxState

SHAPE = shape_of(
    Ref,
    metadata_model.Table,
    metadata_model.Attribute,
    metadata_model.ManyToOne,
    metadata_model.OneToMany,
    metadata_model.AlternateKey,
    identity_grants.AuthorizeRequest,
    identity_grants.AuthorizationCode,
    identity_grants.AccessToken,
    identity_grants.RefreshToken,
    adfs_grants.AdfsUser,
    adfs_grants.AdfsClient,
    adfs_grants.Issued,
    adfs_grants.Code,
    platform=(metadata_builtin, metadata_columns, metadata_plugins, system_rows),
)
_ENVIRONMENT = ("tables", "rows", "version", "next_object_type_code", "privileges", "user_kinds")
_GRANTS = ("_requests", "_codes", "_access", "_refresh")
_ADFS = ("clients", "codes", "access", "refresh")


def snapshot(state: SandboxState, identity: IdentityService, adfs: adfs_grants.AdfsGrants) -> bytes:
    grants = identity.grants
    with ExitStack() as held:
        for env in state.environments.values():
            held.enter_context(env.lock)
        held.enter_context(grants._lock)
        held.enter_context(adfs.lock)
        return dump(
            {
                "environments": {
                    name: {field: getattr(env, field) for field in _ENVIRONMENT}
                    for name, env in state.environments.items()
                },
                "grants": {field: getattr(grants, field) for field in _GRANTS},
                "adfs": {field: dict(getattr(adfs, field)) for field in _ADFS},
            }
        )


def restore(
    state: SandboxState, identity: IdentityService, adfs: adfs_grants.AdfsGrants, saved: dict[str, Any]
) -> None:
    """Environments this version knows get their saved contents; one it no longer hosts is dropped."""
    for name, contents in saved["environments"].items():
        env = state.environments.get(name)
        if env is None:
            continue
        with env.lock:
            for field, value in contents.items():
                setattr(env, field, value)
            env._tables_copy = None
    grants = identity.grants
    with grants._lock:
        for field, value in saved["grants"].items():
            setattr(grants, field, value)
    with adfs.lock:
        for field, value in saved.get("adfs", {}).items():
            setattr(adfs, field, value)


def state_file(
    state: SandboxState, identity: IdentityService, adfs: adfs_grants.AdfsGrants, folder: Path
) -> StateFile:
    return StateFile(folder / "state.pickle", SHAPE, lambda: snapshot(state, identity, adfs))
