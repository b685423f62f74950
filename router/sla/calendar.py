"""Business-hours arithmetic: due times counted only while a calendar is open.

Pure and fast: it walks a calendar's open intervals day by day (never minute by minute).
Local wall-clock intervals become UTC through `zoneinfo`, so a day with a DST change simply
has a longer or shorter interval; nothing here adds offsets by hand. A calendar of `None`
means calendar time: open around the clock.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead a due time may be looked for before the calendar counts as never open (a
# calendar whose open days are all holidays for this long is a configuration mistake).
MAX_DAYS_AHEAD = 3 * 366
MINUTES_PER_DAY = 24 * 60


class CalendarError(ValueError):
    """A calendar that cannot be built or that is never open."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """A time zone, open intervals per weekday (minutes since local midnight), closed dates."""

    tz: ZoneInfo
    # weekly[0] is Monday: ((start_minute, end_minute), ...), sorted, not overlapping.
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = frozenset()
    holiday_country: str | None = None

    def closed_on(self, day: date) -> bool:
        if day in self.holidays:
            return True
        return self.holiday_country is not None and day in _country_holidays(
            self.holiday_country, day.year)


@functools.lru_cache(maxsize=256)
def _country_holidays(country: str, year: int) -> frozenset[date]:
    # The holidays package (every country's rules) loads only for calendars that name one.
    import holidays as holiday_data

    return frozenset(holiday_data.country_holidays(country, years=year).keys())


def supported_countries() -> frozenset[str]:
    import holidays as holiday_data

    return frozenset(holiday_data.list_supported_countries())


def parse_clock(text: str, *, end: bool = False) -> int:
    """'HH:MM' → minutes since midnight; '24:00' only as an interval's end."""
    hours, sep, minutes = text.partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2 and hours.isdigit()
            and minutes.isdigit()):
        raise CalendarError(f"'{text}' is not a time of day as 'HH:MM'")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not end):
        raise CalendarError(f"'{text}' is not a time of day as 'HH:MM' (00:00-23:59, "
                            "or 24:00 to end a day)")
    return value


def parse_weekly(weekly: Mapping[str, Sequence[Sequence[str]]]) -> tuple[
        tuple[tuple[int, int], ...], ...]:
    """The API's {"mon": [["09:00", "13:00"], ...]} → sorted minute intervals per weekday.

    An interval may not cross midnight: write a night shift as ["22:00", "24:00"] on one day
    and ["00:00", "06:00"] on the next (the two join into one stretch when counting).
    """
    unknown = sorted(set(weekly) - set(DAYS))
    if unknown:
        raise CalendarError(f"unknown weekday {unknown[0]!r}; use {', '.join(DAYS)}")
    days: list[tuple[tuple[int, int], ...]] = []
    for name in DAYS:
        spans: list[tuple[int, int]] = []
        for pair in weekly.get(name, ()):
            if len(pair) != 2:
                raise CalendarError(f"{name}: each interval is [\"HH:MM\", \"HH:MM\"]")
            start, stop = parse_clock(pair[0]), parse_clock(pair[1], end=True)
            if stop <= start:
                raise CalendarError(
                    f"{name}: {pair[0]}-{pair[1]} ends before it starts; an interval may not "
                    f"cross midnight (split it into {pair[0]}-24:00 and 00:00-{pair[1]} on "
                    "the next day)")
            spans.append((start, stop))
        spans.sort()
        for (a_start, a_stop), (b_start, _b) in itertools.pairwise(spans):
            if b_start < a_stop:
                raise CalendarError(f"{name}: intervals overlap ({_hhmm(a_start)}-"
                                    f"{_hhmm(a_stop)} and one starting {_hhmm(b_start)})")
        days.append(tuple(spans))
    if not any(days):
        raise CalendarError("weekly has no open interval: the calendar would never open")
    return tuple(days)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_holidays(values: Sequence[str]) -> frozenset[date]:
    out: set[date] = set()
    for value in values:
        try:
            if len(value) != 10:
                raise ValueError(value)
            out.add(date.fromisoformat(value))
        except ValueError:
            raise CalendarError(f"holiday '{value}' is not a date as 'YYYY-MM-DD'") from None
    return frozenset(out)


def build_calendar(timezone: str, weekly: Mapping[str, Sequence[Sequence[str]]],
                   holidays: Sequence[str] = (), holiday_country: str | None = None) -> Calendar:
    """A Calendar from the stored/API shape; CalendarError says what is wrong."""
    try:
        tz = ZoneInfo(timezone)
    except (ValueError, KeyError, OSError):
        raise CalendarError(f"'{timezone}' is not an IANA time zone (e.g. Europe/Berlin)"
                            ) from None
    country = holiday_country.upper() if holiday_country else None
    if country is not None and country not in supported_countries():
        raise CalendarError(f"no public holidays are known for country '{holiday_country}' "
                            "(ISO 3166-1 alpha-2, e.g. RU, DE, US)")
    return Calendar(tz=tz, weekly=parse_weekly(weekly), holidays=parse_holidays(holidays),
                    holiday_country=country)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _local_moment(cal: Calendar, day: date, minute: int) -> datetime:
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    # fold=0: a wall time repeated at fall-back is its first occurrence; one skipped at
    # spring-forward maps past the gap, so the interval is as long as it really lasts.
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=cal.tz)
    return local.astimezone(UTC)


def open_intervals(cal: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Open (from, to) UTC intervals that end after `start`, in time order; adjacent ones
    (a night shift across midnight) are joined."""
    start = _utc(start)
    day = start.astimezone(cal.tz).date() - timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    for _ in range(MAX_DAYS_AHEAD):
        if not cal.closed_on(day):
            for first, last in cal.weekly[day.weekday()]:
                opened, closed = _local_moment(cal, day, first), _local_moment(cal, day, last)
                if closed <= opened or closed <= start:
                    continue
                if pending is not None and opened <= pending[1]:
                    pending = (pending[0], max(pending[1], closed))
                    continue
                if pending is not None:
                    yield pending
                pending = (opened, closed)
        day += timedelta(days=1)
    if pending is not None:
        yield pending
    raise CalendarError(f"the calendar is not open at any time in {MAX_DAYS_AHEAD} days")


def add_business_seconds(cal: Calendar | None, start: datetime, seconds: float) -> datetime:
    """The moment `seconds` of open time after `start` (the earliest such moment)."""
    start = _utc(start)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    if cal is None:
        return start + timedelta(seconds=seconds)
    if seconds == 0:
        return start
    remaining = timedelta(seconds=seconds)
    for opened, closed in open_intervals(cal, start):
        begin = max(opened, start)
        span = closed - begin
        if remaining <= span:
            return begin + remaining
        remaining -= span
    raise CalendarError("unreachable")  # open_intervals raises first


def business_seconds_between(cal: Calendar | None, a: datetime, b: datetime) -> float:
    """Open seconds from `a` to `b` (negative when `b` is before `a`)."""
    a, b = _utc(a), _utc(b)
    if b < a:
        return -business_seconds_between(cal, b, a)
    if cal is None:
        return (b - a).total_seconds()
    total = timedelta()
    for opened, closed in open_intervals(cal, a):
        if opened >= b:
            break
        total += min(closed, b) - max(opened, a)
    return total.total_seconds()


def is_open(cal: Calendar | None, at: datetime) -> bool:
    if cal is None:
        return True
    at = _utc(at)
    opened, _closed = next(open_intervals(cal, at))
    return opened <= at


def next_open(cal: Calendar | None, at: datetime) -> datetime:
    """`at` itself when open, else the moment the calendar next opens."""
    at = _utc(at)
    if cal is None:
        return at
    opened, _closed = next(open_intervals(cal, at))
    return max(opened, at)
