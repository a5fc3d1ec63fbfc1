"""The collaborators every account service needs; shared/bootstrap.py builds them once per worker and
hands them in (`account_services()`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.accounts.breached import PwnedPasswords
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
    breached: PwnedPasswords | None = None  # the k-anonymity breach check, when PWNED_PASSWORDS_URL is set

    def link(self, path: str, token: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}?token={token}"
