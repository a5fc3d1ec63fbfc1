"""Wording of throttles for people. The limits themselves live in shared/accounts/abuse.py and are counted
in table storage (shared/store/limits.py), so that every instance sees the same count."""

from __future__ import annotations

from datetime import timedelta


def minutes_text(delay: timedelta) -> str:
    minutes = max(1, int((delay.total_seconds() + 59) // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
