"""Days and weeks in the reader's time zone (a support day ends at local midnight)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Interval = Literal["day", "week"]


def period_of(at: datetime, interval: Interval, zone: ZoneInfo) -> str:
    """The first local date of the day or ISO week (Monday) holding `at`, as YYYY-MM-DD."""
    local: date = at.astimezone(zone).date()
    if interval == "week":
        local -= timedelta(days=local.weekday())
    return local.isoformat()


def periods_between(start: datetime, end: datetime, interval: Interval,
                    zone: ZoneInfo) -> list[str]:
    """Every period touching [start, end), in order, so empty periods show as zeros."""
    first = date.fromisoformat(period_of(start, interval, zone))
    last = date.fromisoformat(period_of(end - timedelta(microseconds=1), interval, zone))
    step = timedelta(days=7 if interval == "week" else 1)
    out = []
    while first <= last:
        out.append(first.isoformat())
        first += step
    return out
