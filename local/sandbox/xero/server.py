"""XeroSandbox: the sandbox server for tests (in-process) and `make run` (python -m local.sandbox.xero)."""

from __future__ import annotations

import logging

from local.sandbox.common import ServerThread
from local.sandbox.xero.app import XeroApp
from local.sandbox.xero.state import SandboxState


class XeroSandbox:
    """`XeroSandbox(time_scale=1.0, seed="demo").start(port=0)`; then `.url`, `.state`, `.stop()`."""

    def __init__(self, time_scale: float = 1.0, seed: str | None = "demo") -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.state = SandboxState(time_scale)
        if seed:
            self.state.seed(seed)
        self.app = XeroApp(self.state)
        self._server: ServerThread | None = None

    def start(self, port: int = 0) -> XeroSandbox:
        self._server = ServerThread(self.app, port=port).start()
        self.state.base_url = self._server.url
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.state.webhooks.stop()

    def __enter__(self) -> XeroSandbox:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
