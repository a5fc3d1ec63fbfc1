"""Where the sandbox keeps each environment's tables and rows, in memory.

One lock per environment serialises writes (and whole atomic change sets); `snapshot`/`restore` give a
change set its all-or-nothing behaviour. Values are plain Python: str, int, float, bool, None, `Ref` for
lookups, and ISO-8601 UTC strings for dates."""

from __future__ import annotations

import copy
import datetime as dt
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from .metadata_builtin import builtin_tables
from .metadata_model import Table, metadata_id

Row = dict[str, Any]


@dataclass(frozen=True)
class Ref:
    """A lookup value: which row of which table."""

    id: str
    table: str


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id() -> str:
    return str(uuid.uuid4())


class EnvironmentState:
    """One Dataverse environment (organisation): its definitions, rows and security settings."""

    def __init__(self, url_name: str, organization_id: str, unique_name: str, friendly_name: str) -> None:
        self.url_name = url_name
        self.organization_id = organization_id
        self.unique_name = unique_name
        self.friendly_name = friendly_name
        self.business_unit_id = metadata_id("businessunit", organization_id)
        self.product_version = "9.2.25044.00180"  # what RetrieveVersion answers (online's current release)
        self.lock = threading.RLock()
        # how long a new alternate key stays Pending, and whether its index build fails (sandbox limits)
        self.key_build_seconds, self.key_build_fails = 0.0, False
        self.tables: dict[str, Table] = {}
        self.rows: dict[str, dict[str, Row]] = {}
        self.version = 1_000_000  # rowversion is database-wide in Dataverse, so one counter per environment
        self.next_object_type_code = 10_000
        self.privileges: dict[str, set[str]] = {}  # systemuserid -> privilege names
        self.user_kinds: dict[str, str] = {}  # systemuserid -> "admin" | "limited" (default privilege sets)
        self._tables_copy: tuple[tuple[Any, ...], dict[str, Table]] | None = None
        for table in builtin_tables():
            self.add_table(table)

    def add_table(self, table: Table) -> None:
        self.tables[table.logical_name] = table
        self.rows.setdefault(table.logical_name, {})

    def table(self, logical_name: str) -> Table | None:
        return self.tables.get(logical_name)

    def table_for_set(self, entity_set: str) -> Table | None:
        return next((t for t in self.tables.values() if t.entity_set == entity_set), None)

    def next_version(self) -> int:
        self.version += 1
        return self.version

    def get(self, table: str, row_id: str) -> Row | None:
        return self.rows.get(table, {}).get(row_id.lower())

    def all_rows(self, table: str) -> list[Row]:
        return list(self.rows.get(table, {}).values())

    def snapshot(self) -> tuple[Any, ...]:
        """What a failed change set rolls back to. Taken for every deep insert and every change set, so it
        must stay cheap as rows pile up: row values are immutable (see above), so copying each row dict
        is enough, and the definitions — big, and changed only by the metadata API — are deep-copied
        only when they changed since the last snapshot."""
        mark = self._metadata_mark()
        if self._tables_copy is None or self._tables_copy[0] != mark:
            self._tables_copy = (mark, copy.deepcopy(self.tables))
        return (
            self._tables_copy[1],
            _copy_rows(self.rows),
            self.version,
            self.next_object_type_code,
            {user: set(names) for user, names in self.privileges.items()},
        )

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        tables, rows, self.version, self.next_object_type_code, privileges = snapshot
        self.tables = copy.deepcopy(tables)  # the snapshot's copy stays untouched: it may be reused
        self.rows = _copy_rows(rows)
        self.privileges = {user: set(names) for user, names in privileges.items()}
        self._tables_copy = None

    def _metadata_mark(self) -> tuple[Any, ...]:
        """Changes whenever the metadata API adds or removes a table, column, relationship or key."""
        return tuple(
            (name, id(t), len(t.attributes), len(t.many_to_one), len(t.one_to_many), len(t.keys))
            for name, t in self.tables.items()
        )


def _copy_rows(rows: dict[str, dict[str, Row]]) -> dict[str, dict[str, Row]]:
    return {table: {row_id: dict(row) for row_id, row in by_id.items()} for table, by_id in rows.items()}


class SandboxState:
    """All environments by URL name (`contoso` in `/env/contoso/`)."""

    def __init__(self) -> None:
        self.environments: dict[str, EnvironmentState] = {}

    def add(self, environment: EnvironmentState) -> None:
        self.environments[environment.url_name] = environment

    def get(self, url_name: str) -> EnvironmentState | None:
        return self.environments.get(url_name)

    def rows(self, url_name: str, entity_set: str) -> list[Row]:
        """Stored rows for tests: `sb.state.rows("contoso", "invoices")`."""
        env = self.environments[url_name]
        table = env.table_for_set(entity_set)
        if table is None:
            raise KeyError(entity_set)
        with env.lock:
            return copy.deepcopy(env.all_rows(table.logical_name))
