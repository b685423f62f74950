"""The case lifecycle outside the inbound batch: agent replies, pending, resolve, reopen by
an agent; and the case facts the thread view shows (current case, queue position)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment.drain import drain_for_agent
from router.assignment.placement import Ask, roster
from router.cases.counts import live_counts, refresh_counts
from router.cases.state import placed, record, sync_thread
from router.cases.views import HELD, PRIORITY_RANK, case_event, case_view
from router.core import Core, queue_event
from router.csat.lookup import csat_of
from router.models import Case, Thread
from router.models.base import utcnow
from router.pagination import cursor_id, decode_cursor, split_page
from router.sla import lifecycle as sla


async def current_case(session: AsyncSession, thread: Thread, *,
                       lock: bool = False) -> Case | None:
    """The thread's current case; `lock`: row-locked and fresh (PostgreSQL), for a change
    that must not cross a concurrent assignment."""
    if thread.case_id is None:
        return None
    if lock:
        await session.flush()  # a fresh read must not overwrite this session's own changes
        return await session.get(Case, thread.case_id, with_for_update=True,
                                 populate_existing=True)
    return await session.get(Case, thread.case_id)


async def on_agent_reply(session: AsyncSession, thread: Thread) -> None:
    """An agent answered (not a note, not an automatic message): the response clocks."""
    case = await current_case(session, thread)
    if case is None or case.status not in HELD:
        return
    now = utcnow()
    await refresh_counts(session, case, thread)
    # First: the clock compares its state before and after to re-arm the timers.
    await sla.agent_replied(session, case, now)
    case.agent_replies += 1
    if case.first_response_at is None:
        case.first_response_at = now
    case.last_response_at = now
    case.awaiting_since = None


async def set_status(core: Core, session: AsyncSession, thread: Thread, status: str,
                     actor: str) -> None:
    """PATCH status: pending, resolved, or back to open (an agent reopening a resolved case)."""
    case = await current_case(session, thread, lock=True)
    if case is None:
        thread.status = status  # a thread nobody wrote in has no case to change
        return
    if status == case.status:
        return
    now = utcnow()
    if status == "resolved":
        await resolve(core, session, thread, case, actor, by="agent")
        return
    if case.status == "resolved":
        case.reopened_at = now
        case.reopen_count += 1
        case.resolved_at = None
        case.resolved_by = None
        case.status = status
        if status == "pending":
            case.sla_paused_at = now  # reopened straight into waiting on the customer
        await sla.case_reopened(session, case, now)
        record(session, case.id, "reopened", now, actor=actor, data={"by": "agent"})
        queue_event(session, "case.reopened", case_event(case))
        # Back to whoever had it if they can take it, else the team's strategy.
        found = await roster(session, [case.team_id] if case.team_id else [],
                             [case.assignee_id] if case.assignee_id else [])
        placed(session, case, found.pick(Ask(
            case.team_id, case.channel_type, case.assignee_id,
            prefer_member_only=case.team_id is not None), now), now)
        await found.save(session)
    else:
        await refresh_counts(session, case, thread)
        record(session, case.id, status, now, actor=actor)
        previous, case.status = case.status, status
        if status == "pending":
            await sla.case_pending(session, case, now)
        elif previous == "pending":
            await sla.case_resumed(session, case, now)
    sync_thread(thread, case)


async def resolve(core: Core, session: AsyncSession, thread: Thread, case: Case, actor: str,
                  *, by: str) -> None:
    """Resolved: the clock stops, the agent's capacity frees and their queue drains now."""
    now = utcnow()
    await refresh_counts(session, case, thread)
    freed = case.assignee_id
    case.status = "resolved"
    case.resolved_at = now
    case.resolved_by = by
    case.queued_at = None
    case.awaiting_since = None
    await sla.case_resolved(session, case, now)
    record(session, case.id, "resolved", now, actor=actor, data={"by": by})
    queue_event(session, "case.resolved", case_event(case, resolved_by=by))
    sync_thread(thread, case)
    # One survey per case, in this transaction (it skips automatic and merge closes).
    # Imported here: the survey sends through the outbox, which imports this module.
    from router.csat.survey import schedule_survey

    await schedule_survey(core, session, case, now)
    if freed is not None:
        await session.flush()
        await drain_for_agent(session, freed, now)


async def list_cases(session: AsyncSession, thread: Thread, cursor: str | None,
                     limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The thread's cases, newest first."""
    query = select(Case).where(Case.thread_id == thread.id)
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        query = query.where(Case.id < cursor_id(last_id))
    rows = list(await session.scalars(query.order_by(Case.id.desc()).limit(limit + 1)))
    rows, next_cursor = split_page(rows, limit, lambda c: [c.id])
    counts = await live_counts(session, rows)
    answers = await csat_of(session, rows)
    return [_counted(case_view(row), counts, answers) for row in rows], next_cursor


def _counted(view: dict[str, Any], counts: dict[int, int],
             answers: dict[int, dict[str, Any]]) -> dict[str, Any]:
    if view["id"] in counts:
        view["messages_in"] = max(counts[view["id"]], view["messages_in"])
    view["csat"] = answers.get(view["id"])
    return view


async def queue_position(session: AsyncSession, case: Case) -> int | None:
    """1-based place in the team's queue (priority, SLA due time with none last, age)."""
    if case.queued_at is None or case.team_id is None or case.assignee_id is not None:
        return None
    same_due = (Case.sla_due_at.is_(None) if case.sla_due_at is None
                else Case.sla_due_at == case.sla_due_at)
    older = or_(Case.queued_at < case.queued_at,
                and_(Case.queued_at == case.queued_at, Case.id < case.id))
    due_ahead: ColumnElement[bool]
    if case.sla_due_at is None:
        due_ahead = Case.sla_due_at.is_not(None)
    else:
        due_ahead = Case.sla_due_at < case.sla_due_at
    ahead = await session.scalar(
        select(func.count()).select_from(Case).where(
            Case.team_id == case.team_id, Case.queued_at.is_not(None),
            Case.assignee_id.is_(None),
            or_(Case.priority_rank < case.priority_rank,
                and_(Case.priority_rank == case.priority_rank,
                     or_(due_ahead, and_(same_due, older))))))
    return int(ahead or 0) + 1


async def case_facts(session: AsyncSession, threads: Iterable[Thread]) -> dict[int, dict[str, Any]]:
    """For each thread: its current case and queue position (one query for the cases)."""
    by_case = {t.case_id: t.id for t in threads if t.case_id is not None}
    out: dict[int, dict[str, Any]] = {t.id: {"case": None, "queue_position": None}
                                      for t in threads}
    if not by_case:
        return out
    rows = list(await session.scalars(select(Case).where(Case.id.in_(sorted(by_case)))))
    counts = await live_counts(session, rows)
    answers = await csat_of(session, rows)
    for case in rows:
        out[by_case[case.id]] = {"case": _counted(case_view(case), counts, answers),
                                 "queue_position": await queue_position(session, case)}
    return out


def priority_rank(priority: str) -> int:
    return PRIORITY_RANK.get(priority, 2)
