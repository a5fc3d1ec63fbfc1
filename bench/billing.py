"""Stripe webhooks, out of order and repeated: real Stripe-shaped events from the stand-in, delivered to
the real /api/stripe/webhook (the local Functions host in this process, real Azurite) shuffled, with
duplicates, from several threads at once.

The events come from real billing flows on the Stripe stand-in for `--accounts` portal accounts:
Checkout (trial or paid), plan changes, renewals with a good or a failing card, a new card paying, and
cancellations — until `--events` deliveries are made of them with about 10% duplicates. Then every
account must hold the state of its subscription's latest event (status and plan), and every event id
must have been applied exactly once (its duplicates answered "duplicate").

Last line: events=N applied_once=A wrong_final_state=W p95_ms=P (also unique, duplicates, accounts)."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
import stripe  # noqa: E402

from local.azurite import start_azurite  # noqa: E402
from local.host.host import Host  # noqa: E402
from local.sandbox.stripe import StripeSandbox  # noqa: E402
from local.sandbox.stripe.server import SECRET_KEY  # noqa: E402
from local.sandbox.stripe.state import FAILING_CARD, GOOD_CARD  # noqa: E402
from local.sandbox.stripe.webhooks import signature_header  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "whsec_bench_billing"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=60)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-billing-"))
    azurite = start_azurite(log_path=work / "azurite.log")
    standin = StripeSandbox().start()  # no webhook URL: events are kept, then delivered by this bench
    from local.ports import free_port

    port = free_port()
    os.environ.update(
        {
            "AzureWebJobsStorage": azurite.connection_string,
            "TABLE_PREFIX": "bench" + uuid.uuid4().hex[:8],
            "SESSION_SECRET": "bench-session-secret",
            "TOKEN_ENCRYPTION_KEYS": "bench1:" + "A" * 43 + "=",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_API_BASE": standin.url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "HTTP_TIMEOUT_SECONDS": "20",
        }
    )
    from shared.billing.setup import ensure_plans, setting_value
    from tests.support.stack import install_app

    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": standin.url}, max_network_retries=0)
    os.environ["STRIPE_PRICE_IDS"] = setting_value(ensure_plans(client))
    app = install_app()
    host = Host(PROJECT_ROOT, "function_app:app", port=port)
    host.prepare()
    host.start()
    try:
        billing = app.billing()
        accounts = [_account(billing, i) for i in range(args.accounts)]
        unique = _generate(rng, billing, standin, accounts, int(args.events * 0.9))
        deliveries = unique + [rng.choice(unique) for _ in range(args.events - len(unique))]
        rng.shuffle(deliveries)
        answers, latencies = _deliver(host.url, deliveries, args.threads)
        applied = Counter(event_id for event_id, body in answers if body.get("outcome") == "applied")
        duplicates = Counter(event_id for event_id, body in answers if body.get("duplicate"))
        ids = {e["id"] for e in unique}
        applied_once = sum(1 for event_id in ids if applied[event_id] == 1)
        wrong = _wrong_final_states(billing, unique, accounts)
    finally:
        host.stop(grace_seconds=5)
        standin.stop()
        azurite.stop()
    p95 = sorted(latencies)[int(len(latencies) * 0.95) - 1] * 1000
    print(
        f"events={len(deliveries)} applied_once={applied_once} wrong_final_state={wrong} p95_ms={p95:.0f} "
        f"unique={len(ids)} duplicates_answered={sum(duplicates.values())} accounts={len(accounts)}",
        flush=True,
    )
    return 0


def _account(billing: Any, index: int) -> Any:
    from datetime import timedelta

    from shared.store.models import utc_now

    trial = utc_now() + timedelta(days=10) if index % 2 else None  # half still on their trial
    email = f"billing.{index}.{uuid.uuid4().hex[:6]}@bench.example"
    account = billing.accounts.create(email, "x", trial_ends_at=trial)
    billing.customer_id(account)
    return billing.accounts.require(account.id)


def _generate(
    rng: random.Random, billing: Any, standin: StripeSandbox, accounts: list[Any], target: int
) -> list[dict[str, Any]]:
    """Real flows until at least `target` handled events exist; returns them in Stripe's order."""
    from shared.billing.client import price_ids
    from shared.store.models import utc_now

    http = requests.Session()
    http.trust_env = False
    state = standin.state
    subscribed: dict[str, str] = {}  # account id -> subscription id
    while len(state.events) < target:
        account = rng.choice(accounts)
        sub_id = subscribed.get(account.id)
        live = sub_id and state.subscriptions[sub_id]["status"] != "canceled"
        if not live:
            fresh = billing.accounts.require(account.id)
            url = billing.checkout_url(fresh, rng.choice(["starter", "business"]), utc_now())
            card = rng.choice([GOOD_CARD, GOOD_CARD, FAILING_CARD])
            http.post(
                url, data={"cardNumber": card, "billingCountry": "US"}, allow_redirects=False, timeout=10
            )
            created = state.sessions[url.rsplit("/", 1)[1]]["subscription"]  # None: the card was declined
            if created:
                subscribed[account.id] = created
            continue
        action = rng.random()
        sub = state.subscriptions[sub_id]
        if action < 0.35:
            price = price_ids(billing.settings)[rng.choice(["starter", "business"])]
            item = sub["items"]["data"][0]["id"]
            billing.client().v1.subscriptions.update(sub_id, params={"items": [{"id": item, "price": price}]})
        elif action < 0.75:
            state.renew(sub_id)
        elif action < 0.9:
            state.cards[sub["customer"]] = rng.choice([GOOD_CARD, FAILING_CARD])
            state.pay_open_invoices(sub["customer"])
        else:
            billing.client().v1.subscriptions.cancel(sub_id)
    return list(state.events)


def _deliver(
    url: str, deliveries: list[dict[str, Any]], threads: int
) -> tuple[list[tuple[str, dict[str, Any]]], list[float]]:
    http = requests.Session()
    http.trust_env = False
    adapter = requests.adapters.HTTPAdapter(pool_connections=threads, pool_maxsize=threads)
    http.mount("http://", adapter)

    def post(event: dict[str, Any]) -> tuple[str, dict[str, Any], float]:
        body = json.dumps(event).encode()
        started = time.perf_counter()
        for _ in range(5):  # as Stripe retries a delivery that did not get a 2xx
            answer = http.post(
                url + "/api/stripe/webhook",
                data=body,
                headers={"Stripe-Signature": signature_header(body, WEBHOOK_SECRET, int(time.time()))},
                timeout=30,
            )
            if answer.status_code == 200:
                break
        return event["id"], answer.json(), time.perf_counter() - started

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(post, deliveries))
    return [(i, b) for i, b, _ in results], [t for _, _, t in results]


def _wrong_final_states(billing: Any, events: list[dict[str, Any]], accounts: list[Any]) -> int:
    """Accounts whose subscription, status and plan are not those the latest events say: each
    subscription as its latest event left it, the account showing the live one, else the newest."""
    from shared.billing.client import plan_of_price
    from shared.billing.subscriptions import LIVE

    final: dict[str, dict[str, Any]] = {}  # subscription id -> its latest event's object
    for event in events:  # Stripe's order
        if event["type"].startswith("customer.subscription."):
            final[event["data"]["object"]["id"]] = event["data"]["object"]
    wrong = 0
    for account in accounts:
        held = billing.accounts.require(account.id)
        subs = [s for s in final.values() if s["customer"] == held.subscription.customer_id]
        if not subs:
            continue
        expected = max(subs, key=lambda s: (s["status"] in LIVE, s["created"], s["id"]))
        plan = plan_of_price(billing.settings, expected["items"]["data"][0]["price"]["id"])
        got = (held.subscription.subscription_id, held.subscription.status)
        if got != (expected["id"], expected["status"]) or (expected["status"] in LIVE and held.plan != plan):
            wrong += 1
    return wrong


if __name__ == "__main__":
    sys.exit(main())
