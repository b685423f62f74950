"""A resolved case on a thread, and its survey scheduled, as the case lifecycle does it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from router.csat.survey import schedule_survey
from router.models import Case, CsatSurvey, Thread
from router.models.base import utcnow
from tests.omni import OmniServer


async def resolve_with_survey(omni: OmniServer, thread_id: int, channel_id: str,
                              **fields: Any) -> int:
    """A case of the thread, resolved a moment ago, whose survey is then scheduled."""
    now = utcnow()
    async with omni.core.unit() as session:
        thread = await session.get(Thread, thread_id)
        assert thread is not None
        values: dict[str, Any] = {
            "thread_id": thread_id, "customer_id": thread.customer_id, "status": "resolved",
            "opened_at": now - timedelta(hours=1), "channel_id": channel_id,
            "last_inbound_channel_id": channel_id, "last_inbound_at": now - timedelta(hours=1),
            "first_response_at": now - timedelta(minutes=30), "resolved_at": now,
            "resolved_by": "agent", "agent_replies": 1}
        values.update(fields)
        case = Case(**values)
        session.add(case)
        await session.flush()
        await schedule_survey(omni.core, session, case)
        return case.id


async def survey_of(omni: OmniServer, case_id: int) -> CsatSurvey:
    async with omni.core.reads() as session:
        survey = await session.scalar(select(CsatSurvey).where(CsatSurvey.case_id == case_id))
        assert survey is not None
        return survey
