"""StripeSandbox: the stand-in for tests (in-process) and `make run` (python -m local.sandbox.stripe)."""

from __future__ import annotations

import logging

from local.sandbox.common import ServerThread
from local.sandbox.stripe.app import StripeApp
from local.sandbox.stripe.state import StripeState

SECRET_KEY = "sk_test_standin"  # noqa: S105 - what the stand-in accepts; the product's STRIPE_SECRET_KEY locally


class StripeSandbox:
    """`StripeSandbox(webhook_url, webhook_secret).start(port=0)`; then `.url`, `.state`, `.stop()`."""

    def __init__(
        self, webhook_url: str | None = None, webhook_secret: str = "", secret_key: str = SECRET_KEY
    ) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.state = StripeState(webhook_url, webhook_secret)
        self.app = StripeApp(self.state, secret_key)
        self._server: ServerThread | None = None

    def start(self, port: int = 0) -> StripeSandbox:
        self._server = ServerThread(self.app, port=port).start()
        self.state.base_url = self._server.url
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.state.webhooks.stop()

    def __enter__(self) -> StripeSandbox:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
