"""Undoing a merge gives the source's case its SLA clock back, timers included."""

from __future__ import annotations

from sqlalchemy import select

from router.models import Case
from tests.omni import OmniServer
from tests.router.cases.support import Bot
from tests.router.sla.helpers import make_policy, timers_of


async def _case_of(omni: OmniServer, thread_id: int) -> Case:
    async with omni.core.reads() as session:
        case = await session.scalar(select(Case).where(Case.thread_id == thread_id)
                                    .order_by(Case.id.desc()))
        assert case is not None
        return case


async def test_undo_puts_the_source_cases_clock_and_timers_back(omni: OmniServer) -> None:
    await make_policy(omni, default=True, targets=[
        {"first_response_seconds": 3600, "resolution_seconds": 86400}])
    bot = await Bot.start(omni)
    await bot.says("ada", "first account")
    await bot.says("ada-2", "second account")
    target, source = await bot.thread_of("ada"), await bot.thread_of("ada-2")
    before = await _case_of(omni, source["id"])
    assert before.first_response_due_at is not None
    armed = await timers_of(omni, before.id)
    assert armed == [("first_response", "breach"), ("resolution", "breach")]

    merged = await omni.client.post(f"/v1/customers/{target['customer_id']}/merge", json={
        "other_customer_id": source["customer_id"], "reason": "same person"})
    assert merged.status_code == 201, merged.text
    # Both had a case in progress: the target's continues, the source's is resolved.
    async with omni.core.reads() as session:
        resolved = await session.get(Case, before.id)
        assert resolved is not None and resolved.resolved_by == "merge"
    assert await timers_of(omni, before.id) == []

    undone = await omni.client.post(f"/v1/merges/{merged.json()['id']}/undo")
    assert undone.status_code == 200, undone.text
    back = await _case_of(omni, source["id"])
    assert (back.id, back.status, back.resolved_at) == (before.id, "open", None)
    assert (back.first_response_due_at, back.resolution_due_at, back.sla_due_at) == (
        before.first_response_due_at, before.resolution_due_at, before.sla_due_at)
    assert await timers_of(omni, back.id) == armed
