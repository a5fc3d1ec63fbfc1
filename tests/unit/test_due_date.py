"""Due dates from Xero's four sales payment-term types (help.xero.com "Set up due dates")."""

from __future__ import annotations

from datetime import date

import pytest

from shared.sync.due_date import due_date


@pytest.mark.parametrize(
    ("issued", "day", "kind", "expected"),
    [
        (date(2026, 1, 31), 14, "DAYSAFTERBILLDATE", date(2026, 2, 14)),
        (date(2026, 1, 10), 5, "DAYSAFTERBILLMONTH", date(2026, 2, 5)),
        (date(2026, 1, 10), 31, "DAYSAFTERBILLMONTH", date(2026, 3, 3)),
        (date(2026, 1, 10), 25, "OFCURRENTMONTH", date(2026, 1, 25)),
        (date(2026, 1, 28), 25, "OFCURRENTMONTH", date(2026, 1, 28)),  # never before the invoice
        (date(2026, 1, 10), 31, "OFFOLLOWINGMONTH", date(2026, 2, 28)),  # clamped to the month's end
        (date(2026, 12, 3), 20, "OFFOLLOWINGMONTH", date(2027, 1, 20)),
    ],
)
def test_each_term_type(issued: date, day: int, kind: str, expected: date) -> None:
    assert due_date(issued, {"Day": day, "Type": kind}, 30) == expected


def test_no_terms_or_an_unknown_type_take_the_connection_default() -> None:
    assert due_date(date(2026, 1, 10), None, 30) == date(2026, 2, 9)
    assert due_date(date(2026, 1, 10), {"Day": 3, "Type": "SOMEDAY"}, 7) == date(2026, 1, 17)
