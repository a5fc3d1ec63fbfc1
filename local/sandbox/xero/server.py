"""XeroSandbox: the sandbox server for tests (in-process) and `make run` (python -m local.sandbox.xero)."""

from __future__ import annotations

import logging
from pathlib import Path

from local.sandbox.common import ServerThread
from local.sandbox.persist import StateFile, persisting
from local.sandbox.xero import persistence
from local.sandbox.xero.app import XeroApp
from local.sandbox.xero.state import SandboxState


class XeroSandbox:
    """`XeroSandbox(time_scale=1.0, seed="demo").start(port=0)`; then `.url`, `.state`, `.stop()`.

    With `state_dir` (as in `make run`), what it holds is kept there and restored on the next start; the
    seed only fills a sandbox that has nothing saved."""

    def __init__(
        self, time_scale: float = 1.0, seed: str | None = "demo", state_dir: Path | None = None
    ) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.state = SandboxState(time_scale)
        self.state_file: StateFile | None = None
        saved = None
        if state_dir is not None:
            self.state_file = persistence.state_file(self.state, state_dir)
            saved = self.state_file.load()
        if saved is not None:
            persistence.restore(self.state, saved)
        elif seed:
            self.state.seed(seed)
        self.app = XeroApp(self.state)
        self._server: ServerThread | None = None

    def start(self, port: int = 0) -> XeroSandbox:
        app = persisting(self.app, self.state_file) if self.state_file else self.app
        self._server = ServerThread(app, port=port).start()
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
        if self.state_file is not None:
            self.state_file.close()

    def __enter__(self) -> XeroSandbox:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
