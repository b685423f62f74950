"""What a breach does besides being recorded: raise priority, tag, notify, transfer.

Actions are data on the policy: [{"action": ..., "value": ..., "metrics"?: [...]}]; with
`metrics` an action applies only to breaches of those metrics.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from router.core import queue_event
from router.models.agents import Team
from router.models.cases import Case, CaseEvent
from router.models.threads import Thread
from router.sla.clock import PRIORITIES, PRIORITY_RANK
from router.threads.views import thread_view

ACTIONS = ("raise_priority", "add_tag", "notify_supervisor", "transfer_team")

# Called after a breach moved a case to another team (its queue_at set, assignee cleared):
# where the lead wires the assignment engine so the new team's agents get it at once.
TransferHook = Callable[[AsyncSession, Case, int], Awaitable[None]]


def raised(current: str, value: str | None) -> str:
    """One level up (low → normal → high → urgent), or up to `value`; never lowered."""
    rank = PRIORITY_RANK.get(current, PRIORITY_RANK["normal"])
    wanted = PRIORITY_RANK[value] if value in PRIORITY_RANK else max(rank - 1, 0)
    return PRIORITIES[min(rank, wanted)]


async def apply_breach_actions(
    session: AsyncSession, case: Case, actions: list[dict[str, Any]], metric: str,
    data: dict[str, Any], now: datetime, on_transfer: TransferHook | None,
) -> list[str]:
    """Apply the policy's actions to a breached case; returns the actions applied."""
    applied: list[str] = []
    thread = await session.get(Thread, case.thread_id)
    for action in actions:
        only = action.get("metrics")
        if only and metric not in only:
            continue
        kind, value = action.get("action"), action.get("value")
        if kind == "raise_priority":
            priority = raised(case.priority, value if isinstance(value, str) else None)
            if priority == case.priority:
                continue
            case.priority, case.priority_rank = priority, PRIORITY_RANK[priority]
            if thread is not None:
                thread.priority = priority
        elif kind == "add_tag" and isinstance(value, str):
            if value in (case.tags or []):
                continue
            case.tags = [*(case.tags or []), value]
            if thread is not None and value not in (thread.tags or []):
                thread.tags = [*(thread.tags or []), value]
        elif kind == "notify_supervisor" and value is not None:
            queue_event(session, "sla.supervisor_notified", {**data, "supervisor_id": value})
        elif kind == "transfer_team" and value is not None:
            team = await session.get(Team, int(value))
            if team is None or team.id == case.team_id:
                continue
            await _transfer(session, case, thread, team, now, metric)
            data = {**data, "team_id": team.id, "assignee_id": None}
            if on_transfer is not None:
                await on_transfer(session, case, team.id)
        else:
            continue
        applied.append(str(kind))
    if thread is not None and any(a != "notify_supervisor" for a in applied):
        queue_event(session, "thread.updated", thread_view(thread))
    return applied


async def _transfer(session: AsyncSession, case: Case, thread: Thread | None, team: Team,
                    now: datetime, metric: str) -> None:
    """To the team's queue, unassigned; the case keeps its history and its clock."""
    from_team = case.team_id
    case.team_id, case.assignee_id, case.queued_at, case.assigned_at = team.id, None, now, None
    if thread is not None:
        thread.team_id, thread.assignee_id, thread.team, thread.assignee = (
            team.id, None, team.name, None)
    session.add(CaseEvent(case_id=case.id, type="transferred", actor="omniroute",
                          reason=f"SLA {metric} breached",
                          data={"from_team_id": from_team, "team_id": team.id}, at=now))
