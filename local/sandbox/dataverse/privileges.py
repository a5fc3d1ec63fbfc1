"""Security roles, reduced to what the connector can observe: named privileges per user, checked on
every Web API call and reported by RetrieveUserPrivileges.

- The admin (and every application user) holds everything, including the privileges of custom tables
  created later (System Administrator gets them automatically in Dataverse).
- The limited user can read every built-in table but cannot write invoices or accounts, cannot change
  metadata and cannot register webhooks; custom tables give it nothing.
- invoicedetail has no privileges of its own in Dataverse (its rows belong to the invoice): reading lines
  needs prvReadInvoice; creating, changing or deleting lines needs prvWriteInvoice (sandbox choice)."""

from __future__ import annotations

from .errors import missing_privilege
from .metadata_builtin import builtin_tables
from .metadata_model import Table, metadata_id
from .store import EnvironmentState

VERBS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share")
METADATA = tuple(
    f"prv{verb}{thing}"
    for thing in ("Entity", "Attribute", "EntityKey")
    for verb in ("Create", "Read", "Write", "Delete")
)
_LIMITED_MISSING = {f"prv{v}{t}" for t in ("Invoice", "Account") for v in ("Create", "Write", "Delete")}
_LIMITED_MISSING |= {
    f"prv{v}{t}"
    for t in ("ServiceEndpoint", "SdkMessageProcessingStep")
    for v in ("Create", "Write", "Delete")
}
_LIMITED_MISSING |= {p for p in METADATA if not p.startswith("prvRead")}
_METHOD_VERB = {"GET": "Read", "POST": "Create", "PATCH": "Write", "PUT": "Write", "DELETE": "Delete"}


def table_privileges(table: Table) -> set[str]:
    return {f"prv{verb}{table.privilege_name}" for verb in VERBS}


def default_privileges(env: EnvironmentState, kind: str) -> set[str]:
    if kind == "none":  # a user (an application user) with no security role holds no privilege
        return set()
    if kind == "limited":
        every = set().union(*(table_privileges(t) for t in builtin_tables()), METADATA)
        return every - _LIMITED_MISSING
    return set().union(*(table_privileges(t) for t in env.tables.values()), METADATA)


def privileges_of(env: EnvironmentState, user_id: str) -> set[str]:
    if user_id not in env.privileges:
        env.privileges[user_id] = default_privileges(env, env.user_kinds.get(user_id, "admin"))
    return env.privileges[user_id]


def grant_new_table(env: EnvironmentState, table: Table) -> None:
    """A new custom table's privileges go to everyone who may create tables (the admin role)."""
    for user_id in list(env.privileges):
        if "prvCreateEntity" in privileges_of(env, user_id):
            env.privileges[user_id] |= table_privileges(table)


def required_privilege(table: Table, method: str) -> str:
    verb = _METHOD_VERB.get(method, "Read")
    if table.logical_name == "invoicedetail" and verb != "Read":
        verb = "Write"
    return f"prv{verb}{table.privilege_name}"


def require(env: EnvironmentState, user_id: str, privilege: str, table: Table | None = None) -> None:
    if privilege not in privileges_of(env, user_id):
        otc = table.object_type_code if table else 0
        name = table.logical_name if table else "EntityMetadata"
        raise missing_privilege(user_id, privilege, privilege_id(privilege), otc, name)


def privilege_id(name: str) -> str:
    return metadata_id("privilege", name)


def role_privileges(env: EnvironmentState, user_id: str) -> list[dict[str, str]]:
    return [
        {
            "Depth": "Global",
            "PrivilegeId": privilege_id(name),
            "BusinessUnitId": env.business_unit_id,
            "PrivilegeName": name,
        }
        for name in sorted(privileges_of(env, user_id))
    ]
