"""The composition root: build(settings, **overrides) wires an app whose collaborators are built once, on
first use; an override stands in for a collaborator by name; the triggers use the app handed to use()."""

from __future__ import annotations

import json
import threading

import azure.functions as func
import pytest

from shared import bootstrap
from shared.config import Settings
from shared.xero_inbound.signature import sign
from tests.app_index import user_function

TENANT, INVOICE = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f", "55d84274-a3da-4829-a7c0-0cab601b95cc"
SETTINGS = Settings.from_env({"AzureWebJobsStorage": "UseDevelopmentStorage=true", "XERO_WEBHOOK_KEY": "k"})


class Sent:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def send_message(self, body: str, visibility_timeout: int | None = None) -> None:
        self.messages.append(body)


def test_building_builds_nothing_until_a_collaborator_is_asked_for() -> None:
    app = bootstrap.build(SETTINGS)
    assert app.settings is SETTINGS and app._built == {}


def test_each_collaborator_is_built_once_even_when_many_ask_at_the_same_moment() -> None:
    # storage stands in by override: nothing here talks to Azurite
    app = bootstrap.build(SETTINGS, connections=object(), activity=object(), invoice_queue=Sent())
    seen, start = [], threading.Barrier(8)

    def ask() -> None:
        start.wait()
        seen.append(app.rate_gate())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(gate) for gate in seen}) == 1 and app.invoice_worker().pacing is seen[0]


def test_an_override_replaces_the_collaborator_everywhere_it_is_used() -> None:
    fake = Sent()
    app = bootstrap.build(SETTINGS, connections=object(), activity=object(), invoice_queue=fake)
    app.invoice_worker().requeue("body", 5)
    assert app.invoice_queue() is fake and fake.messages == ["body"]


def test_an_override_for_something_it_does_not_build_is_refused() -> None:
    with pytest.raises(TypeError, match="invoice_queu"):
        bootstrap.build(SETTINGS, invoice_queu=Sent())


def test_two_apps_share_nothing() -> None:
    one, other = bootstrap.build(SETTINGS), bootstrap.build(SETTINGS)
    assert one.rate_gate() is not other.rate_gate()


def test_the_triggers_use_the_app_handed_to_use_and_a_fresh_one_after_it_is_forgotten() -> None:
    sent, url = Sent(), f"https://api.xero.com/api.xro/2.0/Invoices/{INVOICE}"
    event = {"resourceId": INVOICE, "resourceUrl": url, "eventCategory": "INVOICE", "eventType": "UPDATE",
             "tenantId": TENANT, "tenantType": "ORGANISATION", "eventDateUtc": "2024-06-21"}  # fmt: skip
    body = json.dumps({"events": [event], "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "x"})
    headers = {"x-xero-signature": sign(body.encode(), "k")}  # the key of SETTINGS, not of the environment
    request = func.HttpRequest("POST", "/api/xero/webhook", headers=headers, body=body.encode())
    handed = bootstrap.build(SETTINGS, xero_events_queue=sent)
    bootstrap.use(handed)
    try:
        assert bootstrap.worker() is handed
        assert user_function("xero_webhook")(request).status_code == 200
        assert INVOICE in sent.messages[0]
    finally:
        bootstrap.use(None)
    assert bootstrap.worker() is not handed
    bootstrap.use(None)
