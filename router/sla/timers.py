"""Storing a case's due moments as timers the scheduler sleeps until.

Arming is part of the caller's transaction: a new case's timers are one multi-row insert; a
changed clock first drops the case's unfired timers (one delete). Rows are unique per (case,
metric, kind, due time), so arming twice is harmless and a fired moment is never re-armed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import SLA_WAKE_KEY
from router.models.base import utcnow
from router.models.cases import Case
from router.models.sla import SlaTimer
from router.sla.clock import SlaContext, running


def wanted(case: Case, ctx: SlaContext | None) -> list[dict[str, Any]]:
    """The timers a case's clock needs now: none while paused or without a policy."""
    if ctx is None or case.sla_paused_at is not None:
        return []
    breached = {b.get("metric") for b in case.breaches or []}
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for metric, due in running(case).items():
        if metric in breached:
            continue  # once per metric per case
        rows.append({"case_id": case.id, "metric": metric, "kind": "breach", "due_at": due,
                     "target_at": due, "created_at": now})
        warn = ctx.warn_before
        if warn and due - warn > now:
            rows.append({"case_id": case.id, "metric": metric, "kind": "warning",
                         "due_at": due - warn, "target_at": due, "created_at": now})
    return rows


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    build = pg_insert if dialect == "postgresql" else sqlite_insert
    return build(SlaTimer).on_conflict_do_nothing()


def note_wake(session: AsyncSession, moments: list[datetime]) -> None:
    if not moments:
        return
    earliest = min(moments)
    known = session.info.get(SLA_WAKE_KEY)
    if known is None or earliest < known:
        session.info[SLA_WAKE_KEY] = earliest


async def arm(session: AsyncSession, case: Case, ctx: SlaContext | None, *,
              new: bool = False) -> None:
    """Make the stored timers match the case's clock (`new`: the case has none yet).

    The case must have its id (flushed). Call after any clock function that changed
    `clock_state(case)`.
    """
    if not new:
        await session.execute(delete(SlaTimer).where(SlaTimer.case_id == case.id,
                                                     SlaTimer.fired_at.is_(None)))
    rows = wanted(case, ctx)
    if rows:
        await session.execute(_insert(session), rows)
        note_wake(session, [row["due_at"] for row in rows])


async def arm_many(session: AsyncSession, pairs: list[tuple[Case, SlaContext | None]]) -> None:
    """New cases of one inbound batch: all their timers in one insert."""
    rows = [row for case, ctx in pairs for row in wanted(case, ctx)]
    if rows:
        await session.execute(_insert(session), rows)
        note_wake(session, [row["due_at"] for row in rows])


async def disarm(session: AsyncSession, case_id: int) -> None:
    """Drop a case's timers, fired ones too: after resolve (or a merge) none can matter
    (breaches are on the case; a reopen arms new due times), so the table holds about as
    many rows as there are open cases."""
    await session.execute(delete(SlaTimer).where(SlaTimer.case_id == case_id))


async def rearm_many(session: AsyncSession, pairs: list[tuple[Case, SlaContext | None]]) -> None:
    """Cases of one inbound batch whose clock changed: one delete, one insert for all."""
    if not pairs:
        return
    await session.execute(delete(SlaTimer).where(
        SlaTimer.case_id.in_(sorted({case.id for case, _ in pairs})),
        SlaTimer.fired_at.is_(None)))
    await arm_many(session, pairs)
