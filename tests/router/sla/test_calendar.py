"""Business-hours arithmetic: table tests across nights, weekends, holidays and DST."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from router.sla.calendar import (
    Calendar,
    CalendarError,
    add_business_seconds,
    build_calendar,
    business_seconds_between,
    is_open,
    next_open,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
NINE_SIX = {day: [["09:00", "18:00"]] for day in WEEKDAYS}
SPLIT = {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in WEEKDAYS}
H = 3600


def z(text: str) -> datetime:
    """'2026-06-01 09:00' as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


BERLIN = build_calendar("Europe/Berlin", NINE_SIX)
BERLIN_SPLIT = build_calendar("Europe/Berlin", SPLIT)
BERLIN_XMAS = build_calendar("Europe/Berlin", NINE_SIX, ["2026-12-24"], "DE")
NEW_YORK = build_calendar("America/New_York", {day: [["09:00", "17:00"]] for day in WEEKDAYS})
MOSCOW_RU = build_calendar("Europe/Moscow", NINE_SIX, [], "ru")
NIGHT = build_calendar("Europe/Berlin", {"mon": [["22:00", "24:00"]], "tue": [["00:00", "06:00"]]})
BERLIN_SUNDAYS = build_calendar("Europe/Berlin", {"sun": [["00:00", "24:00"]]})
NY_SUNDAY_NIGHT = build_calendar("America/New_York", {"sun": [["01:00", "04:00"]]})

# (case, calendar, start UTC, seconds, due UTC). Berlin summer is UTC+2, winter UTC+1.
ADD_CASES: list[tuple[str, Calendar | None, str, float, str]] = [
    ("inside hours", BERLIN, "2026-06-01 08:00", 2 * H, "2026-06-01 10:00"),
    ("across the night", BERLIN, "2026-06-01 15:00", 2 * H, "2026-06-02 08:00"),
    ("arrives before opening", BERLIN, "2026-06-01 04:00", H, "2026-06-01 08:00"),
    ("arrives after closing", BERLIN, "2026-06-01 20:00", H, "2026-06-02 08:00"),
    ("arrives on Saturday", BERLIN, "2026-06-06 10:00", H, "2026-06-08 08:00"),
    ("across the weekend", BERLIN, "2026-06-05 15:00", 2 * H, "2026-06-08 08:00"),
    ("ends exactly at closing", BERLIN, "2026-06-01 07:00", 9 * H, "2026-06-01 16:00"),
    ("longer than a working day", BERLIN, "2026-06-01 07:00", 20 * H, "2026-06-03 09:00"),
    ("a working week and more", BERLIN, "2026-06-01 07:00", 46 * H, "2026-06-08 08:00"),
    ("zero seconds", BERLIN, "2026-06-06 10:00", 0, "2026-06-06 10:00"),
    ("split shift: into the afternoon", BERLIN_SPLIT, "2026-06-01 10:30", H, "2026-06-01 12:30"),
    ("split shift: arrives at lunch", BERLIN_SPLIT, "2026-06-01 11:30", 1800, "2026-06-01 12:30"),
    ("split shift: ends at lunch", BERLIN_SPLIT, "2026-06-01 07:00", 4 * H, "2026-06-01 11:00"),
    ("holiday and public holidays", BERLIN_XMAS, "2026-12-23 16:00", 2 * H, "2026-12-28 09:00"),
    ("Russian new-year holidays", MOSCOW_RU, "2026-12-30 14:00", 2 * H, "2027-01-11 07:00"),
    ("spring forward over the weekend", BERLIN, "2026-03-27 16:00", 2 * H, "2026-03-30 08:00"),
    ("fall back over the weekend", BERLIN, "2026-10-23 15:00", 2 * H, "2026-10-26 09:00"),
    ("New York spring forward", NEW_YORK, "2026-03-06 21:00", 2 * H, "2026-03-09 14:00"),
    ("New York fall back", NEW_YORK, "2026-10-30 20:00", 2 * H, "2026-11-02 15:00"),
    ("Berlin short Sunday: 23 h", BERLIN_SUNDAYS, "2026-03-28 23:00", 23 * H, "2026-03-29 22:00"),
    ("Berlin long Sunday: 25 h", BERLIN_SUNDAYS, "2026-10-24 22:00", 25 * H, "2026-10-25 23:00"),
    ("NY 01-04 on spring-forward day is 2 h", NY_SUNDAY_NIGHT, "2026-03-08 06:00", 2 * H,
     "2026-03-08 08:00"),
    ("NY 01-04 on fall-back day is 4 h", NY_SUNDAY_NIGHT, "2026-11-01 05:00", 4 * H,
     "2026-11-01 09:00"),
    ("night shift across midnight", NIGHT, "2026-06-01 21:00", 2 * H, "2026-06-01 23:00"),
    ("calendar time", None, "2026-06-06 10:00", 90 * 60, "2026-06-06 11:30"),
    ("calendar time across DST", None, "2026-03-28 23:00", 24 * H, "2026-03-29 23:00"),
]


@pytest.mark.parametrize(("case", "cal", "start", "seconds", "due"), ADD_CASES,
                         ids=[c[0] for c in ADD_CASES])
def test_add_business_seconds(case: str, cal: Calendar | None, start: str, seconds: float,
                              due: str) -> None:
    assert add_business_seconds(cal, z(start), seconds) == z(due), case
    if seconds:
        assert business_seconds_between(cal, z(start), z(due)) == seconds, case


BETWEEN_CASES: list[tuple[str, Calendar | None, str, str, float]] = [
    ("same interval", BERLIN, "2026-06-01 08:00", "2026-06-01 09:30", 1.5 * H),
    ("over a night", BERLIN, "2026-06-01 15:00", "2026-06-02 08:00", 2 * H),
    ("both closed, weekend", BERLIN, "2026-06-06 10:00", "2026-06-07 10:00", 0),
    ("over lunch", BERLIN_SPLIT, "2026-06-01 10:00", "2026-06-01 13:00", 2 * H),
    ("a whole week", BERLIN, "2026-06-01 00:00", "2026-06-08 00:00", 45 * H),
    ("backwards is negative", BERLIN, "2026-06-02 08:00", "2026-06-01 15:00", -2 * H),
    ("calendar time", None, "2026-06-01 00:00", "2026-06-02 00:00", 24 * H),
]


@pytest.mark.parametrize(("case", "cal", "a", "b", "seconds"), BETWEEN_CASES,
                         ids=[c[0] for c in BETWEEN_CASES])
def test_business_seconds_between(case: str, cal: Calendar | None, a: str, b: str,
                                  seconds: float) -> None:
    assert business_seconds_between(cal, z(a), z(b)) == seconds, case


OPEN_CASES: list[tuple[str, Calendar | None, str, bool, str]] = [
    ("inside", BERLIN, "2026-06-01 10:00", True, "2026-06-01 10:00"),
    ("opening moment is open", BERLIN, "2026-06-01 07:00", True, "2026-06-01 07:00"),
    ("closing moment is closed", BERLIN, "2026-06-01 16:00", False, "2026-06-02 07:00"),
    ("Saturday", BERLIN, "2026-06-06 10:00", False, "2026-06-08 07:00"),
    ("lunch", BERLIN_SPLIT, "2026-06-01 11:30", False, "2026-06-01 12:00"),
    ("holiday", BERLIN_XMAS, "2026-12-24 10:00", False, "2026-12-28 08:00"),
    ("night shift after midnight", NIGHT, "2026-06-01 23:30", True, "2026-06-01 23:30"),
    ("calendar time", None, "2026-06-06 03:00", True, "2026-06-06 03:00"),
]


@pytest.mark.parametrize(("case", "cal", "at", "open_", "next_"), OPEN_CASES,
                         ids=[c[0] for c in OPEN_CASES])
def test_is_open_and_next_open(case: str, cal: Calendar | None, at: str, open_: bool,
                               next_: str) -> None:
    assert is_open(cal, z(at)) is open_, case
    assert next_open(cal, z(at)) == z(next_), case


def test_adding_then_measuring_gives_back_the_seconds() -> None:
    rng = random.Random(14)
    for cal in (BERLIN, BERLIN_SPLIT, BERLIN_XMAS, NEW_YORK, MOSCOW_RU, NIGHT):
        for _ in range(200):
            start = z("2026-01-01 00:00") + timedelta(minutes=rng.randrange(0, 525_600))
            seconds = rng.randrange(1, 200 * H)
            due = add_business_seconds(cal, start, seconds)
            assert business_seconds_between(cal, start, due) == seconds
            assert is_open(cal, due - timedelta(seconds=1))


def test_a_year_long_target_walks_days_not_minutes() -> None:
    # 2,000 business hours (~a working year) comes back at once: the walk is per interval.
    due = add_business_seconds(BERLIN, z("2026-01-05 08:00"), 2000 * H)
    assert business_seconds_between(BERLIN, z("2026-01-05 08:00"), due) == 2000 * H


BAD: list[tuple[str, str, dict[str, list[list[str]]], list[str], str | None, str]] = [
    ("unknown zone", "Mars/Olympus", NINE_SIX, [], None, "IANA"),
    ("offset, not a zone", "+03:00", NINE_SIX, [], None, "IANA"),
    ("one-digit hour", "UTC", {"mon": [["9:00", "18:00"]]}, [], None, "HH:MM"),
    ("hour 25", "UTC", {"mon": [["09:00", "25:00"]]}, [], None, "HH:MM"),
    ("minute 60", "UTC", {"mon": [["09:60", "18:00"]]}, [], None, "HH:MM"),
    ("24:00 as a start", "UTC", {"mon": [["24:00", "24:00"]]}, [], None, "HH:MM"),
    ("overlap", "UTC", {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}, [], None, "overlap"),
    ("crosses midnight", "UTC", {"mon": [["22:00", "06:00"]]}, [], None, "cross midnight"),
    ("three times", "UTC", {"mon": [["09:00", "12:00", "13:00"]]}, [], None, "interval"),
    ("unknown day", "UTC", {"monday": [["09:00", "18:00"]]}, [], None, "weekday"),
    ("never open", "UTC", {}, [], None, "never open"),
    ("bad holiday", "UTC", NINE_SIX, ["2026-02-30"], None, "YYYY-MM-DD"),
    ("holiday not ISO", "UTC", NINE_SIX, ["24.12.2026"], None, "YYYY-MM-DD"),
    ("unknown country", "UTC", NINE_SIX, [], "XX", "country"),
]


@pytest.mark.parametrize(("case", "tz", "weekly", "holidays", "country", "says"), BAD,
                         ids=[b[0] for b in BAD])
def test_bad_calendars_are_refused_with_a_reason(
    case: str, tz: str, weekly: dict[str, list[list[str]]], holidays: list[str],
    country: str | None, says: str,
) -> None:
    with pytest.raises(CalendarError, match=says):
        build_calendar(tz, weekly, holidays, country)
