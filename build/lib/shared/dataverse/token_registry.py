"""Token providers kept per worker process, so access tokens live in memory across queue messages.

Building a provider costs an identity-service round trip (MSAL reads the authority's configuration), and a
fresh app-only provider asks for a new token; reusing one per connection makes the usual message cost no
token traffic at all. A delegated provider is reused only while the stored cache is the one it last saw or
reported itself: a cache saved by another worker, or by a reconnect, gets a fresh provider from that cache.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import requests

from shared.config import Settings
from shared.dataverse.tokens import AppOnlyTokens, DelegatedTokens

MAX_PROVIDERS = 256
P = TypeVar("P", DelegatedTokens, AppOnlyTokens)


class TokenRegistry:
    def __init__(self, settings: Settings, session: requests.Session, max_size: int = MAX_PROVIDERS) -> None:
        self._settings, self._session, self._max = settings, session, max_size
        self._lock = threading.Lock()
        self._delegated: OrderedDict[str, DelegatedTokens] = OrderedDict()
        self._app_only: OrderedDict[str, AppOnlyTokens] = OrderedDict()

    def delegated(
        self,
        connection_id: str,
        cache_blob: str,
        home_account_id: str,
        tenant: str | None,
        on_cache_changed: Callable[[str], None] | None = None,
    ) -> DelegatedTokens:
        key = f"{connection_id}\x1f{home_account_id}"
        with self._lock:
            provider = self._delegated.get(key)
            if provider is None or provider.cache_blob != cache_blob:
                provider = DelegatedTokens(
                    self._settings, self._session, cache_blob, home_account_id, tenant=tenant
                )
                self._remember(self._delegated, key, provider)
            self._delegated.move_to_end(key)
            provider.on_cache_changed = on_cache_changed
            return provider

    def app_only(self, tenant_id: str, client_id: str = "", client_secret: str = "") -> AppOnlyTokens:
        # The secret is part of the key (hashed: keys may show up in a debugger), so a changed one is used.
        secret = hashlib.sha256(client_secret.encode()).hexdigest()
        key = f"{tenant_id}\x1f{client_id}\x1f{secret}"
        with self._lock:
            provider = self._app_only.get(key)
            if provider is None:
                provider = AppOnlyTokens(
                    self._settings, self._session, tenant_id, client_id=client_id, client_secret=client_secret
                )
                self._remember(self._app_only, key, provider)
            self._app_only.move_to_end(key)
            return provider

    def _remember(self, providers: OrderedDict[str, P], key: str, provider: P) -> None:
        providers[key] = provider
        while len(providers) > self._max:
            providers.popitem(last=False)
