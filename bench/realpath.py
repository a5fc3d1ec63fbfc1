"""The product on its real path for benchmarks and long tests: Azurite, both sandboxes in this process,
and the local Functions host as its OWN process (so it can be killed), with connections onboarded through
the real services. Plus what every such run needs: a Dynamics user that retries the sandbox's injected
503/429 (they are meant for the connector), and reading both sides (Dynamics rows, Xero records)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from local.azurite import Azurite
from local.ports import free_port, wait_for_port
from tests.support.dynamics_user import DynamicsUser
from tests.support.stack import LocalStack, install_app

ROOT = Path(__file__).resolve().parent.parent
RETRIED = (429, 500, 503)


class RealPath:
    """`RealPath(...).start()` → sandboxes up, settings in os.environ; `onboard()` → a connection;
    `start_host()` → the host process on `port` (the webhooks' URL); `kill_host()` is a SIGKILL."""

    def __init__(
        self,
        prefix: str = "bench",
        host_env: dict[str, str] | None = None,
        host_json: Path | None = None,
        azurite: Azurite | None = None,
        xero_seed: str = "demo",
    ) -> None:
        self.prefix = prefix + uuid.uuid4().hex[:6]
        self.host_env = dict(host_env or {})
        self.host_json = host_json
        self.stack = LocalStack(prefix=self.prefix, azurite=azurite, xero_seed=xero_seed)
        self.host: subprocess.Popen[bytes] | None = None
        self.extra_hosts: list[subprocess.Popen[bytes]] = []  # more instances on the same queues
        self.port = 0

    def start(self) -> RealPath:
        if threading.current_thread() is threading.main_thread():
            # `finally` blocks must run on SIGTERM too: they stop the host process and Azurite
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.stack.start(with_host=False)
        self.port = free_port()
        os.environ["PUBLIC_BASE_URL"] = self.stack.env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{self.port}"
        self.stack.app = install_app()
        self.xero_url, self.dv_url = self.stack.xero.url, self.stack.dataverse.url
        self.control = requests.Session()
        self.control.trust_env = False
        self.control.verify = str(self.stack.dataverse.ca_path)
        self.log_path = self.stack.work_dir / "host.log"
        return self

    def onboard(self, **kwargs: Any) -> Any:
        return self.stack.onboard(**kwargs)

    def user(self, env: str = "contoso") -> Users:
        return Users(DynamicsUser(self.stack.dataverse, env))

    # -- the host process -------------------------------------------------------------------------------
    def start_host(self, instances: int = 1, **extra_env: str) -> None:
        """The host that receives the webhooks, plus `instances - 1` more host processes on ports of
        their own: every one takes messages from the same queues, as Azure's instances of one app do."""
        self.host = self._host_process(self.port, extra_env)
        ports = [free_port() for _ in range(instances - 1)]
        self.extra_hosts = [self._host_process(port, extra_env) for port in ports]
        for port in [self.port, *ports]:
            wait_for_port(port, timeout=120)

    def _host_process(self, port: int, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "local.host", "--port", str(port)]
        if self.host_json is not None:
            command += ["--host-json", str(self.host_json)]
        with self.log_path.open("ab") as out:
            return subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.host_env, **extra_env},
            )

    def kill_host(self) -> None:
        """SIGKILL: no grace, in-flight invocations die half-way (the crash a deployment must survive)."""
        assert self.host is not None
        self.host.send_signal(signal.SIGKILL)
        self.host.wait(timeout=30)
        self.host = None

    def host_cpu_seconds(self) -> float:
        """CPU time (user + system) the host process has used so far, read from its own /proc entry."""
        assert self.host is not None
        fields = Path(f"/proc/{self.host.pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), after "pid (comm)"
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def stop_host(self) -> None:
        for extra in self.extra_hosts:
            extra.terminate()
        for extra in self.extra_hosts:
            try:
                extra.wait(timeout=60)
            except subprocess.TimeoutExpired:
                extra.kill()
                extra.wait(timeout=10)
        self.extra_hosts = []
        if self.host is not None:
            self.host.terminate()
            try:
                self.host.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.host.kill()
                self.host.wait(timeout=10)
            self.host = None

    def stop(self) -> None:
        self.stop_host()
        self.stack.stop()

    # -- sandbox control --------------------------------------------------------------------------------
    def xero(self, method: str, path: str, body: Any = None) -> Any:
        response = self.control.request(method, f"{self.xero_url}/_sandbox/{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def dataverse(self, method: str, path: str, body: Any = None) -> Any:
        response = self.control.request(method, f"{self.dv_url}/_sandbox/{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def rows(self, ids: set[str] | list[str], env: str = "contoso") -> dict[str, dict[str, Any]]:
        """The invoices as Dynamics stores them (the control API: never faulted, not counted)."""
        wanted = set(ids)
        rows = self.dataverse("GET", f"rows/{env}/invoices")["value"]
        return {r["invoiceid"]: r for r in rows if r["invoiceid"] in wanted}

    def xero_invoices(self, tenant: str) -> list[dict[str, Any]]:
        return list(self.xero("GET", f"orgs/{tenant}/Invoices"))

    def reset_counts(self) -> None:
        self.xero("POST", "requests/reset")
        self.dataverse("POST", "requests/reset")

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.dataverse("GET", "deliveries")["deliveries"])

    def wait_deliveries(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not self.dataverse("POST", f"deliveries/wait?timeout={min(10, timeout)}")["idle"]:
            if time.monotonic() > deadline:
                raise TimeoutError("Dynamics still has webhooks to deliver")

    def queue_depth(self) -> int:
        """Messages on the invoice queue and its poison queue, invisible (deferred, leased) ones included."""
        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.queue import QueueClient

        name, connection = self.stack.env["INVOICE_QUEUE"], self.stack.env["AzureWebJobsStorage"]
        total = 0
        for queue in (name, f"{name}-poison"):
            client = QueueClient.from_connection_string(connection, queue)
            try:
                total += client.get_queue_properties().approximate_message_count or 0
            except ResourceNotFoundError:  # not created yet: nothing on it
                pass
        return total


class Users:
    """A Dynamics user whose calls are retried when the sandbox injects a 503 or 429 before doing
    anything (those faults are aimed at the connector, not at the person saving invoices)."""

    def __init__(self, user: DynamicsUser) -> None:
        self.user = user

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        for attempt in range(30):
            response = self.user.session.request(method, self.user.base + path, json=body, timeout=60)
            if response.status_code not in RETRIED:
                response.raise_for_status()
                return response
            time.sleep(min(1.0, 0.05 * (attempt + 1)))
        response.raise_for_status()
        return response

    def create(self, entity_set: str, values: dict[str, Any]) -> str:
        response = self.call("POST", entity_set, values)
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")

    def currency(self, code: str = "USD") -> str:
        rows = self.call("GET", f"transactioncurrencies?$filter=isocurrencycode eq '{code}'").json()["value"]
        return str(rows[0]["transactioncurrencyid"])


def invoice_body(
    name: str, customer: str, currency: str, lines: list[tuple[str, int]], **columns: Any
) -> dict[str, Any]:
    """An invoice for an account with product lines: (product id, quantity)."""
    return {
        "name": name,
        "customerid_account@odata.bind": f"/accounts({customer})",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency})",
        "invoice_details": [
            {"productid@odata.bind": f"/products({product})", "quantity": quantity, "lineitemnumber": n}
            for n, (product, quantity) in enumerate(lines, start=1)
        ],
        **columns,
    }


def customers_and_products(users: Users, customers: int, products: int) -> tuple[list[str], list[str]]:
    tag = uuid.uuid4().hex[:4].upper()
    accounts = [
        users.create("accounts", {"name": f"Bench customer {n} {tag}", "accountnumber": f"B{tag}{n:03d}"})
        for n in range(customers)
    ]
    items = [
        users.create(
            "products", {"name": f"Bench product {n}", "productnumber": f"BP-{tag}-{n:03d}", "price": n}
        )
        for n in range(products)
    ]
    return accounts, items


def wait_until(done: Callable[[], bool], timeout: float, poll: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(poll)
    return False


def epoch(value: Any) -> float:
    """A Xero date (`/Date(ms+0000)/` or ISO 8601) in seconds since the epoch."""
    text = str(value)
    if text.startswith("/Date("):
        return int(text[6:].split("+")[0].split("-")[0].rstrip(")/")) / 1000
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, int(round(len(ordered) * fraction)) - 1))]
