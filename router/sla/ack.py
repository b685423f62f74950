"""The e-mail acknowledgement's promise: `{due}` and `{response_time}` from the case's SLA."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.lists import format_list
from babel.units import format_unit

from router.models.base import utcnow
from router.models.cases import Case
from router.models.sla import SlaPolicy
from router.sla.calendar import Calendar
from router.sla.clock import choose_target

# Beyond this the weekday alone would be ambiguous, so the date is named too.
WEEKDAY_ONLY = timedelta(days=6)


def locale_of(language: str | None) -> Locale:
    """The template's language ('ru', 'pt-BR', ...), English when unknown."""
    try:
        return Locale.parse((language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def zone_of(timezone: str | None, calendar: Calendar | None) -> ZoneInfo:
    """The customer's time zone when known and valid, else the calendar's, else UTC."""
    if timezone:
        try:
            return ZoneInfo(timezone)
        except (ValueError, KeyError, OSError):
            pass
    return calendar.tz if calendar is not None else ZoneInfo("UTC")


def due_words(due: datetime, zone: ZoneInfo, locale: Locale,
              now: datetime | None = None) -> str:
    """'Monday, 09:30' (or 'Monday, 7 December, 09:30' when a week or more away)."""
    local = due.astimezone(zone)
    far = due - (now or utcnow()) >= WEEKDAY_ONLY
    return format_datetime(local, "EEEE, d MMMM, HH:mm" if far else "EEEE, HH:mm",
                           locale=locale)


def duration_words(seconds: int, locale: Locale, *, business: bool) -> str:
    """'4 hours', '1 hour, 30 minutes', '2 days'; business time never in days (a business
    day is not 24 hours)."""
    minutes = max(1, round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60) if not business else (0, minutes)
    hours, minutes = divmod(rest, 60)
    parts = [format_unit(value, unit, locale=locale, length="long")
             for value, unit in ((days, "duration-day"), (hours, "duration-hour"),
                                 (minutes, "duration-minute")) if value]
    return format_list(parts, style="unit", locale=locale)


def render_ack(template: str, case: Case, policy: SlaPolicy | None, calendar: Calendar | None,
               language: str | None, *, timezone: str | None = None,
               now: datetime | None = None) -> str | None:
    """The template with the case's promised first response filled in; None when the case
    has no first-response target (the caller keeps the channel's static text)."""
    due = case.first_response_due_at
    if policy is None or due is None:
        return None
    seconds = choose_target(policy.targets or [], case.channel_type,
                            case.priority).first_response
    if seconds is None:
        return None
    locale = locale_of(language)
    return template.format(
        due=due_words(due, zone_of(timezone, calendar), locale, now),
        response_time=duration_words(seconds, locale, business=calendar is not None))
