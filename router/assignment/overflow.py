"""Overflow: a team's case that has waited `overflow_after_seconds` moves to its overflow team.

Event-driven, not a sweep: each replica runs one timer that sleeps until the earliest
overflow moment (per overflow-enabled team, the oldest `queued_at` in its queue: an indexed
MIN on `ix_cases_queue`), and is woken after any commit that queued a case or changed a
team. Due cases are claimed with SKIP LOCKED (PostgreSQL; SQLite has one writer), so two
replicas never move one case twice. The sleep is capped, so a replica that died after
queueing is covered by the others' next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment.placement import Ask, roster
from router.cases.state import placed, record, synced
from router.cases.views import case_event
from router.core import Core, queue_event
from router.models import Case, Team
from router.models.base import utcnow

log = logging.getLogger("omniroute.overflow")
# Longest sleep between looks (other replicas' queues; clock changes).
MAX_SLEEP_SECONDS = 30.0
# Cases moved per team per transaction; more due: the timer goes round again at once.
CLAIM = 100


async def overflow_due(core: Core, session: AsyncSession, now: datetime) -> datetime | None:
    """Move every overdue queued case to its team's overflow team; returns the next moment."""
    teams = list(await session.scalars(
        select(Team).where(Team.overflow_team_id.is_not(None),
                           Team.overflow_after_seconds.is_not(None)).order_by(Team.id)))
    upcoming: datetime | None = None
    for team in teams:
        assert team.overflow_team_id is not None and team.overflow_after_seconds is not None
        after = timedelta(seconds=team.overflow_after_seconds)
        due = list(await session.scalars(
            select(Case).where(Case.team_id == team.id, Case.queued_at.is_not(None),
                               Case.assignee_id.is_(None), Case.queued_at <= now - after)
            .order_by(Case.queued_at, Case.id).limit(CLAIM)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True)))
        if due:
            await _move(session, due, team, team.overflow_team_id, now)
            if len(due) == CLAIM:
                upcoming = now
        oldest = await session.scalar(
            select(func.min(Case.queued_at)).where(
                Case.team_id == team.id, Case.queued_at.is_not(None),
                Case.assignee_id.is_(None), Case.queued_at > now - after))
        if oldest is not None and (upcoming is None or oldest + after < upcoming):
            upcoming = oldest + after
    return upcoming


async def _move(session: AsyncSession, cases: list[Case], team: Team, target: int,
                now: datetime) -> None:
    found = await roster(session, [target])
    if target not in found.teams:
        return  # the overflow team was deleted; the cases keep waiting where they are
    for case in cases:
        waited = (now - case.queued_at).total_seconds() if case.queued_at else None
        case.team_id = target
        case.queued_at = None
        record(session, case.id, "overflowed", now,
               data={"from_team_id": team.id, "to_team_id": target, "waited_seconds": waited})
        queue_event(session, "case.transferred",
                    case_event(case, from_team_id=team.id, from_assignee_id=None,
                               reason=f"waited over {team.overflow_after_seconds} s in "
                                      f"{team.name}: overflow"))
        placed(session, case, found.pick(Ask(target, case.channel_type), now), now)
        await synced(session, case)
    await found.save(session)


async def run_overflow(core: Core) -> None:
    """Forever: move what is due, then sleep until the next moment or a wake-up."""
    while True:
        core.overflow_wakeup.clear()
        upcoming: datetime | None = None
        try:
            now = utcnow()
            async with core.unit() as session:
                upcoming = await overflow_due(core, session, now)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("overflow pass failed; trying again shortly")
            upcoming = utcnow() + timedelta(seconds=1)
        sleep = MAX_SLEEP_SECONDS
        if upcoming is not None:
            sleep = min(MAX_SLEEP_SECONDS, max(0.0, (upcoming - utcnow()).total_seconds()))
        if sleep <= 0:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(core.overflow_wakeup.wait(), sleep)
