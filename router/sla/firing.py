"""Firing due SLA timers: claim, re-check, record, announce, act — once per moment."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core, queue_event
from router.models.base import utcnow
from router.models.cases import Case, CaseEvent
from router.models.sla import SlaTimer
from router.sla.actions import TransferHook, apply_breach_actions
from router.sla.clock import SlaContext, refresh_due, running, target_of
from router.sla.context import context_for

log = logging.getLogger("omniroute.sla")
CLAIM_SIZE = 200


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def still_due(case: Case | None, ctx: SlaContext | None, timer: SlaTimer) -> bool:
    """The moment still means something: same policy, metric running, due unchanged, the
    policy still measures it (a removed target or policy disarms, Zammad #4353)."""
    if case is None or ctx is None or case.sla_policy_id != ctx.policy.id:
        return False
    if case.sla_paused_at is not None or running(case).get(timer.metric) != timer.target_at:
        return False
    if target_of(ctx, case).seconds(timer.metric) is None:
        return False
    if timer.kind == "breach":
        return all(b.get("metric") != timer.metric for b in case.breaches or [])
    return True


async def fire_due(core: Core, on_transfer: TransferHook | None = None,
                   now: datetime | None = None) -> list[tuple[str, str]]:
    """Fire what is due now in one transaction; returns (kind, metric) of each fired."""
    fired: list[tuple[str, str]] = []
    async with core.unit() as session:
        now = now or utcnow()
        claim = (select(SlaTimer).where(SlaTimer.fired_at.is_(None), SlaTimer.due_at <= now)
                 .order_by(SlaTimer.fired_at, SlaTimer.due_at).limit(CLAIM_SIZE))
        if not core.sqlite:
            # Another replica's scheduler takes the rows this one holds: each fires once.
            claim = claim.with_for_update(skip_locked=True)
        for timer in (await session.scalars(claim)).all():
            try:
                async with session.begin_nested():
                    if await _fire(session, timer, now, on_transfer):
                        fired.append((timer.kind, timer.metric))
            except Exception:
                log.exception("SLA timer %s of case %s failed", timer.id, timer.case_id)
                timer.fired_at, timer.outcome = now, "failed"
    for kind, metric in fired:
        if kind == "breach":
            core.metrics.sla_breaches.labels(metric).inc()
    return fired


async def _fire(session: AsyncSession, timer: SlaTimer, now: datetime,
                on_transfer: TransferHook | None) -> bool:
    timer.fired_at = now
    # The case row lock orders this after any reply being committed right now.
    case = await session.get(Case, timer.case_id, with_for_update=True,
                             populate_existing=True)
    ctx = await context_for(session, case.sla_policy_id if case else None)
    if case is None or not still_due(case, ctx, timer):
        timer.outcome = "stale"
        return False
    assert ctx is not None
    timer.outcome = "fired"
    data: dict[str, Any] = {
        "case_id": case.id, "thread_id": case.thread_id, "team_id": case.team_id,
        "assignee_id": case.assignee_id, "metric": timer.metric,
        "due_at": _iso(timer.target_at), "policy_id": ctx.policy.id}
    if timer.kind == "warning":
        queue_event(session, "sla.warning", data)
        return True
    case.breaches = [*(case.breaches or []),
                     {"metric": timer.metric, "due_at": _iso(timer.target_at), "at": _iso(now)}]
    session.add(CaseEvent(case_id=case.id, type="sla_breached", actor="omniroute",
                          data={"metric": timer.metric, "due_at": _iso(timer.target_at)},
                          at=now))
    applied = await apply_breach_actions(session, case, list(ctx.policy.on_breach or []),
                                         timer.metric, data, now, on_transfer)
    refresh_due(case)
    queue_event(session, "sla.breached", {**data, "team_id": case.team_id,
                                          "assignee_id": case.assignee_id, "actions": applied})
    return True
