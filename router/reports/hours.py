"""Response and resolution times in calendar time, or in the business hours that apply.

A case's business hours are its SLA policy's calendar, else its team's; a case with neither
is counted in calendar time (there are no hours to leave out).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import BusinessHours, SlaPolicy, Team
from router.reports.facts import CaseFact

Hours = Literal["calendar", "business"]


class Calendar(Protocol):
    def seconds_between(self, start: datetime, end: datetime) -> float: ...


class _Business:
    """A business-hours calendar of router/sla, as a report counts with it."""

    def __init__(self, row: BusinessHours) -> None:
        from router.sla.calendar import build_calendar

        self._calendar = build_calendar(row.timezone, row.weekly, row.holidays,
                                        row.holiday_country)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        from router.sla.calendar import business_seconds_between

        return max(0.0, business_seconds_between(self._calendar, start, end))


class Durations:
    """First response and resolution seconds of a case, counted the way the report asks."""

    def __init__(self, calendars_by_policy: dict[int, Calendar] | None = None,
                 calendars_by_team: dict[int, Calendar] | None = None) -> None:
        self.by_policy = calendars_by_policy
        self.by_team = calendars_by_team

    def calendar(self, fact: CaseFact) -> Calendar | None:
        if self.by_policy is None or self.by_team is None:
            return None
        if fact.sla_policy_id is not None and fact.sla_policy_id in self.by_policy:
            return self.by_policy[fact.sla_policy_id]
        if fact.team_id is not None:
            return self.by_team.get(fact.team_id)
        return None

    def of(self, fact: CaseFact) -> tuple[float | None, float | None]:
        calendar = self.calendar(fact)
        if calendar is None:
            return fact.first_response_seconds, fact.resolution_seconds
        frt = (None if fact.first_response_at is None
               else calendar.seconds_between(fact.opened_at, fact.first_response_at))
        resolution = (None if fact.resolved_at is None
                      else calendar.seconds_between(fact.opened_at, fact.resolved_at))
        return frt, resolution


async def durations_for(session: AsyncSession, hours: Hours) -> Durations:
    if hours == "calendar":
        return Durations()
    rows: dict[int, Calendar] = {row.id: _Business(row)
                                 for row in await session.scalars(select(BusinessHours))}
    by_policy = {policy_id: rows[hours_id] for policy_id, hours_id in await session.execute(
        select(SlaPolicy.id, SlaPolicy.business_hours_id)) if hours_id in rows}
    by_team = {team_id: rows[hours_id] for team_id, hours_id in await session.execute(
        select(Team.id, Team.business_hours_id)) if hours_id in rows}
    return Durations(by_policy, by_team)
