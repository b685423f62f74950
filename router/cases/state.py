"""Changes to one case that every path shares: assign, queue, release, with their history,
live events and the thread's denormalised copy (status, team, assignee, current case)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from router.cases.views import NewCase, case_event
from router.core import OVERFLOW_KEY, queue_event
from router.models import Case, CaseEvent, Thread

HISTORY_KEY = "omniroute.case_history"


def sync_thread(thread: Thread, case: Case | NewCase) -> None:
    """The thread list filters on these, so the thread mirrors its current case."""
    thread.case_id = case.id or thread.case_id
    thread.status = case.status
    thread.team_id = case.team_id
    thread.assignee_id = case.assignee_id
    thread.priority = case.priority
    if case.tags:
        thread.tags = sorted(set(thread.tags or []) | set(case.tags))


def record(session: AsyncSession, case_id: int, type_: str, at: datetime, *,
           actor: str | None = "omniroute", reason: str | None = None,
           data: dict[str, Any] | None = None) -> None:
    """One line of the case's history (kept for reports and audits)."""
    rows = session.info.get(HISTORY_KEY)
    if rows is not None:  # an inbound batch writes its lines in one statement
        rows.append({"case_id": case_id, "type": type_, "actor": actor, "reason": reason,
                     "data": data or {}, "at": at})
        return
    session.add(CaseEvent(case_id=case_id, type=type_, actor=actor, reason=reason,
                          data=data or {}, at=at))


def wake_overflow(session: AsyncSession) -> None:
    """A case started waiting: this replica's overflow timer looks again after commit."""
    session.info[OVERFLOW_KEY] = True


def settle(case: Case | NewCase, agent_id: int | None, now: datetime) -> None:
    """Assigned to `agent_id` (capacity checked by the caller, under lock), or waiting in
    the team's queue (a case without a team is unrouted: no queue)."""
    if agent_id is not None:
        case.assignee_id = agent_id
        case.assigned_at = now
        case.queued_at = None
        return
    case.assignee_id = None
    case.assigned_at = None
    case.queued_at = (case.queued_at or now) if case.team_id is not None else None


def history(session: AsyncSession, case: Case | NewCase, now: datetime,
            actor: str | None = "omniroute") -> tuple[str, dict[str, Any]] | None:
    """Record where the case now is (assigned or queued); returns its live event."""
    if case.assignee_id is not None:
        record(session, case.id, "assigned", now, actor=actor,
               data={"agent_id": case.assignee_id, "team_id": case.team_id})
        return "case.assigned", case_event(case)
    if case.queued_at is not None:
        record(session, case.id, "queued", now, data={"team_id": case.team_id})
        wake_overflow(session)
        return "case.queued", case_event(case)
    return None


def announce(session: AsyncSession, case: Case | NewCase, now: datetime,
             actor: str | None = "omniroute") -> None:
    found = history(session, case, now, actor)
    if found is not None:
        queue_event(session, *found)


def placed(session: AsyncSession, case: Case | NewCase, agent_id: int | None,
           now: datetime) -> None:
    settle(case, agent_id, now)
    announce(session, case, now)


def assigned(session: AsyncSession, case: Case | NewCase, agent_id: int, now: datetime,
             actor: str | None = "omniroute") -> None:
    settle(case, agent_id, now)
    announce(session, case, now, actor)


async def thread_of_case(session: AsyncSession, case: Case) -> Thread | None:
    thread: Thread | None = await session.get(Thread, case.thread_id)
    return thread


async def synced(session: AsyncSession, case: Case) -> None:
    """Copy the case onto its thread if it is that thread's current case."""
    thread = await thread_of_case(session, case)
    if thread is not None and thread.case_id == case.id:
        sync_thread(thread, case)
