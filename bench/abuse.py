"""Abuse limits under load (issue 16), against the RUNNING host — the local Functions host as its own
process, Azurite, the sandboxes, a real SMTP sink — while Dynamics webhooks keep arriving:

- parallel sign-in guesses at a few accounts from many networks (X-Forwarded-For, as Azure's front end
  sets it), and from one network;
- sign-ups and forgotten-password requests for a few addresses from many networks;
- meanwhile a steady stream of valid webhooks for a real connection, whose latency is compared with
  the same stream on an idle host.

The queue functions are switched off (as in webhook_fuzz.py): the webhook's own path is what is measured.

Last line: signin_attempts_admitted_per_account_15min=N emails_sent_per_address_hour=M peak_rss_mb=R
webhook_p95_ms_during=P (plus webhook_p95_ms_idle=I). Goals: N ≤ 5, M ≤ 3, P within 2× I; R is the
host process's peak resident memory (VmHWM) over the whole run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email import policy
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from bench.realpath import RealPath, percentile  # noqa: E402
from bench.webhook_fuzz import Mutator, _json, webhook_key  # noqa: E402
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


class Webhooks(threading.Thread):
    """Valid webhooks, one after another every `gap` seconds, timing each answer."""

    def __init__(self, url: str, key: str, organisation: str, gap: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.gap = url, key, gap
        self.mutator = Mutator(random.Random(3), key, organisation)
        self.mutator._ids = set()  # context() notes the ids it makes there
        self.session = requests.Session()
        self.session.trust_env = False
        self.latencies_ms: list[float] = []
        self.errors = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            body = _json(self.mutator.context("invoice", "Update"))
            started = time.perf_counter()
            answer = self.session.post(self.url, params={"code": self.key}, data=body, timeout=60)
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.errors += answer.status_code >= 300
            self.stopping.wait(self.gap)

    def measure(self, seconds: float) -> list[float]:
        start = len(self.latencies_ms)
        time.sleep(seconds)
        return self.latencies_ms[start:]


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
    args = parser.parse_args()
    rng = random.Random(16)
    mailbox = Path(tempfile.mkdtemp(prefix="abuse-bench-"))
    sink = SmtpSink(mailbox).start()
    path = RealPath(prefix="abuse", host_env=DISABLED).start()
    try:
        connection = path.onboard()
        path.start_host(SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port), SMTP_STARTTLS="false")
        assert path.host is not None
        base = f"http://127.0.0.1:{path.port}"
        accounts = [f"target{n}.{uuid.uuid4().hex[:6]}@example.com" for n in range(args.accounts)]
        _create_accounts(accounts)
        webhooks = Webhooks(
            f"{base}/api/dynamics/webhook", webhook_key(path), connection.dynamics.organisation_id
        )
        webhooks.start()
        idle = webhooks.measure(10)

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

        during_start = len(webhooks.latencies_ms)
        started = time.monotonic()
        with ThreadPoolExecutor(args.threads) as pool:
            signins = list(pool.map(lambda job: (job[0], sign_in(base, job[0], job[1])), guesses))
            mails = list(pool.map(lambda job: job[0](base, job[1], job[2]), mail_jobs))
        attack_s = time.monotonic() - started
        during = webhooks.latencies_ms[during_start:]
        webhooks.stopping.set()
        webhooks.join(timeout=70)
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
            f"signin_attempts_admitted_per_account_15min={max(admitted.values(), default=0)} "
            f"emails_sent_per_address_hour={per_address} peak_rss_mb={peak_rss_mb(path.host.pid):.0f} "
            f"webhook_p95_ms_during={percentile(during, 0.95):.0f} "
            f"webhook_p95_ms_idle={percentile(idle, 0.95):.0f}"
        )
    finally:
        path.stop()
        sink.stop()


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
