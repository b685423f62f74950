"""Firing due SLA timers: claim, re-check, record, announce, act — once per moment."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core, queue_event
from router.models.base import utcnow
from router.models.cases import Case, CaseEvent
from router.models.sla import SlaTimer
from router.sla.actions import TransferHook, apply_breach_actions
from router.sla.clock import SlaContext, refresh_due, retarget, running, target_of
from router.sla.context import context_for
from router.sla.timers import arm as arm_timers

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


@dataclass
class Fired:
    """What one pass did: (kind, metric) of each moment fired, and how many waited."""

    fired: list[tuple[str, str]] = field(default_factory=list)
    busy: int = 0
    claimed: int = 0


async def fire_due(core: Core, on_transfer: TransferHook | None = None,
                   now: datetime | None = None) -> Fired:
    """Fire what is due now in one transaction."""
    result = Fired()
    async with core.unit() as session:
        now = now or utcnow()
        claim = (select(SlaTimer).where(SlaTimer.fired_at.is_(None), SlaTimer.due_at <= now)
                 .order_by(SlaTimer.due_at).limit(CLAIM_SIZE))
        if not core.sqlite:
            # Another replica's scheduler takes the rows this one holds: each fires once.
            claim = claim.with_for_update(skip_locked=True)
        timers = (await session.scalars(claim)).all()
        result.claimed = len(timers)
        for timer in timers:
            try:
                async with session.begin_nested():
                    outcome = await _fire(session, timer, now, on_transfer, core.sqlite)
            except Exception:
                log.exception("SLA timer %s of case %s failed", timer.id, timer.case_id)
                timer.fired_at, timer.outcome = now, "failed"
                continue
            if outcome == "busy":
                result.busy += 1
            elif outcome == "fired":
                result.fired.append((timer.kind, timer.metric))
    for kind, metric in result.fired:
        if kind == "breach":
            core.metrics.sla_breaches.labels(metric).inc()
        elif kind == "warning":
            core.metrics.sla_warnings.labels(metric).inc()
    return result


async def _lock_case(session: AsyncSession, case_id: int, sqlite: bool) -> Case | str | None:
    """The case, row-locked; "busy" while another transaction is changing it.

    Never waits for the lock: the lifecycle locks the case and then re-arms its timers (rows
    this transaction holds), so waiting here could deadlock. A busy case is retried shortly,
    by when its re-arm has usually replaced this moment.
    """
    if sqlite:
        return await session.get(Case, case_id, populate_existing=True)
    locked = (await session.scalars(
        select(Case).where(Case.id == case_id).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True))).first()
    if locked is not None:
        return locked
    exists = await session.scalar(select(Case.id).where(Case.id == case_id))
    return "busy" if exists is not None else None


async def _fire(session: AsyncSession, timer: SlaTimer, now: datetime,
                on_transfer: TransferHook | None, sqlite: bool) -> str:
    case = await _lock_case(session, timer.case_id, sqlite)
    if isinstance(case, str):
        return case
    timer.fired_at = now
    ctx = await context_for(session, case.sla_policy_id if case else None)
    if case is None or not still_due(case, ctx, timer):
        timer.outcome = "stale"
        return "stale"
    assert ctx is not None
    timer.outcome = "fired"
    data: dict[str, Any] = {
        "case_id": case.id, "thread_id": case.thread_id, "team_id": case.team_id,
        "assignee_id": case.assignee_id, "metric": timer.metric,
        "due_at": _iso(timer.target_at), "policy_id": ctx.policy.id}
    if timer.kind == "warning":
        queue_event(session, "sla.warning", data)
        return "fired"
    case.breaches = [*(case.breaches or []),
                     {"metric": timer.metric, "due_at": _iso(timer.target_at), "at": _iso(now)}]
    session.add(CaseEvent(case_id=case.id, type="sla_breached", actor="omniroute",
                          data={"metric": timer.metric, "due_at": _iso(timer.target_at)},
                          at=now))
    before, priority = target_of(ctx, case), case.priority
    applied = await apply_breach_actions(session, case, list(ctx.policy.on_breach or []),
                                         timer.metric, data, now, on_transfer)
    if case.priority != priority:
        # A raised priority tightens what is still running (e.g. resolution) to the new
        # priority's targets, as a priority set by hand does.
        retarget(case, ctx, before)
        await session.flush()  # this timer's fired_at first: re-arming drops unfired rows
        await arm_timers(session, case, ctx)
    refresh_due(case)
    queue_event(session, "sla.breached", {**data, "team_id": case.team_id,
                                          "assignee_id": case.assignee_id, "actions": applied})
    return "fired"
