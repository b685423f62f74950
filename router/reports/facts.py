"""The per-case facts every report is computed from: one indexed range scan of cases.

Reports never load messages: a case carries its own counters (inbound messages, agent
replies, reopens) and times, kept by the case lifecycle; CSAT comes in by a join.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import Case, CsatResponse

BATCH = 5000


@dataclass(frozen=True, slots=True)
class Window:
    """Cases opened in [start, end): a case belongs to the period its first message opened."""

    start: datetime
    end: datetime


@dataclass(slots=True)
class CaseFact:
    id: int
    thread_id: int
    customer_id: int
    status: str
    opened_at: datetime
    channel_id: str | None
    channel_type: str | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    reopened_at: datetime | None
    reopen_count: int
    agent_replies: int
    messages_in: int
    team_id: int | None
    assignee_id: int | None
    priority: str
    tags: list[str]
    sla_policy_id: int | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    breaches: list[dict[str, Any]]
    experiment_id: int | None
    experiment_bucket: str | None
    csat_score: int | None
    csat_comment: str | None

    @property
    def first_response_seconds(self) -> float | None:
        if self.first_response_at is None:
            return None
        return max(0.0, (self.first_response_at - self.opened_at).total_seconds())

    @property
    def resolution_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return max(0.0, (self.resolved_at - self.opened_at).total_seconds())


COLUMNS = (
    Case.id, Case.thread_id, Case.customer_id, Case.status, Case.opened_at, Case.channel_id,
    Case.channel_type, Case.first_response_at, Case.resolved_at, Case.resolved_by,
    Case.reopened_at, Case.reopen_count, Case.agent_replies, Case.messages_in, Case.team_id,
    Case.assignee_id, Case.priority, Case.tags, Case.sla_policy_id, Case.first_response_due_at,
    Case.resolution_due_at, Case.breaches, Case.experiment_id, Case.experiment_bucket,
    CsatResponse.score, CsatResponse.comment,
)


def _query(window: Window, team_ids: Collection[int] | None) -> Select[Any]:
    query = (
        select(*COLUMNS)
        .outerjoin(CsatResponse, CsatResponse.case_id == Case.id)
        .where(Case.opened_at >= window.start, Case.opened_at < window.end)
        .order_by(Case.opened_at, Case.id)
    )
    if team_ids is not None:
        # A supervisor's reports cover their teams' cases (unrouted ones are nobody's).
        query = query.where(Case.team_id.in_(list(team_ids)))
    return query


async def case_facts(
    session: AsyncSession, window: Window, *, team_ids: Collection[int] | None = None,
    after: tuple[datetime, int] | None = None, limit: int | None = None,
) -> AsyncIterator[CaseFact]:
    """Cases of the window in (opened_at, id) order, read in keyset batches (constant memory)."""
    base = _query(window, team_ids)
    left = limit
    while left is None or left > 0:
        size = BATCH if left is None else min(BATCH, left)
        query = base
        if after is not None:
            query = query.where(or_(Case.opened_at > after[0],
                                    and_(Case.opened_at == after[0], Case.id > after[1])))
        rows = (await session.execute(query.limit(size))).all()
        for row in rows:
            yield CaseFact(*row)
        if len(rows) < size:
            return
        last = rows[-1]
        after = (last.opened_at, last.id)
        if left is not None:
            left -= len(rows)
