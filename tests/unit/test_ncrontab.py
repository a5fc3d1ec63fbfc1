from datetime import UTC, datetime

import pytest

from local.host import ncrontab


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("* * * * * *", "2026-01-01T00:00:00", "2026-01-01T00:00:01"),
        ("0 */5 * * * *", "2026-01-01T00:03:10", "2026-01-01T00:05:00"),
        ("0 0 */6 * * *", "2026-01-01T06:00:00", "2026-01-01T12:00:00"),
        ("30 15 9 * * mon-fri", "2026-11-27T10:00:00", "2026-11-30T09:15:30"),  # Friday after 9:15 → Monday
        ("0 0 0 29 feb *", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("0 0 12 * * 0", "2026-11-27T00:00:00", "2026-11-29T12:00:00"),  # Sunday
        ("0 0 12 * * 7", "2026-11-27T00:00:00", "2026-11-29T12:00:00"),  # 7 is Sunday too
        ("0 1,31 * * * *", "2026-01-01T00:02:00", "2026-01-01T00:31:00"),
    ],
)
def test_next_occurrence(expression: str, after: str, expected: str) -> None:
    assert ncrontab.parse(expression).next_after(at(after)) == at(expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("*/5 * * * *", "has 5 fields; NCRONTAB needs 6"),
        ("61 * * * * *", "outside 0-59"),
        ("* * * * * funday", "is not a number"),
        ("*/0 * * * * *", "step must be at least 1"),
    ],
)
def test_bad_expressions_say_what_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ncrontab.parse(expression)
