"""`make run` as a newcomer runs it, for tests: a copy of the project in a temporary folder (so its
`.local/` is not the developer's, and no `local.settings.json` of theirs), the launcher `make run` invokes
(`.venv/bin/python -m local.run`) with the sample settings, and free ports passed the way a user moves a
port — the environment overriding the settings that name it. Stopped with SIGINT to its process group, as
the terminal's Ctrl-C does."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from local.azurite import connection_string
from local.ports import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT_ROOT / "local.settings.sample.json"
# What a fresh clone holds that `make run` needs (tests, bench and infra are not part of running it).
_NOT_COPIED = {
    ".git", ".local", "test-artifacts", "tests", "bench", "infra", "node_modules", "local.settings.json",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__",
}  # fmt: skip
READY_LINE = "Open http://"


def sample_settings() -> dict[str, str]:
    return {str(k): str(v) for k, v in json.loads(SAMPLE.read_text())["Values"].items()}


@dataclass
class Ports:
    host: int = field(default_factory=free_port)
    xero: int = field(default_factory=free_port)
    dataverse: int = field(default_factory=free_port)
    smtp: int = field(default_factory=free_port)
    stripe: int = field(default_factory=free_port)
    storage: tuple[int, int, int] = field(default_factory=lambda: (free_port(), free_port(), free_port()))

    def overrides(self) -> dict[str, str]:
        """The settings a user changes to move each process (README: the environment overrides them)."""
        xero, dataverse = f"http://127.0.0.1:{self.xero}", f"https://127.0.0.1:{self.dataverse}"
        return {
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.host}",
            "XERO_LOGIN_URL": xero, "XERO_IDENTITY_URL": xero, "XERO_API_URL": xero,
            "MS_AUTHORITY_HOST": dataverse, "DATAVERSE_DISCOVERY_URL": dataverse,
            "DEV_DATAVERSE_SANDBOX_ORIGIN": dataverse,
            "SMTP_PORT": str(self.smtp),
            "STRIPE_API_BASE": f"http://127.0.0.1:{self.stripe}",
            "AzureWebJobsStorage": connection_string(*self.storage),
        }  # fmt: skip

    def all(self) -> list[int]:
        return [self.host, self.xero, self.dataverse, self.smtp, self.stripe, *self.storage]


def copy_project(target: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in _NOT_COPIED or n.startswith(".venv")}

    shutil.copytree(PROJECT_ROOT, target, ignore=ignore, symlinks=True)
    (target / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")  # Azurite, as `npm ci` left it
    return target


class MakeRun:
    """One `make run` in `root`; start() waits for its "Open …" line, interrupt() is Ctrl-C."""

    def __init__(self, root: Path, ports: Ports) -> None:
        self.root, self.ports = root, ports
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.pids: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.host}"

    @property
    def xero_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.xero}"

    @property
    def dataverse_url(self) -> str:
        return f"https://127.0.0.1:{self.ports.dataverse}"

    def environment(self) -> dict[str, str]:
        # The test runner's own settings (other fixtures set some) are not the newcomer's: drop every
        # setting the sample names, then move the ports.
        env = {k: v for k, v in os.environ.items() if k not in sample_settings()}
        env.pop("LOCAL_HOST_PORT", None)
        env.update(self.ports.overrides())
        return env

    def start(self, timeout: float = 90.0) -> MakeRun:
        self.lines = []
        self.process = subprocess.Popen(
            [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "local.run"],
            cwd=self.root,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            process_group=0,  # the terminal's foreground group: what Ctrl-C signals
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not any(READY_LINE in line for line in self.lines):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError("make run did not start:\n" + self.output())
            time.sleep(0.1)
        self.pids = descendants(self.process.pid) | {self.process.pid}
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def interrupt(self, timeout: float = 30.0) -> float:
        """Ctrl-C: SIGINT to the launcher's process group; the seconds until it exited."""
        assert self.process is not None
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(timeout=timeout)
        return time.monotonic() - started

    def kill(self) -> None:
        """Clean-up after a failed test: whatever this run started, gone."""
        if self.process is not None and self.process.poll() is None:
            self.pids |= descendants(self.process.pid)
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for pid in still_running(self.pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc: parent ids)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(text.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def still_running(pids: set[int]) -> set[int]:
    """Those of `pids` that exist and are not zombies."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive
