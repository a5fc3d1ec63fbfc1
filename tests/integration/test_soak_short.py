"""A short soak on the real path (bench/soak.py with fewer invoices): Xero failing 10%, throttling 5% and
losing 3% of write answers, Dataverse failing 5%, and the host killed with SIGKILL once mid-run. Nothing
may be lost or duplicated, and every invoice must end up in Xero with its result written back (or, if
the retries ran out, with the reason written back)."""

from __future__ import annotations

from pathlib import Path

from bench.soak import run_soak
from local.azurite import Azurite

FAST_HOST = Path(__file__).with_name("fast_host.json")  # 1 s visibility timeout, 3 attempts
INVOICES = 100


def test_faults_and_a_crash_lose_nothing_and_duplicate_nothing(azurite: Azurite) -> None:
    result = run_soak(INVOICES, host_json=FAST_HOST, azurite=azurite, timeout=90)
    assert result.duplicates == 0, result.line()
    assert result.lost == 0, result.line()
    assert result.written_back + result.poison == INVOICES, result.line()
    assert result.in_xero >= result.written_back, result.line()
    assert all("after several tries" in reason for reason in result.poison_reasons)
    assert result.notes[0].startswith("killed the host"), result.notes
