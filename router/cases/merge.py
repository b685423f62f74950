"""What a customer merge does to cases, so two folded threads never count one stretch twice.

The source thread's cases move with its messages to the target thread (and back on undo).
If both threads had a case in progress, the target's continues, with the earlier start (the
customer has been waiting since then) and both message counts; the source's is resolved
with `resolved_by = "merge"` (reports and surveys skip those) and frees its agent. If only
the source had one, it simply becomes the target's current case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment.drain import drain_for_agent
from router.cases.counts import refresh_counts
from router.cases.state import record, sync_thread
from router.cases.views import HELD, case_event
from router.core import queue_event
from router.models import Case, Thread
from router.sla import lifecycle as sla


async def fold_cases(session: AsyncSession, target: Thread, source: Thread,
                     now: datetime) -> dict[str, Any]:
    """Move the source thread's cases to the target; returns what undo needs."""
    s_case = await session.get(Case, source.case_id) if source.case_id else None
    t_case = await session.get(Case, target.case_id) if target.case_id else None
    moved = list(await session.scalars(select(Case.id).where(Case.thread_id == source.id)))
    if moved:
        await session.execute(update(Case).where(Case.id.in_(moved))
                              .values(thread_id=target.id)
                              .execution_options(synchronize_session="fetch"))
    snapshot: dict[str, Any] = {"case_ids": moved, "merge_resolved_case_id": None}
    if s_case is None or s_case.status not in HELD:
        return snapshot
    if t_case is None or t_case.status not in HELD:
        target.case_id = s_case.id
        sync_thread(target, s_case)
        return snapshot
    snapshot["target_case"] = {"id": t_case.id, **_kept(t_case)}
    snapshot["source_case"] = {"id": s_case.id, **_kept(s_case)}
    t_case.opened_at = min(t_case.opened_at, s_case.opened_at)
    await refresh_counts(session, t_case, target)  # both threads' messages are here now
    if s_case.awaiting_since and (t_case.awaiting_since is None
                                  or s_case.awaiting_since < t_case.awaiting_since):
        t_case.awaiting_since = s_case.awaiting_since
    freed = s_case.assignee_id
    s_case.status = "resolved"
    s_case.resolved_at = now
    s_case.resolved_by = "merge"
    s_case.queued_at = None
    await sla.case_resolved(session, s_case, now)  # its timers go: it can breach no more
    record(session, s_case.id, "resolved", now, data={"by": "merge", "into_case": t_case.id})
    queue_event(session, "case.resolved", case_event(s_case, resolved_by="merge"))
    snapshot["merge_resolved_case_id"] = s_case.id
    sync_thread(target, t_case)
    if freed is not None:
        await session.flush()
        await drain_for_agent(session, freed, now)
    return snapshot


# What undo puts back, the SLA clock included (the merge's resolution stopped the source's).
_KEPT = ("status", "opened_at", "messages_in", "awaiting_since", "resolved_at", "resolved_by",
         "queued_at", "next_response_due_at", "sla_paused_at", "sla_due_at")


def _kept(case: Case) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _KEPT:
        value = getattr(case, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _put_back(case: Case, saved: dict[str, Any]) -> None:
    for name in _KEPT:
        if name not in saved:
            continue  # a snapshot taken before the clock was kept
        value = saved[name]
        if name.endswith(("_at", "_since")) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        setattr(case, name, value)


async def unfold_cases(session: AsyncSession, snapshot: dict[str, Any], source: Thread) -> None:
    """Undo: the source thread's cases go back to it, and two cases folded into one are two
    again as they were (the source's merge resolution is taken back)."""
    ids = snapshot.get("case_ids") or []
    if ids:
        await session.execute(update(Case).where(Case.id.in_(ids)).values(thread_id=source.id)
                              .execution_options(synchronize_session="fetch"))
    for key in ("target_case", "source_case"):
        saved = snapshot.get(key)
        case = await session.get(Case, saved["id"]) if saved else None
        if case is not None and saved is not None:
            _put_back(case, saved)
            # Its clock runs again where it stood: the timers follow (a due time passed
            # meanwhile fires at once).
            await sla.case_changed(session, case)
            if key == "source_case":
                record(session, case.id, "unmerged", datetime.now(case.opened_at.tzinfo))
