"""StripeSandbox: the stand-in for tests (in-process) and `make run` (python -m local.sandbox.stripe)."""

from __future__ import annotations

from local.sandbox.common import ServedSandbox, WSGIApp
from local.sandbox.stripe.app import StripeApp
from local.sandbox.stripe.state import StripeState

SECRET_KEY = "sk_test_standin"  # noqa: S105 - what the stand-in accepts; the product's STRIPE_SECRET_KEY locally


class StripeSandbox(ServedSandbox):
    """`StripeSandbox(webhook_url, webhook_secret).start(port=0)`; then `.url`, `.state`, `.stop()`."""

    def __init__(
        self, webhook_url: str | None = None, webhook_secret: str = "", secret_key: str = SECRET_KEY
    ) -> None:
        self.state = StripeState(webhook_url, webhook_secret)
        self.app = StripeApp(self.state, secret_key)

    def wsgi_app(self) -> WSGIApp:
        return self.app

    def _started(self, url: str) -> None:
        self.state.base_url = url

    def _stopped(self) -> None:
        self.state.webhooks.stop()
