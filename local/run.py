"""`make run`: Azurite, the sandbox Xero and Dataverse (when no real credentials are configured), the SMTP
sink (the development mailbox) and the local Functions host, each a child process.

Ports come from the settings (`local.settings.json`, else the sample, overridden by the environment): the
host's from PUBLIC_BASE_URL (or LOCAL_HOST_PORT), the sandboxes' from XERO_API_URL and
DATAVERSE_DISCOVERY_URL, Azurite's from AzureWebJobsStorage's endpoints, the sink's from SMTP_PORT — so one
setting moves a process and every client of it together.

Ctrl-C (or SIGTERM) stops them in order, saying what it stops: the host first, while storage and the
sandboxes still answer its in-flight work, then the rest together; all within STOP_BUDGET seconds. The
children run in their own process group, so the terminal's Ctrl-C reaches this launcher only (not Azurite
before the host that still uses it)."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from local.azurite import PROJECT_ROOT, start_azurite
from local.host.app_settings import apply_settings
from local.ports import wait_for_port

STATE = PROJECT_ROOT / ".local"
SANDBOX_XERO_CLIENT = "sandbox-xero-client"
SANDBOX_MS_CLIENT = "sandbox-ms-client"
SANDBOX_STRIPE_KEY = "sk_test_standin"  # local/sandbox/stripe/server.py SECRET_KEY
DEV_STORAGE_PORTS = (10000, 10001, 10002)  # UseDevelopmentStorage=true means these (Azurite's defaults)
LOCAL_HOSTS = ("127.0.0.1", "localhost")
HOST_STOP_SECONDS = 6.0  # the host finishes in-flight invocations within 5 s (its --stop-grace)
REST_STOP_SECONDS = 3.0
STOP_BUDGET = HOST_STOP_SECONDS + REST_STOP_SECONDS + 1.0  # the promise: within 10 s


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


def port_of(url: str, default: int) -> int:
    """The port a URL names, else its scheme's default, else `default` (no URL at all)."""
    parts = urlsplit(url)
    if parts.port:
        return parts.port
    return {"http": 80, "https": 443}.get(parts.scheme, default)


def storage_ports(connection_string: str) -> tuple[int, int, int] | None:
    """Azurite's (blob, queue, table) ports for a local storage setting; None when it names real Azure
    Storage (then nothing local is started for it)."""
    if connection_string.replace(" ", "").lower().rstrip(";") == "usedevelopmentstorage=true":
        return DEV_STORAGE_PORTS
    parts = dict(
        item.split("=", 1) for item in connection_string.split(";") if "=" in item
    )  # Endpoint values hold no ';'
    endpoints = [parts.get(f"{kind}Endpoint", "") for kind in ("Blob", "Queue", "Table")]
    if not all(urlsplit(e).hostname in LOCAL_HOSTS for e in endpoints):
        return None
    blob, queue, table = (port_of(e, 0) for e in endpoints)
    return blob, queue, table


def host_port(settings: dict[str, str]) -> int:
    if os.environ.get("LOCAL_HOST_PORT"):
        return int(os.environ["LOCAL_HOST_PORT"])
    public = settings.get("PUBLIC_BASE_URL", "")
    return port_of(public, 7071) if urlsplit(public).hostname in LOCAL_HOSTS else 7071


def _own_group() -> Callable[[], None]:
    """Runs in each child before exec: its own process group (Ctrl-C in the terminal goes to the
    foreground group only, so this launcher decides the order), and SIGTERM when the launcher dies, so
    nothing is left behind even if the launcher is killed."""

    def setup() -> None:
        os.setpgid(0, 0)
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)
        except (OSError, AttributeError):
            pass

    return setup


def ensure_free(name: str, port: int) -> None:
    """Refuse a port something else answers on: waiting for "our" process there would find the other
    one (typically a second `make run`) and report a start that did not happen."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        in_use = probe.connect_ex(("127.0.0.1", port)) == 0
    if in_use:
        raise SystemExit(
            f"{name}: port {port} is already in use (another `make run`?). Stop it, or move {name} to "
            "another port (README: Other ports)."
        )


def _spawn(name: str, args: list[str], port: int, log_name: str) -> Child:
    ensure_free(name, port)
    log: IO[bytes] = open(STATE / log_name, "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_own_group(),  # noqa: PLW1509 - single-threaded here
    )
    try:
        wait_for_port(port, timeout=60)
    except TimeoutError:
        process.kill()
        process.wait()
        raise SystemExit(f"{name} did not start on port {port}: see {STATE / log_name}") from None
    print(f"  {name:<18} pid {process.pid:<7} port {port:<6} log {STATE / log_name}", flush=True)
    return Child(name, process)


SANDBOX_ADDRESSES = {
    "sandbox Xero": ("XERO_API_URL", "XERO_LOGIN_URL", "XERO_IDENTITY_URL"),
    "sandbox Dataverse": ("DATAVERSE_DISCOVERY_URL", "MS_AUTHORITY_HOST", "DEV_DATAVERSE_SANDBOX_ORIGIN"),
}


def disagreements(settings: dict[str, str], sandboxes: list[str]) -> list[str]:
    """Settings that name one of the running `sandboxes` at different addresses: each would break a step
    of the journey (Xero's consent, Microsoft's sign-in, the environment check) with no hint why."""
    found = []
    for sandbox in sandboxes:
        named = {n: settings[n].rstrip("/") for n in SANDBOX_ADDRESSES[sandbox] if settings.get(n)}
        if len({_origin(url) for url in named.values()}) > 1:
            listed = ", ".join(f"{name}={url}" for name, url in named.items())
            found.append(f"the {sandbox} is named at different addresses: {listed}; give them one origin.")
    return found


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{port_of(url, 0)}"


def _sandboxes(settings: dict[str, str]) -> list[str]:
    """The sandboxes this run starts: those the settings point at (their client id) that this checkout has."""
    wanted = {
        "sandbox Xero": ("local.sandbox.xero", "XERO_CLIENT_ID", SANDBOX_XERO_CLIENT),
        "sandbox Dataverse": ("local.sandbox.dataverse", "MS_CLIENT_ID", SANDBOX_MS_CLIENT),
    }
    return [
        name
        for name, (module, setting, client) in wanted.items()
        if settings.get(setting, "") in ("", client) and importlib.util.find_spec(module) is not None
    ]


def _sandbox_pages(settings: dict[str, str], running: list[str]) -> list[str]:
    """Where a newcomer reads the mailbox and sees what the connector did (README: "Creating an invoice")."""
    pages = [("dev mailbox", f"{settings.get('PUBLIC_BASE_URL', '').rstrip('/')}/dev/mailbox")]
    if "sandbox Dataverse" in running:
        origin = settings.get("DATAVERSE_DISCOVERY_URL", "").rstrip("/")
        pages.append(("Dynamics invoices", f"{origin}/_sandbox/ui/contoso/  (Contoso (Production))"))
    if "sandbox Xero" in running:
        pages.append(("Xero", f"{settings.get('XERO_API_URL', '').rstrip('/')}/_sandbox/ui/"))
    return [f"  {name + ':':<19}{address}" for name, address in pages]


def _check_ca_bundle(settings: dict[str, str], written: Path) -> None:
    """The setting the host trusts and the file the sandbox writes must be one file (issue 21)."""
    configured = settings.get("TLS_CA_BUNDLE", "")
    if configured and (PROJECT_ROOT / configured).resolve() != written.resolve():
        raise SystemExit(
            f"TLS_CA_BUNDLE is {configured!r}, but the sandbox Dataverse writes its CA to {written}: "
            "set TLS_CA_BUNDLE to that file (or leave it empty to trust only public CAs)."
        )


def _subscribe_xero_webhooks(settings: dict[str, str], port: int) -> None:
    """What the Xero developer portal's Webhooks page does (README "Xero webhooks"): the sandbox Xero signs
    with XERO_WEBHOOK_KEY and delivers to this app's /api/xero/webhook."""
    import json
    import urllib.request

    base = settings.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{host_port(settings)}"
    body = {"url": f"{base.rstrip('/')}/api/xero/webhook", "key": settings.get("XERO_WEBHOOK_KEY", "")}
    request = urllib.request.Request(  # noqa: S310 - the local sandbox's own http URL
        f"http://127.0.0.1:{port}/_sandbox/webhooks",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        opener.open(request, timeout=10).close()
    except OSError as error:  # the rest of make run works without Xero's webhooks: say so, go on
        print(f"  could not subscribe the sandbox Xero's webhooks: {error}", flush=True)


def start_children(settings: dict[str, str]) -> list[Child]:
    """Everything but Azurite, in the order they are needed; the host last (it calls the others)."""
    from local.sandbox.dataverse.tls import CA_FILE

    children: list[Child] = []
    try:
        sandboxes = _sandboxes(settings)
        if "sandbox Xero" in sandboxes:
            port = port_of(settings.get("XERO_API_URL", ""), 7081)
            args = [
                "-m",
                "local.sandbox.xero",
                "--port",
                str(port),
                "--state-dir",
                str(STATE / "sandbox-xero"),
            ]
            children.append(_spawn("sandbox Xero", args, port, "xero.log"))
            _subscribe_xero_webhooks(settings, port)
        if "sandbox Dataverse" in sandboxes:
            port = port_of(settings.get("DATAVERSE_DISCOVERY_URL", ""), 7082)
            certs = STATE / "sandbox-certs"
            args = ["-m", "local.sandbox.dataverse", "--port", str(port), "--cert-dir", str(certs)]
            args += ["--state-dir", str(STATE / "sandbox-dataverse")]
            args += ["--history", "300"]  # years of older invoices, for the portal's Backfill to send
            base = settings.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{host_port(settings)}"
            args += ["--adfs-redirect-uri", f"{base.rstrip('/')}/oauth/dynamics/callback"]
            children.append(_spawn("sandbox Dataverse", args, port, "dataverse.log"))
            _check_ca_bundle(settings, certs / CA_FILE)
        stripe_key = settings.get("STRIPE_SECRET_KEY", "")
        if stripe_key in ("", SANDBOX_STRIPE_KEY) and importlib.util.find_spec("local.sandbox.stripe"):
            children.append(_start_stripe_standin(settings))
        smtp_port = int(settings.get("SMTP_PORT") or 7025)
        mailbox = settings.get("DEV_MAILBOX_DIR") or str(STATE / "mailbox")
        sink_args = ["-m", "local.smtp_sink", "--port", str(smtp_port), "--dir", mailbox]
        children.append(_spawn("SMTP sink", sink_args, smtp_port, "smtp.log"))
        port = host_port(settings)
        host_args = ["-m", "local.host", "--port", str(port), "--stop-grace", str(HOST_STOP_SECONDS - 1)]
        children.append(_spawn("functions host", host_args, port, "host.log"))
    except BaseException:
        _stop_together(children, REST_STOP_SECONDS)
        raise
    return children


def _start_stripe_standin(settings: dict[str, str]) -> Child:
    """The Stripe stand-in, its webhooks to the host, and the plans' prices set up in it for the host."""
    port = port_of(settings.get("STRIPE_API_BASE", ""), 7083)
    hook = f"http://127.0.0.1:{host_port(settings)}/api/stripe/webhook"
    secret = settings.get("STRIPE_WEBHOOK_SECRET", "")
    args = [
        "-m",
        "local.sandbox.stripe",
        "--port",
        str(port),
        "--webhook-url",
        hook,
        "--webhook-secret",
        secret,
    ]
    child = _spawn("Stripe stand-in", args, port, "stripe.log")
    os.environ.update(STRIPE_SECRET_KEY=SANDBOX_STRIPE_KEY, STRIPE_API_BASE=f"http://127.0.0.1:{port}")
    setup = subprocess.run(
        [sys.executable, "-m", "shared.billing.setup"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    os.environ["STRIPE_PRICE_IDS"] = setup.stdout.strip().split("=", 1)[1]  # the host inherits it
    return child


def _stop_together(children: list[Child], seconds: float) -> None:
    """SIGTERM to each, then wait for all up to `seconds`; only one still running after that is killed."""
    started = time.monotonic()
    names = ", ".join(f"{c.name} (pid {c.process.pid})" for c in children)
    if not children:
        return
    print(f"  stopping {names} …", flush=True)
    for child in children:
        if child.process.poll() is None:
            child.process.terminate()
    deadline = started + seconds
    for child in children:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"  {child.name} did not stop within {seconds:.0f} s: killed", flush=True)
            child.process.kill()
            child.process.wait()
    print(f"  stopped in {time.monotonic() - started:.1f} s", flush=True)


def stop_all(children: list[Child], azurite: Child | None) -> None:
    started = time.monotonic()
    print("\nStopping the connector:", flush=True)
    host = [c for c in children if c.name == "functions host"]
    rest = [c for c in reversed(children) if c.name != "functions host"]
    _stop_together(host, HOST_STOP_SECONDS)
    _stop_together(rest + ([azurite] if azurite else []), REST_STOP_SECONDS)
    print(f"Stopped everything in {time.monotonic() - started:.1f} s.", flush=True)


def main() -> int:
    STATE.mkdir(exist_ok=True)
    settings = apply_settings(PROJECT_ROOT)
    problems = disagreements(settings, _sandboxes(settings))
    if problems:
        print("The settings disagree:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping  # no printing here: a handler may interrupt a print()
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print("Starting the connector locally:", flush=True)
    azurite: Child | None = None
    ports = storage_ports(settings.get("AzureWebJobsStorage", ""))
    if ports is not None:
        for port in ports:
            ensure_free("Azurite", port)
        started = start_azurite(STATE / "azurite", ports, STATE / "azurite.log", preexec_fn=_own_group())
        azurite = Child("Azurite", started.process)
        print(
            f"  {'Azurite':<18} pid {started.process.pid:<7} ports {ports[0]},{ports[1]},{ports[2]}"
            f"  data {STATE / 'azurite'}",
            flush=True,
        )
    children: list[Child] = []
    try:
        children = start_children(settings)
        base = f"http://127.0.0.1:{host_port(settings)}"
        print(f"\nOpen {base}/  (health: {base}/api/health). Ctrl-C stops everything.", flush=True)
        for line in _sandbox_pages(settings, [c.name for c in children]):
            print(line, flush=True)
        while not stopping:
            for child in [*children, *([azurite] if azurite else [])]:
                if child.process.poll() is not None:
                    print(
                        f"{child.name} exited with code {child.process.returncode}; stopping the rest",
                        flush=True,
                    )
                    stopping = True
            time.sleep(0.2)
    finally:
        stop_all(children, azurite)
    return 0


if __name__ == "__main__":
    sys.exit(main())
