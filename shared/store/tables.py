"""Table clients for the connector's three tables, built from Settings.

Locally a connection string (Azurite); in Azure the identity-based table URI with DefaultAzureCredential
(imported only when needed: nothing heavy at import time). Each table is created once per process, on the
first use of its client.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.config import Settings

if TYPE_CHECKING:
    from azure.data.tables import TableClient, TableServiceClient

ACCOUNTS = "accounts"
CONNECTIONS = "connections"
OAUTH_STATE = "oauthstate"

_created: set[tuple[str, str]] = set()
_created_lock = threading.Lock()


@functools.cache
def table_service(settings: Settings) -> TableServiceClient:
    """One client per process and settings (shared.storage knows the local and the Azure way in)."""
    from shared.storage import table_service as build

    return build(settings)


def table_name(settings: Settings, base: str) -> str:
    name = settings.table_prefix + base
    if not name.isalnum() or not name[0].isalpha() or not 3 <= len(name) <= 63:
        raise ValueError(
            f"table name {name!r}: TABLE_PREFIX must be letters and digits, starting with a letter"
        )
    return name


def table_client(settings: Settings, base: str) -> TableClient:
    """A client for `<TABLE_PREFIX><base>`, creating the table the first time this process asks for it."""
    service = table_service(settings)
    name = table_name(settings, base)
    marker = (service.url, name)
    if marker not in _created:
        with _created_lock:
            if marker not in _created:
                service.create_table_if_not_exists(name)
                _created.add(marker)
    return service.get_table_client(name)


def replace_if_unchanged(table: TableClient, entity: Mapping[str, Any], etag: str | None) -> dict[str, Any]:
    """Replace a row only if nobody wrote it since it was read (its ETag), so two workers or instances can
    never overwrite each other's change; raises ResourceModifiedError (ResourceNotFoundError if it is gone)
    and the caller decides whether to read again or give up."""
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode

    return table.update_entity(
        entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified
    )
