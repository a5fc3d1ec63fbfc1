"""Rows every environment has before anyone uses it: the root business unit, the users (from the
identity stand-in), the SDK messages and their per-table filters a webhook step binds to, the base
currency (USD) and a default unit. Ids are stable so ids seen yesterday still resolve today."""

from __future__ import annotations

from typing import Any

from .identity import IdentityService, Principal
from .metadata_model import Table, metadata_id
from .records import WriteContext, create_row
from .store import EnvironmentState, Ref, Row

# Dataverse's timezonecode values (the Microsoft Time Zone Index Values) with their Windows ids; the
# business is in New Zealand like the Xero demo company, its administrator works in Auckland.
TIME_ZONES = (
    (92, "UTC", "(GMT) Coordinated Universal Time"),
    (85, "GMT Standard Time", "(GMT) Dublin, Edinburgh, Lisbon, London"),
    (4, "Pacific Standard Time", "(GMT-08:00) Pacific Time (US & Canada)"),
    (35, "Eastern Standard Time", "(GMT-05:00) Eastern Time (US & Canada)"),
    (255, "AUS Eastern Standard Time", "(GMT+10:00) Canberra, Melbourne, Sydney"),
    (290, "New Zealand Standard Time", "(GMT+12:00) Auckland, Wellington"),
)
USER_TIME_ZONES = {"admin": 290, "limited": 85}  # an application user keeps the default (UTC)
MESSAGES = ("Create", "Update", "Delete", "Retrieve", "RetrieveMultiple", "Assign", "SetState")
FILTERED_MESSAGES = ("Create", "Update", "Delete", "Assign", "SetState")
SYSTEM = "00000000-0000-0000-0000-000000000001"  # "SYSTEM" user that owns what the sandbox creates itself


def put(env: EnvironmentState, table_name: str, row_id: str, values: Row) -> Row:
    """Create a row unless it exists; system rows fire no webhooks."""
    existing = env.get(table_name, row_id)
    if existing is not None:
        return existing
    return create_row(env, env.tables[table_name], values, WriteContext(SYSTEM, ""), row_id=row_id)


def install_system_rows(env: EnvironmentState, identity: IdentityService) -> None:
    with env.lock:
        put(env, "businessunit", env.business_unit_id, {"name": env.unique_name})
        put(env, "systemuser", SYSTEM, {"fullname": "SYSTEM", "businessunitid": _unit(env)})
        for user in identity.users():
            user_id = _user_id(user, env)
            env.user_kinds[user_id] = str(user.get("kind") or "admin")
            put(
                env,
                "systemuser",
                user_id,
                {
                    "fullname": user.get("display_name") or user.get("name") or user.get("upn"),
                    "domainname": user.get("upn"),
                    "internalemailaddress": user.get("upn"),
                    "azureactivedirectoryobjectid": user.get("object_id") or user.get("user_id"),
                    "businessunitid": _unit(env),
                    "isdisabled": env.url_name in (user.get("disabled_in") or ()),
                },
            )
        for code, windows_id, label in TIME_ZONES:
            put(
                env,
                "timezonedefinition",
                metadata_id("timezone", str(code)),
                {"timezonecode": code, "standardname": windows_id, "userinterfacename": label},
            )
        for user in identity.users():
            code = USER_TIME_ZONES.get(str(user.get("kind") or "admin"), 92)
            put(env, "usersettings", _user_id(user, env), {"timezonecode": code})
        for app in identity.application_users():
            user_id = app["systemuserids"].get(env.url_name)
            if not user_id:  # an app registered for another environment only
                continue
            put(
                env,
                "systemuser",
                user_id,
                {"fullname": app.get("display_name"), "businessunitid": _unit(env)},
            )
        # Learn, "Solution concepts": every environment has the Default Solution, whose default publisher
        # owns the prefix "new"; other prefixes exist only once someone creates their publisher
        publisher = put(
            env, "publisher", metadata_id("publisher", env.organization_id, "default"),
            {"uniquename": f"DefaultPublisher{env.unique_name}", "friendlyname": "Default Publisher",
             "customizationprefix": "new", "customizationoptionvalueprefix": 10000},
        )["publisherid"]  # fmt: skip
        put(
            env, "solution", metadata_id("solution", env.organization_id, "Default"),
            {"uniquename": "Default", "friendlyname": "Default Solution", "version": "1.0",
             "publisherid": Ref(publisher, "publisher"), "ismanaged": False},
        )  # fmt: skip
        for name in MESSAGES:
            put(env, "sdkmessage", message_id(name), {"name": name})
        for table in list(env.tables.values()):
            install_message_filters(env, table)
        usd = metadata_id("currency", env.organization_id, "USD")
        put(
            env,
            "transactioncurrency",
            usd,
            {
                "currencyname": "US Dollar",
                "isocurrencycode": "USD",
                "currencysymbol": "$",
                "exchangerate": 1.0,
                "currencyprecision": 2,
            },
        )
        put(
            env,
            "uom",
            metadata_id("uom", env.organization_id, "Primary Unit"),
            {"name": "Primary Unit", "quantity": 1.0},
        )


def install_message_filters(env: EnvironmentState, table: Table) -> None:
    for name in FILTERED_MESSAGES:
        put(
            env,
            "sdkmessagefilter",
            metadata_id("filter", name, table.logical_name),
            {
                "name": f"{name} {table.logical_name}",
                "sdkmessageid": Ref(message_id(name), "sdkmessage"),
                "primaryobjecttypecode": table.logical_name,
                "secondaryobjecttypecode": "none",
                "iscustomprocessingstepallowed": True,
            },
        )


def message_id(name: str) -> str:
    return metadata_id("sdkmessage", name)


def ensure_systemuser(env: EnvironmentState, principal: Principal) -> None:
    """A principal the environment has not seen yet becomes a user: a person licensed in the tenant, or
    the application user an administrator created for an app (the Web API refuses apps without one)."""
    if env.get("systemuser", principal.user_id) is None:
        with env.lock:
            put(
                env,
                "systemuser",
                principal.user_id,
                {
                    "fullname": principal.upn or f"{principal.client_id} (application user)",
                    "domainname": principal.upn or None,
                    "businessunitid": _unit(env),
                },
            )


def _unit(env: EnvironmentState) -> Ref:
    return Ref(env.business_unit_id, "businessunit")


def _user_id(user: dict[str, Any], env: EnvironmentState) -> str:
    return str((user.get("systemuserids") or {}).get(env.url_name) or user.get("user_id"))
