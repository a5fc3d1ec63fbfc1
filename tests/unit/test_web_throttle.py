"""How a throttle's wait is worded, and which network a client address counts against (issue 16)."""

from datetime import timedelta

from shared.accounts.abuse import network_of
from shared.accounts.throttle import minutes_text


def test_minutes_are_rounded_up_and_worded() -> None:
    assert minutes_text(timedelta(seconds=5)) == "1 minute"
    assert minutes_text(timedelta(minutes=14, seconds=1)) == "15 minutes"


def test_an_ipv6_client_counts_by_its_64_and_a_mapped_ipv4_as_ipv4() -> None:
    # an attacker rotating addresses inside the /64 their line was given stays one network
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert network_of("2001:db8:1:3::1") != network_of("2001:db8:1:2::1")
    assert network_of("::ffff:198.51.100.7") == network_of("198.51.100.7") == "198.51.100.7"
    assert network_of("not an address") == "unknown"
