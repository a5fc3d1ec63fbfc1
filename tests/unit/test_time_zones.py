"""Windows time zone ids, as Dynamics (timezonedefinition.standardname) and Xero (Organisation.Timezone)
write them, to the IANA names the connector stores."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from shared.time_zones import _WINDOWS_TO_IANA, iana_for_windows


@pytest.mark.parametrize(
    ("written", "zone"),
    [
        ("New Zealand Standard Time", "Pacific/Auckland"),  # Dynamics
        ("NEWZEALANDSTANDARDTIME", "Pacific/Auckland"),  # Xero
        ("AUSEASTERNSTANDARDTIME", "Australia/Sydney"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("UTC", "UTC"),
    ],
)
def test_both_spellings_name_the_same_zone(written: str, zone: str) -> None:
    assert iana_for_windows(written) == zone


@pytest.mark.parametrize("unknown", ["", None, "Mars Standard Time", "../etc/passwd"])
def test_an_unknown_id_proposes_nothing(unknown: str | None) -> None:
    assert iana_for_windows(unknown) is None


def test_every_zone_is_one_zoneinfo_knows() -> None:
    for zone in _WINDOWS_TO_IANA.values():
        ZoneInfo(zone)
