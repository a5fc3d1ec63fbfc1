"""`make run`: Azurite, the sandbox Xero and Dataverse (when no real credentials are configured), the SMTP
sink (the development mailbox) and the local Functions host, each a child process; Ctrl-C or SIGTERM
stops them all, by PID, newest first."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from local.azurite import PROJECT_ROOT, start_azurite
from local.host.app_settings import apply_settings
from local.ports import wait_for_port

STATE = PROJECT_ROOT / ".local"
SANDBOX_XERO_CLIENT = "sandbox-xero-client"
SANDBOX_MS_CLIENT = "sandbox-ms-client"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def _port_of(url: str, default: int) -> int:
    tail = url.rsplit(":", 1)[-1].split("/")[0]
    return int(tail) if tail.isdigit() else default


def _spawn(name: str, args: list[str], port: int, log_name: str) -> Child:
    log = open(STATE / log_name, "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        [sys.executable, *args], cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, timeout=60)
    except TimeoutError:
        process.kill()
        raise SystemExit(f"{name} did not start on port {port}: see {STATE / log_name}") from None
    print(f"  {name:<18} pid {process.pid:<7} port {port}   log {STATE / log_name}", flush=True)
    return Child(name, process)


def _wanted(module: str, client_id: str, sandbox_client: str) -> bool:
    """A sandbox runs when the settings point at it (its client id) and it exists in this checkout."""
    return client_id in ("", sandbox_client) and importlib.util.find_spec(module) is not None


def main() -> int:
    STATE.mkdir(exist_ok=True)
    settings = apply_settings(PROJECT_ROOT)
    children: list[Child] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print("Starting the connector locally:")
    azurite = start_azurite(STATE / "azurite", (10000, 10001, 10002), STATE / "azurite.log")
    print(f"  {'azurite':<18} pid {azurite.process.pid:<7} ports 10000-10002   data {STATE / 'azurite'}")
    try:
        if _wanted("local.sandbox.xero", settings.get("XERO_CLIENT_ID", ""), SANDBOX_XERO_CLIENT):
            port = _port_of(settings.get("XERO_API_URL", ""), 7081)
            children.append(
                _spawn("sandbox Xero", ["-m", "local.sandbox.xero", "--port", str(port)], port, "xero.log")
            )
        if _wanted("local.sandbox.dataverse", settings.get("MS_CLIENT_ID", ""), SANDBOX_MS_CLIENT):
            port = _port_of(settings.get("DATAVERSE_DISCOVERY_URL", ""), 7082)
            args = [
                "-m",
                "local.sandbox.dataverse",
                "--port",
                str(port),
                "--cert-dir",
                str(STATE / "sandbox-certs"),
            ]
            children.append(_spawn("sandbox Dataverse", args, port, "dataverse.log"))
        smtp_port = int(settings.get("SMTP_PORT") or 7025)
        mailbox = settings.get("DEV_MAILBOX_DIR") or str(STATE / "mailbox")
        sink_args = ["-m", "local.smtp_sink", "--port", str(smtp_port), "--dir", mailbox]
        children.append(_spawn("SMTP sink", sink_args, smtp_port, "smtp.log"))
        host_port = int(os.environ.get("LOCAL_HOST_PORT", "7071"))
        children.append(
            _spawn("functions host", ["-m", "local.host", "--port", str(host_port)], host_port, "host.log")
        )
        base = f"http://127.0.0.1:{host_port}"
        print(f"\nOpen {base}/  (health: {base}/api/health). Ctrl-C stops everything.", flush=True)
        while not stopping:
            for child in children:
                if child.process.poll() is not None:
                    print(
                        f"{child.name} exited with code {child.process.returncode}; stopping the rest",
                        flush=True,
                    )
                    stopping = True
            time.sleep(0.5)
    finally:
        for child in reversed(children):
            child.process.terminate()
        for child in reversed(children):
            try:
                child.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                child.process.kill()
        azurite.stop()
        print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
