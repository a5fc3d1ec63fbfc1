"""E-mail link tokens: signed, expiring, bound to one purpose, single-use through the stored nonce."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.accounts.links import LinkClaims, LinkProblem, make_token, new_claims, nonce_matches, read_token

SECRET = "unit-link-secret"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_fresh_link_reads_back_its_claims() -> None:
    claims = new_claims("account-1", "verify", NOW)

    read = read_token(make_token(claims, SECRET), "verify", SECRET, NOW + timedelta(hours=23))

    assert read == claims
    assert claims.expires_at == int((NOW + timedelta(hours=24)).timestamp())


def test_links_expire_after_their_lifetime() -> None:
    verify, reset = new_claims("a", "verify", NOW), new_claims("a", "reset", NOW)

    late = NOW + timedelta(hours=24, seconds=1)
    assert read_token(make_token(verify, SECRET), "verify", SECRET, late) is LinkProblem.EXPIRED
    assert read_token(make_token(reset, SECRET), "reset", SECRET, NOW + timedelta(minutes=59)) == reset
    assert (
        read_token(make_token(reset, SECRET), "reset", SECRET, NOW + timedelta(hours=1))
        is LinkProblem.EXPIRED
    )


def test_a_changed_link_is_tampered() -> None:
    token = make_token(new_claims("account-1", "verify", NOW), SECRET)
    longer = make_token(replace(new_claims("account-1", "verify", NOW), expires_at=2**40), SECRET)
    forged = longer.partition(".")[0] + "." + token.partition(".")[2]

    assert read_token(forged, "verify", SECRET, NOW) is LinkProblem.TAMPERED
    assert read_token(token[:-1], "verify", SECRET, NOW) is LinkProblem.TAMPERED
    assert read_token(token, "verify", "another-secret", NOW) is LinkProblem.TAMPERED
    assert read_token("", "verify", SECRET, NOW) is LinkProblem.TAMPERED


def test_a_reset_link_is_no_verification_link_and_the_other_way_round() -> None:
    reset = make_token(new_claims("account-1", "reset", NOW), SECRET)
    verify = make_token(new_claims("account-1", "verify", NOW), SECRET)

    assert read_token(reset, "verify", SECRET, NOW) is LinkProblem.TAMPERED
    assert read_token(verify, "reset", SECRET, NOW) is LinkProblem.TAMPERED


def test_only_the_stored_nonce_opens_the_link() -> None:
    claims = LinkClaims("account-1", "verify", 0, "nonce-1")

    assert nonce_matches("nonce-1", claims)
    assert not nonce_matches("nonce-2", claims)  # a newer link was sent
    assert not nonce_matches("", claims)  # used: the nonce was cleared
