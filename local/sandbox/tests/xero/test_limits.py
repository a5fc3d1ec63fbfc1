"""Xero's rate limits: 60 a minute, 5,000 a day, 5 at once per org; 10,000 a minute per app."""

from __future__ import annotations

import threading

import requests

from local.sandbox.tests.xero.conftest import AU, NZ, XeroClient, http


def _limits(xero: XeroClient, **settings: object) -> None:
    assert http().put(f"{xero.sandbox.url}/_sandbox/limits", json=settings, timeout=5).status_code == 200


def test_every_accounting_answer_carries_the_remaining_counts(xero: XeroClient) -> None:
    first, second = xero.get("Currencies"), xero.get("Currencies")
    assert first.headers["X-MinLimit-Remaining"] == "59" and second.headers["X-MinLimit-Remaining"] == "58"
    assert second.headers["X-DayLimit-Remaining"] == "4998"
    assert second.headers["X-AppMinLimit-Remaining"] == "9998"


def test_the_sixty_first_call_in_a_minute_is_refused_until_the_window_moves(xero: XeroClient) -> None:
    _limits(xero, time_scale=10)  # a minute lasts six real seconds
    statuses = [xero.get("Currencies").status_code for _ in range(60)]
    refused = xero.get("Currencies")
    assert statuses == [200] * 60 and refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 6  # real seconds: sandbox seconds / time scale
    other_org = XeroClient(xero.sandbox, xero.spec, AU, xero.token)
    assert other_org.get("Currencies").status_code == 200  # the limit is per organisation
    xero.sandbox.state.clock.advance(60)
    assert xero.get("Currencies").status_code == 200


def test_two_connections_of_one_app_to_one_organisation_share_its_minute(xero: XeroClient) -> None:
    _limits(xero, minute=4)
    second = XeroClient(xero.sandbox, xero.spec, NZ, xero.sandbox.state.issue_tokens())  # another instance
    assert second.token["access_token"] != xero.token["access_token"]
    statuses = [client.get("Currencies").status_code for client in (xero, second, xero, second, second)]
    assert statuses == [200, 200, 200, 200, 429]


def test_the_day_limit(xero: XeroClient) -> None:
    _limits(xero, day=3)
    assert [xero.get("Currencies").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert xero.get("Currencies").headers["X-Rate-Limit-Problem"] == "day"


def test_the_app_limit_spans_organisations(xero: XeroClient) -> None:
    _limits(xero, app_minute=3)
    other_org = XeroClient(xero.sandbox, xero.spec, AU, xero.token)
    assert [
        xero.get("Currencies").status_code,
        other_org.get("Currencies").status_code,
        xero.get("Currencies").status_code,
    ] == [200, 200, 200]
    refused = other_org.get("Currencies")
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Problem"] == "appminute"


def test_no_more_than_five_calls_at_once(xero: XeroClient) -> None:
    http().put(f"{xero.sandbox.url}/_sandbox/faults", json={"latency_ms": 400}, timeout=5)
    barrier = threading.Barrier(8)
    answers: list[requests.Response] = []

    def call() -> None:
        barrier.wait()
        answers.append(
            http().get(f"{xero.sandbox.url}/api.xro/2.0/Currencies", headers=xero.headers(), timeout=5)
        )

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 5 + [429] * 3
    assert {a.headers["X-Rate-Limit-Problem"] for a in answers if a.status_code == 429} == {"concurrent"}


def test_limits_can_be_switched_off(xero: XeroClient) -> None:
    _limits(xero, enabled=False)
    assert {xero.get("Currencies").status_code for _ in range(65)} == {200}
    _limits(xero, enabled=True)
    assert xero.get("Currencies").status_code == 429
