"""Building blocks of table definitions: typed columns, state/status pairs, the system columns every
table has (id, createdon, modifiedon, versionnumber, createdby, modifiedby)."""

from __future__ import annotations

from .metadata_model import (
    BIGINT,
    CUSTOMER,
    DATETIME,
    LOOKUP,
    MEMO,
    MONEY,
    STATE,
    STATUS,
    STRING,
    UNIQUEID,
    Attribute,
    Table,
)

ACTIVE_INACTIVE = ({0: "Active", 1: "Inactive"}, {1: (0, "Active"), 2: (1, "Inactive")})


def s(name: str, max_length: int = 100, **kw: object) -> Attribute:
    return Attribute(name, STRING, max_length=max_length, **kw)  # type: ignore[arg-type]


def memo(name: str, max_length: int = 2000) -> Attribute:
    return Attribute(name, MEMO, max_length=max_length)


def money(name: str, computed: bool = False) -> Attribute:
    return Attribute(
        name, MONEY, precision=2, computed=computed, min_value=-922337203685477, max_value=922337203685477
    )


def lookup(name: str, *targets: str, computed: bool = False) -> Attribute:
    kind = CUSTOMER if targets == ("account", "contact") else LOOKUP
    return Attribute(name, kind, targets=targets, computed=computed)


def state_status(table: Table, states: dict[int, str], statuses: dict[int, tuple[int, str]]) -> None:
    table.add(Attribute("statecode", STATE, options=states))
    defaults: dict[int, int] = {}
    for code, (state, _label) in statuses.items():
        defaults.setdefault(state, code)
    table.add(
        Attribute(
            "statuscode",
            STATUS,
            options={code: label for code, (_s, label) in statuses.items()},
            status_state={code: state for code, (state, _l) in statuses.items()},
            default_status=defaults,
        )
    )


def system_columns(table: Table) -> None:
    """Columns Dataverse adds to every table; the store fills them, writes to them are ignored."""
    table.add(Attribute(table.primary_id, UNIQUEID))
    table.add(Attribute("createdon", DATETIME, computed=True))
    table.add(Attribute("modifiedon", DATETIME, computed=True))
    table.add(Attribute("versionnumber", BIGINT, computed=True))
    table.add(lookup("createdby", "systemuser", computed=True))
    table.add(lookup("modifiedby", "systemuser", computed=True))


def new_table(logical: str, entity_set: str, primary_name: str, otc: int, display: str, **kw: str) -> Table:
    table = Table(logical, entity_set, f"{logical}id", primary_name, otc, display_name=display, **kw)  # type: ignore[arg-type]
    system_columns(table)
    return table
