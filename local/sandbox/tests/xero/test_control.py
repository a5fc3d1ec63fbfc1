"""The control API and the command line entry point."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from local.ports import free_port, wait_for_port
from local.sandbox.tests.xero.conftest import NZ, XeroClient, http, invoice
from local.sandbox.xero import XeroSandbox

ROOT = Path(__file__).resolve().parents[4]


def test_reset_empties_and_seed_realistic_fills(sandbox: XeroSandbox) -> None:
    session = http()
    session.post(f"{sandbox.url}/_sandbox/reset", timeout=5)
    assert session.get(f"{sandbox.url}/_sandbox/orgs", timeout=5).json() == []
    [org] = session.post(f"{sandbox.url}/_sandbox/seed", json={"profile": "realistic"}, timeout=5).json()
    base = f"{sandbox.url}/_sandbox/orgs/{org['tenantId']}"
    counts = {
        c: len(session.get(f"{base}/{c}", timeout=5).json())
        for c in ("TaxRates", "Accounts", "BrandingThemes", "TrackingCategories")
    }
    assert counts == {"TaxRates": 40, "Accounts": 120, "BrandingThemes": 5, "TrackingCategories": 2}


def test_demo_seed_has_three_orgs_with_their_currencies(sandbox: XeroSandbox) -> None:
    orgs = http().get(f"{sandbox.url}/_sandbox/orgs", timeout=5).json()
    assert {(o["name"], o["baseCurrency"]) for o in orgs} == {
        ("Demo Company (NZ)", "NZD"),
        ("Demo Company (AU)", "AUD"),
        ("Demo Company (UK)", "GBP"),
    }


def test_a_change_made_in_xero_is_visible_through_the_api(xero: XeroClient) -> None:
    renamed = http().patch(
        f"{xero.sandbox.url}/_sandbox/orgs/{NZ}/Accounts/200", json={"Name": "Sales (new)"}, timeout=5
    )
    assert renamed.status_code == 200
    assert (
        xero.get("Accounts", params={"where": 'Code=="200"'}).json()["Accounts"][0]["Name"] == "Sales (new)"
    )
    missing = http().patch(f"{xero.sandbox.url}/_sandbox/orgs/{NZ}/Accounts/nope", json={}, timeout=5)
    assert missing.status_code == 404


def test_request_counts_by_path_template(xero: XeroClient) -> None:
    http().post(f"{xero.sandbox.url}/_sandbox/requests/reset", timeout=5)
    made = xero.put("Invoices", {"Invoices": [invoice()]}).json()["Invoices"][0]
    xero.get(f"Invoices/{made['InvoiceID']}")
    xero.get(f"Invoices/{made['InvoiceID']}")
    counts = http().get(f"{xero.sandbox.url}/_sandbox/requests", timeout=5).json()
    assert {
        "method": "GET",
        "path": "/api.xro/2.0/Invoices/{id}",
        "organisation": xero.tenant_id,
        "count": 2,
    } in counts
    assert {
        "method": "PUT",
        "path": "/api.xro/2.0/Invoices",
        "organisation": xero.tenant_id,
        "count": 1,
    } in counts


def test_the_command_line_serves_until_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.sandbox.xero",
            "--port",
            str(port),
            "--time-scale",
            "2",
            "--seed",
            "realistic",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=15)
        orgs = http().get(f"http://127.0.0.1:{port}/_sandbox/orgs", timeout=5).json()
        limits = http().get(f"http://127.0.0.1:{port}/_sandbox/limits", timeout=5).json()
        assert [o["name"] for o in orgs] == ["Realistic Trading Ltd"] and limits["time_scale"] == 2.0
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
