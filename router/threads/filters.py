"""The routing filters of the thread list: team, assignee, SLA breach, order by SLA due.

The breach flag and the due time live on the thread's current case (`threads.case_id`), so
those two join it by its primary key; team and assignee are the thread's own indexed columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, func, or_
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import Case, Thread
from router.pagination import BadCursor, cursor_id, decode_cursor, split_page

ThreadSort = Literal["activity", "sla_due"]
# The first value of an sla_due cursor: an activity cursor is never read as one.
DUE_ORDER = "due"


@dataclass(frozen=True)
class RoutingFilters:
    """None means "any"; `team_id`/`assignee_id` 0 means "none" (unrouted / unassigned)."""

    team_id: int | None = None
    assignee_id: int | None = None
    breached: bool | None = None
    sort: ThreadSort = "activity"
    # What the caller may see (router/access/scope.py); None: everything.
    scope: ColumnElement[bool] | None = None

    @property
    def needs_case(self) -> bool:
        return self.breached is not None or self.sort == "sla_due"


def narrow(query: Select[Any], filters: RoutingFilters,
           sqlite: bool) -> Select[Any]:
    if filters.scope is not None:
        query = query.where(filters.scope)
    if filters.team_id is not None:
        query = query.where(Thread.team_id.is_(None) if filters.team_id == 0
                            else Thread.team_id == filters.team_id)
    if filters.assignee_id is not None:
        query = query.where(Thread.assignee_id.is_(None) if filters.assignee_id == 0
                            else Thread.assignee_id == filters.assignee_id)
    if not filters.needs_case:
        return query
    joined: Select[Any] = query.outerjoin(Case, Case.id == Thread.case_id)
    if filters.breached is not None:
        length = (func.json_array_length if sqlite else func.jsonb_array_length)(Case.breaches)
        joined = joined.where(length > 0 if filters.breached
                              else or_(Case.id.is_(None), length == 0))
    return joined


async def page_by_due(session: AsyncSession, query: Select[Any], cursor: str | None,
                      limit: int) -> tuple[list[Thread], str | None]:
    """Threads by their current case's SLA due time, soonest first, those without one last."""
    ordered = query.add_columns(Case.sla_due_at)
    if cursor:
        order, due_raw, last_raw = decode_cursor(cursor, 3)
        if order != DUE_ORDER:
            raise BadCursor("this cursor belongs to another sort order")
        last_id = cursor_id(last_raw)
        if due_raw is None:
            ordered = ordered.where(Case.sla_due_at.is_(None), Thread.id > last_id)
        else:
            due = _time(due_raw)
            ordered = ordered.where(or_(Case.sla_due_at > due,
                                        and_(Case.sla_due_at == due, Thread.id > last_id),
                                        Case.sla_due_at.is_(None)))
    rows = list(await session.execute(
        ordered.order_by(Case.sla_due_at.asc().nulls_last(), Thread.id).limit(limit + 1)))
    page, next_cursor = split_page(
        rows, limit,
        lambda r: [DUE_ORDER, r[1].isoformat() if r[1] is not None else None, r[0].id])
    return [r[0] for r in page], next_cursor


def _time(raw: object) -> datetime:
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        raise BadCursor("this cursor was not issued by this API") from None

