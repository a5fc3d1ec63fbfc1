"""The month's invoice count per connection (shared/billing/usage.py) on real Azurite: the count read
before a push serves the increment after it (no second read), and no increment is ever lost to a writer
that came in between."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from azure.data.tables import TableClient

from shared.billing.usage import UsageStore
from shared.config import Settings
from shared.storage import table_service

NOW = datetime(2026, 12, 8, 5, 0, tzinfo=UTC)


class CountingReads:
    """The real table client, counting point reads."""

    def __init__(self, table: TableClient) -> None:
        self._table, self.reads = table, 0

    def get_entity(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return self._table.get_entity(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _table(storage_connection: str, name: str) -> TableClient:
    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection})
    return table_service(settings).create_table_if_not_exists(name)


def test_the_count_read_before_a_push_serves_its_increment(storage_connection: str, unique_name: str) -> None:
    table = CountingReads(_table(storage_connection, unique_name))
    usage = UsageStore(table)  # type: ignore[arg-type]
    assert usage.add_one("c1", NOW) == (0, 1)  # the month's first: created

    for expected in range(1, 6):
        assert usage.count("c1", NOW) == expected
        reads = table.reads
        assert usage.add_one("c1", NOW) == (expected, expected + 1)
        assert table.reads == reads  # no read between the count and its increment

    assert table.get_entity("c1", "2026-12")["count"] == 6


def test_a_write_between_count_and_increment_is_not_lost(storage_connection: str, unique_name: str) -> None:
    table = _table(storage_connection, unique_name)
    mine, other = UsageStore(table), UsageStore(table)  # two instances of the worker
    other.add_one("c1", NOW)
    assert mine.count("c1", NOW) == 1

    other.add_one("c1", NOW)  # another instance sent an invoice meanwhile
    assert mine.add_one("c1", NOW) == (2, 3)
    assert mine.count("c1", NOW) == 3


def test_parallel_pushes_count_every_invoice(storage_connection: str, unique_name: str) -> None:
    table = _table(storage_connection, unique_name)
    usage = UsageStore(table)

    def push(_: int) -> None:
        usage.count("c1", NOW)
        usage.add_one("c1", NOW)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(push, range(40)))

    assert usage.count("c1", NOW) == 40
