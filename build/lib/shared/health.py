"""The health check: can this app reach its queue and table storage right now, and did App Service resolve
every Key Vault reference among its settings?"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared import __version__
from shared.config import UNRESOLVED_REASON, Settings
from shared.storage import queue_service, table_service

PROBE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Health:
    ok: bool
    body: dict[str, Any]


def _probe(check: Callable[[], Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
    except Exception as error:  # any failure is "down"; the type says why without leaking secrets
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def check_health(settings: Settings) -> Health:
    """Ask both services one cheap question each, in parallel, each bounded by a timeout."""
    # One try, bounded: a health probe that retries for a minute is itself unhealthy.
    options = {
        "retry_total": 0,
        "connection_timeout": PROBE_TIMEOUT_SECONDS,
        "read_timeout": PROBE_TIMEOUT_SECONDS,
    }

    def queues() -> Any:
        return next(iter(queue_service(settings, **options).list_queues(results_per_page=1).by_page()), None)

    def tables() -> Any:
        return next(iter(table_service(settings, **options).list_tables(results_per_page=1).by_page()), None)

    with ThreadPoolExecutor(max_workers=2) as pool:
        queue_result, table_result = pool.map(_probe, (queues, tables))
    key_vault = _key_vault_references(settings)
    ok = queue_result["ok"] and table_result["ok"] and key_vault["ok"]
    body = {
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "checks": {"queues": queue_result, "tables": table_result, "key_vault": key_vault},
    }
    return Health(ok, body)


def _key_vault_references(settings: Settings) -> dict[str, Any]:
    """Names (never values) of the settings App Service left as unresolved Key Vault references."""
    if not settings.unresolved_references:
        return {"ok": True}
    return {"ok": False, "unresolved": list(settings.unresolved_references), "reason": UNRESOLVED_REASON}
