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
        self.lock = threading.RLock()
        self.tables: dict[str, Table] = {}
        self.rows: dict[str, dict[str, Row]] = {}
        self.version = 1_000_000  # rowversion is database-wide in Dataverse, so one counter per environment
        self.next_object_type_code = 10_000
        self.privileges: dict[str, set[str]] = {}  # systemuserid -> privilege names
        self.user_kinds: dict[str, str] = {}  # systemuserid -> "admin" | "limited" (default privilege sets)
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
        return copy.deepcopy(
            (self.tables, self.rows, self.version, self.next_object_type_code, self.privileges)
        )

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        self.tables, self.rows, self.version, self.next_object_type_code, self.privileges = copy.deepcopy(
            snapshot
        )


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
