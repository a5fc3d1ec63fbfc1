"""The portal's abuse limits (issue 16), counted in table storage so that every instance sees them.

Sign-in: every attempt reserves a use before the password is checked, so parallel guesses cannot slip
between a check and a count. Per network (an IPv4 address, an IPv6 /64: one customer line holds a whole
/64), per account-and-network pair, and per account for networks it never signed in from: an attacker
can spend the account's budget for strangers, but not lock the owner out of the network they use.
E-mail: per network, per address, and a cool-down before a new link voids the one already sent.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from shared.store.accounts import normalise_email
from shared.store.limits import LimitStore, Rule

SIGNIN_NETWORK = Rule("signinnetwork", 20, timedelta(minutes=15))  # failed sign-ins, any accounts
SIGNIN_PAIR = Rule("signinpair", 5, timedelta(minutes=15))  # one account from one network
SIGNIN_STRANGERS = Rule("signinstrangers", 5, timedelta(minutes=15))  # one account, unknown networks
KNOWN_NETWORK = Rule("signinknown", 1, timedelta(days=90))  # the account signed in from here
SIGNUP_NETWORK = Rule("signupnetwork", 10, timedelta(hours=1))
MAIL_NETWORK = Rule("mailnetwork", 10, timedelta(hours=1))  # reset and resend requests
MAIL_ADDRESS = Rule("mailaddress", 3, timedelta(hours=1))
MAIL_COOLDOWN = Rule("mailcooldown", 1, timedelta(minutes=2))


def network_of(client_ip: str) -> str:
    """The unit one client controls: its IPv4 address, or the /64 of its IPv6 address."""
    try:
        address = ipaddress.ip_address(client_ip.strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def pair_key(account_id: str, network: str) -> str:
    return f"{account_id}|{network}"


class NetworkLimited(Exception):
    """Too many requests from the caller's network: the page answers 429 and says when to come back."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"wait {wait}")
        self.wait = wait


def check_network(limits: LimitStore, rule: Rule, client_ip: str) -> None:
    """Reserve one use for the caller's network, or NetworkLimited."""
    wait = limits.take(rule, network_of(client_ip))
    if wait is not None:
        raise NetworkLimited(wait)


def may_mail(limits: LimitStore, email: str, purpose: str) -> bool:
    """Whether a `purpose` link ("verify", "reset") may be sent to this address now: not within the
    cool-down of the last one of that purpose (a new link voids the old, so a stranger must not be able
    to void someone's link again and again), and at most MAIL_ADDRESS.limit e-mails an hour. A refusal is
    silent: the page's answer never says who has an account."""
    address = normalise_email(email)
    cooled = limits.take(MAIL_COOLDOWN, f"{purpose}|{address}") is None
    return cooled and limits.take(MAIL_ADDRESS, address) is None
