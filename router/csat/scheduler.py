"""Due surveys go out when they are due: each replica sleeps until the earliest one (or is
woken by a resolve on this replica) and claims due rows with SKIP LOCKED, so a survey is sent
once however many replicas run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from sqlalchemy import func, select

from router.core import Core
from router.csat.survey import send_survey
from router.models import CsatSurvey
from router.models.base import utcnow

log = logging.getLogger(__name__)
BATCH = 50
# A survey scheduled by another replica with a delay is found by this look at the latest.
IDLE_LOOK_SECONDS = 5.0


async def next_due(core: Core) -> datetime | None:
    async with core.reads() as session:
        due: datetime | None = await session.scalar(
            select(func.min(CsatSurvey.due_at)).where(CsatSurvey.status == "scheduled"))
        return due


async def send_due(core: Core) -> int:
    """Send every survey due now; returns how many were handled (sent or skipped)."""
    handled = 0
    while True:
        async with core.unit() as session:
            query = (select(CsatSurvey)
                     .where(CsatSurvey.status == "scheduled", CsatSurvey.due_at <= utcnow())
                     .order_by(CsatSurvey.due_at).limit(BATCH))
            if not core.sqlite:
                query = query.with_for_update(skip_locked=True)
            surveys = list(await session.scalars(query))
            for survey in surveys:
                try:
                    async with session.begin_nested():
                        await send_survey(core, session, survey)
                except Exception as exc:
                    # One survey that cannot be built must not hold back the others.
                    log.exception("survey of case %s failed", survey.case_id)
                    survey.status, survey.reason = "failed", type(exc).__name__
        handled += len(surveys)
        if len(surveys) < BATCH:
            return handled


async def run_survey_scheduler(core: Core) -> None:
    while True:
        core.csat_wakeup.clear()
        try:
            await send_due(core)
            due = await next_due(core)
        except Exception:
            log.exception("survey scheduler round failed")
            due = None
        wait = IDLE_LOOK_SECONDS
        if due is not None:
            wait = max(0.0, min(wait, (due - utcnow()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(core.csat_wakeup.wait(), timeout=wait)
