"""XeroSandbox: the sandbox server for tests (in-process) and `make run` (python -m local.sandbox.xero)."""

from __future__ import annotations

from pathlib import Path

from local.sandbox.common import ServedSandbox, WSGIApp
from local.sandbox.persist import StateFile, persisting
from local.sandbox.xero import persistence
from local.sandbox.xero.app import XeroApp
from local.sandbox.xero.state import SandboxState


class XeroSandbox(ServedSandbox):
    """`XeroSandbox(time_scale=1.0, seed="demo").start(port=0)`; then `.url`, `.state`, `.stop()`.

    With `state_dir` (as in `make run`), what it holds is kept there and restored on the next start; the
    seed only fills a sandbox that has nothing saved."""

    def __init__(
        self, time_scale: float = 1.0, seed: str | None = "demo", state_dir: Path | None = None
    ) -> None:
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

    def wsgi_app(self) -> WSGIApp:
        return persisting(self.app, self.state_file) if self.state_file else self.app

    def _started(self, url: str) -> None:
        self.state.base_url = url

    def _stopped(self) -> None:
        self.state.webhooks.stop()
        if self.state_file is not None:
            self.state_file.close()
