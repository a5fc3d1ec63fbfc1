"""Attack tests for the portal's abuse limits (issue 16), on a real Azurite with a clock the test moves:
parallel guesses, guesses from many networks, a lockout used against the owner, mail bombing and link
voiding, IPv6 rotation inside a /64, a second instance that shares nothing in memory, free text in mail."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from shared.accounts.abuse import MAIL_COOLDOWN, NetworkLimited
from shared.accounts.passwords import HashingBusy, hash_password
from shared.accounts.recovery import request_reset
from shared.accounts.registration import SignupForm, register, resend_verification
from shared.accounts.services import AccountServices
from shared.accounts.signin import WRONG, SignInResult, sign_in
from shared.config import Settings
from shared.email.message import EmailMessage
from shared.store.accounts import AccountStore
from shared.store.limits import LimitStore

PASSWORD = "correct horse 42 battery"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Outbox:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sent if m.to == address]


@pytest.fixture
def make_services(storage_connection: str, unique_name: str) -> Callable[[], AccountServices]:
    """Each call is another instance of the app: its own clients, nothing shared but the tables."""
    settings = Settings.from_env({"AzureWebJobsStorage": storage_connection, "TABLE_PREFIX": unique_name})
    clock, outbox = Clock(), Outbox()

    def build() -> AccountServices:
        return AccountServices(
            store=AccountStore.from_settings(settings),
            limits=LimitStore(LimitStore.from_settings(settings)._table, clock),
            mailer=outbox,
            secret="abuse-test-secret",
            base_url="https://connector.example",
            clock=clock,
        )

    return build


def _clock(svc: AccountServices) -> Clock:
    return svc.clock  # type: ignore[return-value]


def _outbox(svc: AccountServices) -> Outbox:
    return svc.mailer  # type: ignore[return-value]


def _account(svc: AccountServices, email: str = "owner@example.com") -> str:
    account = svc.store.create(email, hash_password(PASSWORD), name="Owner", company="Kiwi Ltd")
    svc.store.update(account.id, lambda a: setattr(a, "email_verified", True))
    return email


def _guess(svc: AccountServices, email: str, n: int, ip: str) -> SignInResult:
    """One wrong guess; a check the hashing pool had no room for counts as refused (it was not made)."""
    try:
        return sign_in(svc, email, f"guess {n}", ip)
    except HashingBusy:
        return SignInResult(errors={"": "busy"}, throttled=True)


def _admitted(results: list[SignInResult]) -> int:
    """Attempts whose password was checked: answered 'not right' (or signed in), not 'too many'."""
    return sum(1 for r in results if r.account is not None or r.errors.get("", "").startswith(WRONG))


def test_parallel_guesses_from_one_network_get_five_checks(
    make_services: Callable[[], AccountServices],
) -> None:
    svc = make_services()
    email = _account(svc)
    instances = [make_services() for _ in range(4)]  # spread over four instances, as Azure would
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda n: _guess(instances[n % 4], email, n, "203.0.113.9"), range(24)))
    assert 0 < _admitted(results) <= 5  # 5 unless the hashing pool was full for some (then fewer)
    assert all(r.account is None for r in results)


def test_guesses_from_many_networks_get_five_checks_per_account(
    make_services: Callable[[], AccountServices],
) -> None:
    svc = make_services()
    email = _account(svc)
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda n: _guess(svc, email, n, f"198.51.{n // 250}.{n % 250}"), range(40)))
    assert 0 < _admitted(results) <= 5  # 5 unless the hashing pool was full for some (then fewer)


def test_a_stranger_cannot_lock_the_owner_out_of_the_network_they_use(
    make_services: Callable[[], AccountServices],
) -> None:
    svc = make_services()
    email = _account(svc)
    assert sign_in(svc, email, PASSWORD, "192.0.2.10").account is not None  # the owner's office
    # an attacker burns the account's budget from many networks
    for n in range(30):
        sign_in(svc, email, "guess", f"198.51.100.{n}")
    assert sign_in(svc, email, PASSWORD, "198.51.100.99").throttled  # a new network: refused for now
    # but the owner still signs in from their office
    assert sign_in(svc, email, PASSWORD, "192.0.2.10").account is not None


def test_a_network_failing_for_many_accounts_is_stopped_on_every_instance(
    make_services: Callable[[], AccountServices],
) -> None:
    one, two = make_services(), make_services()
    results = [
        sign_in((one, two)[n % 2], f"nobody{n}@example.com", "guess", "203.0.113.50") for n in range(21)
    ]
    assert [r.throttled for r in results] == [False] * 20 + [True]


def test_addresses_inside_one_ipv6_64_count_as_one_network(
    make_services: Callable[[], AccountServices],
) -> None:
    svc = make_services()
    results = [sign_in(svc, f"nobody{n}@example.com", "guess", f"2001:db8:7:7::{n + 1:x}") for n in range(21)]
    assert results[-1].throttled and not any(r.throttled for r in results[:-1])
    assert not sign_in(svc, "nobody@example.com", "guess", "2001:db8:7:8::1").throttled  # the next /64


def test_reset_requests_cannot_bomb_an_address_or_void_its_link(
    make_services: Callable[[], AccountServices],
) -> None:
    svc = make_services()
    email = _account(svc)
    # many networks ask for a reset of one address at once: one e-mail
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda n: request_reset(svc, email, f"198.51.100.{n}"), range(20)))
    assert len(_outbox(svc).to(email)) == 1
    # and within the hour, asking every minute: at most three
    for n in range(59):
        _clock(svc).advance(minutes=1)
        request_reset(svc, email, f"198.51.101.{n}")
    assert len(_outbox(svc).to(email)) == 3


def test_the_link_already_sent_survives_requests_within_the_cool_down(
    make_services: Callable[[], AccountServices],
) -> None:
    svc = make_services()
    email = _account(svc)
    request_reset(svc, email, "198.51.100.1")
    nonce = svc.store.get_by_email(email).reset_link_nonce  # type: ignore[union-attr]
    request_reset(svc, email, "198.51.100.2")
    assert svc.store.get_by_email(email).reset_link_nonce == nonce  # type: ignore[union-attr]
    _clock(svc).advance(seconds=MAIL_COOLDOWN.window.total_seconds() + 1)
    request_reset(svc, email, "198.51.100.3")  # after the cool-down the person gets a fresh link
    assert svc.store.get_by_email(email).reset_link_nonce != nonce  # type: ignore[union-attr]
    assert len(_outbox(svc).to(email)) == 2


def test_one_network_cannot_send_mail_to_many_addresses(make_services: Callable[[], AccountServices]) -> None:
    svc = make_services()
    for n in range(10):
        _account(svc, f"person{n}@example.com")
        request_reset(svc, f"person{n}@example.com", "203.0.113.77")
    with pytest.raises(NetworkLimited):
        request_reset(svc, "person0@example.com", "203.0.113.77")
    with pytest.raises(NetworkLimited):
        resend_verification(svc, "person1@example.com", "203.0.113.77")


def test_sign_ups_per_network_are_limited_and_carry_no_text_of_the_person(
    make_services: Callable[[], AccountServices],
) -> None:
    svc = make_services()
    lure = "Claim your refund at http://evil.example/pay"
    for n in range(10):
        form = SignupForm(name=lure, company=lure, email=f"victim{n}@example.com", terms_accepted=True)
        register(svc, form, "203.0.113.80")
    with pytest.raises(NetworkLimited):
        register(svc, SignupForm("x", "y", "victim99@example.com", True), "203.0.113.80")
    sent = _outbox(svc).sent
    assert len(sent) == 10
    assert all("evil.example" not in m.text + m.html + m.subject and "refund" not in m.text for m in sent)
