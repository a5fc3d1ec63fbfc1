"""Abuse limits under load (issue 16), against the RUNNING host — the local Functions host as its own
process, Azurite, the sandboxes, a real SMTP sink — while Dynamics webhooks keep arriving:

- parallel sign-in guesses at a few accounts from many networks (X-Forwarded-For, as Azure's front end
  sets it), and from one network;
- sign-ups and forgotten-password requests for a few addresses from many networks;
- meanwhile a steady stream of valid webhooks for a real connection, whose latency is compared with
  the same stream on an idle host.

The queue functions are switched off (as in webhook_fuzz.py): the webhook's own path is what is measured.
The webhooks are sent and timed from a process of their own; queue storage is served by an emulator
process of its own (split_storage(): why). The line before the last gives the host's own timing of the
webhooks (its log) and the emulator's (a message sent straight to it), idle and during the attack.

Last line: signin_attempts_admitted_per_account_15min=N emails_sent_per_address_hour=M peak_rss_mb=R
webhook_p95_ms_during=P (plus webhook_p95_ms_idle=I). Goals: N ≤ 5, M ≤ 3, P within 2× I; R is the
host process's peak resident memory (VmHWM) over the whole run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from bench.realpath import RealPath, percentile  # noqa: E402
from bench.webhook_fuzz import Mutator, _json, webhook_key  # noqa: E402
from local.azurite import Azurite, start_azurite  # noqa: E402
from local.smtp_sink import SmtpSink  # noqa: E402
from tests.integration.form_client import FormClient  # noqa: E402

DISABLED = {"AzureWebJobs.invoice_push.Disabled": "true", "AzureWebJobs.invoice_push_poison.Disabled": "true"}
PASSWORD = "correct horse 42 battery"
LAST_TRY = "That was the last try"


class Browser(FormClient):
    def __init__(self, base: str, ip: str) -> None:
        super().__init__(base, get_timeout=60, post_timeout=60)
        self.http.headers["X-Forwarded-For"] = ip


def random_ip(rng: random.Random) -> str:
    if rng.random() < 0.3:  # some IPv6 clients, each in a /64 of its own
        return f"2001:db8:{rng.randrange(65536):x}:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}"
    return f"198.{rng.randrange(18, 20)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def sign_in(base: str, email: str, ip: str) -> str:
    browser = Browser(base, ip)
    browser.get("/signin")
    answer = browser.post("/signin", {"email": email, "password": f"guess {uuid.uuid4().hex[:8]}"})
    if answer.status_code == 401 or (answer.status_code == 429 and LAST_TRY in answer.text):
        return "admitted"  # the password was checked
    return str(answer.status_code)


def sign_up(base: str, email: str, ip: str) -> str:
    browser = Browser(base, ip)
    browser.get("/signup")
    form = {"name": "Visit http://evil.example", "company": "x", "email": email, "terms": "accepted"}
    return str(browser.post("/signup", form).status_code)


def forgot(base: str, email: str, ip: str) -> str:
    browser = Browser(base, ip)
    browser.get("/forgot")
    return str(browser.post("/forgot", {"email": email}).status_code)


class Webhooks:
    """Valid webhooks, one after another every `gap` seconds, timing each answer — from a process of its
    own: timed in this one, each answer would also wait for this process's interpreter lock, taken in
    turn by the attack's 32 client threads, and the figure would be partly the bench's own."""

    def __init__(self, url: str, key: str, organisation: str, storage: str, gap: float = 0.05) -> None:
        context = multiprocessing.get_context("spawn")
        self.stopping = context.Event()
        self._results: Any = context.Queue()
        args = (url, key, organisation, storage, gap, self.stopping, self._results)
        self._process = context.Process(target=_send_webhooks, args=args, daemon=True)
        self.timed: list[tuple[float, float, bool]] = []  # (sent at, answered after ms, failed)
        self.storage: list[tuple[float, float]] = []  # (sent at, ms) of a queue message sent directly

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self.stopping.set()
        self.timed, self.storage = self._results.get(timeout=120)
        self._process.join(timeout=30)

    def between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms, _ in self.timed if start <= at < end]

    def storage_between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.storage if start <= at < end]

    @property
    def errors(self) -> int:
        return sum(failed for _, _, failed in self.timed)


def _send_webhooks(
    url: str, key: str, organisation: str, storage: str, gap: float, stopping: Any, results: Any
) -> None:
    """Each round: one webhook, then one message sent straight to the storage emulator (its own queue),
    so its share of a slower webhook can be told apart from the host's."""
    from azure.storage.queue import QueueClient

    mutator = Mutator(random.Random(3), key, organisation)
    mutator._ids = set()  # context() notes the ids it makes there
    session = requests.Session()
    session.trust_env = False
    probe = QueueClient.from_connection_string(storage, "abuse-probe", use_env_settings=False)
    probe.create_queue()
    timed, direct = [], []
    while not stopping.is_set():
        body = _json(mutator.context("invoice", "Update"))
        sent = time.time()
        started = time.perf_counter()
        answer = session.post(url, params={"code": key}, data=body, timeout=60)
        timed.append((sent, (time.perf_counter() - started) * 1000, answer.status_code >= 300))
        started = time.perf_counter()
        probe.send_message("probe", time_to_live=60)
        direct.append((sent, (time.perf_counter() - started) * 1000))
        stopping.wait(gap)
    results.put((timed, direct))


def server_durations_ms(log_path: Path, start: float, end: float) -> list[float]:
    """The host's own timing of each webhook invocation (its log's "Executed ... Duration=N ms" lines)
    between two moments: what the host spent, without the client's side."""
    found = []
    for line in log_path.read_text(errors="replace").splitlines():
        match = _EXECUTED.search(line)
        if match and "Functions.dynamics_webhook'" in line:
            at = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if start <= at < end:
                found.append(float(match.group(1)))
    return found


_EXECUTED = re.compile(r"Duration=(\d+)ms")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5, help="accounts under attack")
    parser.add_argument(
        "--guesses", type=int, default=40, help="guesses per account, each from a new network"
    )
    parser.add_argument("--addresses", type=int, default=3, help="addresses mail-bombed")
    parser.add_argument("--requests", type=int, default=30, help="sign-up/reset requests per address")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument(
        "--one-storage-process",
        action="store_true",
        help="queues and tables in one emulator process (as `make run` has them); see split_storage()",
    )
    args = parser.parse_args()
    rng = random.Random(16)
    mailbox = Path(tempfile.mkdtemp(prefix="abuse-bench-"))
    sink = SmtpSink(mailbox).start()
    emulators = [start_azurite()] if args.one_storage_process else [start_azurite(), start_azurite()]
    storage = split_storage(*emulators) if len(emulators) == 2 else emulators[0]
    path = RealPath(prefix="abuse", host_env=DISABLED, azurite=storage).start()
    try:
        connection = path.onboard()
        path.start_host(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), SMTP_STARTTLS="false")
        assert path.host is not None
        base = f"http://127.0.0.1:{path.port}"
        accounts = [f"target{n}.{uuid.uuid4().hex[:6]}@example.com" for n in range(args.accounts)]
        _create_accounts(accounts)
        webhooks = Webhooks(
            f"{base}/api/dynamics/webhook",
            webhook_key(path),
            connection.dynamics.organisation_id,
            path.stack.env["AzureWebJobsStorage"],
        )
        webhooks.start()
        time.sleep(2)  # the prober's process starts
        idle_start = time.time()
        time.sleep(10)
        idle_end = time.time()

        guesses = [(a, random_ip(rng)) for a in accounts for _ in range(args.guesses)]
        one_network = random_ip(rng)
        guesses += [(accounts[0], one_network) for _ in range(args.guesses)]
        rng.shuffle(guesses)
        bombed = [f"victim{n}.{uuid.uuid4().hex[:6]}@example.com" for n in range(args.addresses)]
        mail_jobs = [(sign_up, a, random_ip(rng)) for a in bombed for _ in range(args.requests // 2)]
        mail_jobs += [
            (forgot, a, random_ip(rng)) for a in bombed for _ in range(args.requests - args.requests // 2)
        ]
        mail_jobs += [(forgot, accounts[1], random_ip(rng)) for _ in range(args.requests)]
        rng.shuffle(mail_jobs)

        during_start = time.time()
        started = time.monotonic()
        with ThreadPoolExecutor(args.threads) as pool:
            signins = list(pool.map(lambda job: (job[0], sign_in(base, job[0], job[1])), guesses))
            mails = list(pool.map(lambda job: job[0](base, job[1], job[2]), mail_jobs))
        attack_s = time.monotonic() - started
        during_end = time.time()
        webhooks.stop()
        idle, during = webhooks.between(idle_start, idle_end), webhooks.between(during_start, during_end)
        server_idle = server_durations_ms(path.log_path, idle_start, idle_end)
        server_during = server_durations_ms(path.log_path, during_start, during_end)
        time.sleep(2)  # the last e-mails reach the sink

        admitted = Counter(email for email, outcome in signins if outcome == "admitted")
        outcomes = Counter(outcome for _, outcome in signins)
        sent = Counter(_recipient(p) for p in sink.messages())
        watched = [*bombed, accounts[1]]
        per_address = max(sent.get(a, 0) for a in watched)
        print(f"sign-in attempts: {len(guesses)} {dict(outcomes)}; per account admitted: {dict(admitted)}")
        print(f"mail requests: {len(mail_jobs)} {dict(Counter(mails))}; e-mails per watched address: "
              f"{[sent.get(a, 0) for a in watched]}")  # fmt: skip
        counts = f"idle={len(idle)} during={len(during)} errors={webhooks.errors}"
        print(f"attack took {attack_s:.1f} s; webhooks {counts}")
        print(
            f"the host's own webhook durations: p95 idle {percentile(server_idle, 0.95):.0f} ms, "
            f"during {percentile(server_during, 0.95):.0f} ms; a message sent straight to the storage "
            f"emulator: p95 idle {percentile(webhooks.storage_between(idle_start, idle_end), 0.95):.0f} ms, "
            f"during {percentile(webhooks.storage_between(during_start, during_end), 0.95):.0f} ms"
        )
        print(
            f"signin_attempts_admitted_per_account_15min={max(admitted.values(), default=0)} "
            f"emails_sent_per_address_hour={per_address} peak_rss_mb={peak_rss_mb(path.host.pid):.0f} "
            f"webhook_p95_ms_during={percentile(during, 0.95):.0f} "
            f"webhook_p95_ms_idle={percentile(idle, 0.95):.0f}"
        )
    finally:
        path.stop()
        sink.stop()
        for emulator in emulators:
            emulator.stop()


def split_storage(tables: Azurite, queues: Azurite) -> Azurite:
    """Queue storage from one emulator process, table (and blob) storage from another.

    Azurite serves every service from ONE Node.js event loop: there the attack's table reads and writes
    (the abuse counters: several per sign-in) queue up ahead of the webhook's one queue write, and the
    webhook waits for the emulator, not for the host — a message sent straight to the emulator got as
    slow as the webhook did. Azure Storage serves queues and tables from separate, scaled-out partition
    servers (a queue: 2,000 messages a second, a table partition: 2,000 entities a second; Learn,
    "Scalability and performance targets for Queue Storage" / "... for Table storage"), so a few hundred
    table operations a second do not delay a queue write there. Two processes give the bench that
    separation; the prober's direct writes still show what the emulator itself adds."""
    return Azurite(tables.process, tables.blob_port, queues.queue_port, tables.table_port)


def _create_accounts(emails: list[str]) -> None:
    import os

    from shared.accounts.passwords import hash_password
    from shared.config import Settings
    from shared.store.accounts import AccountStore

    store = AccountStore.from_settings(Settings.from_env(os.environ))
    for email in emails:
        account = store.create(email, hash_password(PASSWORD), name="Target", company="Kiwi Ltd")
        store.update(account.id, lambda a: setattr(a, "email_verified", True))


def _recipient(path: Path) -> str:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    return str(message["To"] or "").strip().lower()


if __name__ == "__main__":
    main()
