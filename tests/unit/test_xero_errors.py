"""Xero's refusals in words a Dynamics user acts on; HTTP failures sorted for the queue."""

from __future__ import annotations

import pytest

from shared.sync.xero_errors import GENERIC_FIX, explain
from shared.xero.errors import classify_status, messages_of, retry_after_seconds


@pytest.mark.parametrize(
    ("message", "fix_has"),
    [
        (
            "The contact name Kauri Timber Ltd is already assigned to another contact. "
            "The contact name must be unique across all active contacts.",
            "rename the customer in Dynamics",
        ),
        ("Invoice # must be unique.", "change the invoice number in Dynamics"),
        ("Account code '999' is not a valid code for this document.", "chart of accounts"),
        (
            "The TaxType code 'OUTPUT9' cannot be used with account code '200'.",
            "not allowed with that account",
        ),
        ("Organisation is not subscribed to currency NZD", "enable NZD in Xero's Currencies settings"),
        ("The contact Kauri Timber Ltd has been archived.", "restore it in Xero"),
        ("Invoice not of valid status for modification", "remove the payment in Xero"),
        (
            "This document cannot be edited as it has a payment or credit note allocated to it.",
            "remove the payment in Xero",
        ),
        ("The Code field must not be more than 30 characters long.", "30 characters or fewer"),
        ("Email address must be valid.", "e-mail address"),
        ("Item code 'PINE-H3' is not valid", "Create products as Xero items"),
    ],
)
def test_known_messages_get_a_specific_fix(message: str, fix_has: str) -> None:
    explained = explain([message])
    assert explained.startswith(f"Xero says: {message} — fix: ")
    assert fix_has in explained


def test_unknown_messages_get_the_generic_fix_and_duplicates_are_dropped() -> None:
    explained = explain(["Something new happened", "Something new happened", " "])
    assert explained == f"Xero says: Something new happened — fix: {GENERIC_FIX}"


def test_no_message_at_all_still_says_what_to_do() -> None:
    assert explain([]).endswith(GENERIC_FIX)


def test_the_explanation_fits_a_dynamics_column() -> None:
    messages = [f"Problem number {n} " + "x" * 300 for n in range(20)]
    explained = explain(messages)
    assert len(explained) <= 2000 and explained.startswith("Xero says: Problem number 0")
    assert len(explain(["y" * 5000])) <= 2000


def test_messages_are_found_in_both_reply_shapes() -> None:
    summarized = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": "Invoice # must be unique."}]}],
    }
    per_element = {
        "Invoices": [
            {"HasErrors": False},
            {"HasErrors": True, "ValidationErrors": [{"Message": "Email address must be valid."}]},
        ]
    }
    assert messages_of(summarized) == ["Invoice # must be unique."]
    assert messages_of(per_element) == ["Email address must be valid."]
    assert messages_of({"Title": "Forbidden", "Detail": "AuthorizationUnsuccessful"}) == [
        "AuthorizationUnsuccessful"
    ]
    assert messages_of("not json") == []


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (429, "defer"),
        (500, "retry"),
        (503, "retry"),
        (504, "retry"),
        (408, "retry"),
        (400, "fatal"),
        (404, "fatal"),
        (401, "reconnect"),
        (403, "reconnect"),
    ],
)
def test_classify_status(status: int, outcome: str) -> None:
    assert classify_status(status, {}) == outcome


def test_success_is_not_a_failure_to_classify() -> None:
    with pytest.raises(ValueError):
        classify_status(200, {})


def test_retry_after() -> None:
    assert retry_after_seconds({"Retry-After": "37", "X-Rate-Limit-Problem": "minute"}) == 37
    assert retry_after_seconds({"retry-after": "0"}) == 1
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, default=60) == 60
    assert retry_after_seconds({}) == 60


# The sandbox's words (local/sandbox/xero/rules.py, invoices.py) for defaults saved in the portal: an
# empty or unknown default account, an unknown tax type, a branding theme that is gone.
@pytest.mark.parametrize(
    "message",
    [
        "Account code '' is not a valid code for this document.",
        "Account code 'NOPE-999' is not a valid code for this document.",
        "The TaxType code 'BOGUS' does not exist or cannot be used for this type of transaction.",
        "The TaxType code 'OUTPUT2' cannot be used with account code '200'.",
        "Branding theme with BrandingThemeID 5d4a1f36-7c64-4e37-9a8e-1ab2c3d4e5f6 could not be found.",
    ],
)
def test_a_refused_default_names_the_portal_not_dynamics(message: str) -> None:
    fix = explain([message]).split(" — fix: ", 1)[1]
    assert "Defaults on the connection's page in the connector portal" in fix
    assert "Dynamics" not in fix
