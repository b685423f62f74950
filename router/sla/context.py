"""Which policy a case follows, and loading that policy with its calendar."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models.agents import Team
from router.models.cases import Case
from router.models.sla import BusinessHours, Experiment, SlaPolicy
from router.sla.calendar import Calendar, build_calendar
from router.sla.clock import SlaContext


@functools.lru_cache(maxsize=512)
def _calendar(key: tuple[int, str], timezone: str, weekly: str, holidays: str,
              country: str | None) -> Calendar:
    import json

    return build_calendar(timezone, json.loads(weekly), json.loads(holidays), country)


def calendar_of(row: BusinessHours) -> Calendar:
    """The row's calendar, built once per version of the row."""
    import json

    return _calendar((row.id, row.updated_at.isoformat() if row.updated_at else ""),
                     row.timezone, json.dumps(row.weekly, sort_keys=True),
                     json.dumps(sorted(row.holidays or [])), row.holiday_country)


async def context_for(session: AsyncSession, policy_id: int | None) -> SlaContext | None:
    """The policy and its calendar; None when there is no such policy (SLA off)."""
    if policy_id is None:
        return None
    policy = await session.get(SlaPolicy, policy_id)
    if policy is None:
        return None
    calendar = None
    if policy.business_hours_id is not None:
        hours = await session.get(BusinessHours, policy.business_hours_id)
        calendar = calendar_of(hours) if hours is not None else None
    return SlaContext(policy=policy, calendar=calendar)


async def default_policy_id(session: AsyncSession) -> int | None:
    return await session.scalar(select(SlaPolicy.id).where(SlaPolicy.is_default.is_(True))
                                .order_by(SlaPolicy.id).limit(1))


def bucket_policy_id(experiment: Experiment | None, bucket: str | None) -> int | None:
    if experiment is None or bucket is None:
        return None
    for entry in experiment.buckets or []:
        if entry.get("name") == bucket:
            value: Any = entry.get("sla_policy_id")
            return int(value) if value is not None else None
    return None


_UNREAD = object()


async def choose_policy_id(session: AsyncSession, case: Case,
                           default: int | object | None = _UNREAD,
                           teams: Mapping[int, Team] | None = None) -> int | None:
    """Rule action (already on the case), else the team's policy, else the experiment
    bucket's, else the policy flagged default (`default`, `teams`: as a batch read them)."""
    if case.sla_policy_id is not None:
        return case.sla_policy_id
    if case.team_id is not None:
        team = (teams.get(case.team_id) if teams and case.team_id in teams
                else await session.get(Team, case.team_id))
        if team is not None and team.sla_policy_id is not None:
            return team.sla_policy_id
    if case.experiment_id is not None:
        experiment = await session.get(Experiment, case.experiment_id)
        chosen = bucket_policy_id(experiment, case.experiment_bucket)
        if chosen is not None:
            return chosen
    if default is _UNREAD:
        return await default_policy_id(session)
    return default if isinstance(default, int) else None
