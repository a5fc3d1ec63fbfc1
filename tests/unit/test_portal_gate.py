"""The portal gate: no more pages are worked on at once than passwords can be hashed at once; the rest
wait PORTAL_WAIT_SECONDS and are answered 429 (issue 16: a flood of sign-ins slowed the webhook)."""

from __future__ import annotations

import threading
import time

import azure.functions as func
import pytest

from shared.accounts.passwords import HASH_SLOTS
from shared.web import pages


def test_a_flood_of_pages_runs_only_as_many_at_once_as_can_hash_and_the_rest_get_429(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock, release = threading.Lock(), threading.Event()
    running, most = [0], [0]

    def page_work(req: func.HttpRequest, handler: pages.Handler, accounts: object) -> func.HttpResponse:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1
        return func.HttpResponse("ok", status_code=200)

    monkeypatch.setattr(pages, "_serve", page_work)  # the page itself: held until released
    monkeypatch.setattr(pages, "PORTAL_WAIT_SECONDS", 0.3)
    statuses: list[int] = []

    def visit() -> None:
        request = func.HttpRequest("POST", "http://127.0.0.1/signin", body=b"", headers={})
        unused = func.HttpResponse("unused")
        statuses.append(
            pages.serve(request, lambda page: unused, lambda: pytest.fail("not reached")).status_code
        )

    visitors = [threading.Thread(target=visit) for _ in range(HASH_SLOTS + 2)]
    for visitor in visitors:
        visitor.start()
    time.sleep(1.0)  # longer than the wait: those without a slot have had their answer
    release.set()
    for visitor in visitors:
        visitor.join(10)

    assert most[0] == HASH_SLOTS
    assert sorted(statuses) == [200] * HASH_SLOTS + [429] * 2
