"""One reading of Retry-After for every client (shared/http.py): whole seconds, else the caller's default."""

from __future__ import annotations

import math

import pytest

from shared.dataverse.client_errors import raise_for_answer
from shared.errors import RetriableError
from shared.http import retry_after


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7),
        ({"retry-after": " 120 "}, 120),
        ({"RETRY-AFTER": "0"}, 0),
        ({}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": "1.5"}, None),
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "\u0663"}, None),  # ARABIC-INDIC DIGIT THREE: a digit to str.isdigit, not to HTTP
        ({"Retry-After": "9" * 12}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
    ],
)
def test_retry_after_reads_whole_seconds_only(headers: dict[str, str], seconds: int | None) -> None:
    assert retry_after(headers) == seconds


@pytest.mark.parametrize("value", ["nan", "inf", "-3"])
def test_a_dynamics_throttle_with_an_unreadable_retry_after_carries_no_delay(value: str) -> None:
    # GIVEN Dynamics answers 429 with a Retry-After that is not a number of seconds
    with pytest.raises(RetriableError) as caught:
        raise_for_answer(429, {"Retry-After": value}, None, "read the invoice")
    # THEN the error carries no delay (the worker uses its own), never one it cannot compute with
    delay = caught.value.retry_after
    assert delay is None or (math.isfinite(delay) and delay >= 0)
