"""The collaborators every account service needs, built once per worker from the settings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.config import Settings
from shared.email.message import EmailSender
from shared.store.accounts import AccountStore
from shared.store.limits import LimitStore
from shared.store.models import utc_now


@dataclass
class AccountServices:
    store: AccountStore
    limits: LimitStore  # the abuse counters (shared/accounts/abuse.py)
    mailer: EmailSender
    secret: str  # SESSION_SECRET: signs e-mail links
    base_url: str  # PUBLIC_BASE_URL: e-mail links point here
    clock: Callable[[], datetime] = utc_now

    def link(self, path: str, token: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}?token={token}"


@functools.cache
def services(settings: Settings) -> AccountServices:
    from shared.email.senders import sender_from_settings

    return AccountServices(
        store=AccountStore.from_settings(settings),
        limits=LimitStore.from_settings(settings),
        mailer=sender_from_settings(settings),
        secret=settings.session_secret,
        base_url=settings.public_base_url,
    )
