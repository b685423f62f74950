"""How many messages a case holds, counted from the messages themselves.

An inbound batch does not write to the case for each message (that was a tenth of the
pipeline's cost): the count is taken when the case is acted on (an agent reply, pending,
resolve, transfer), which is when reports read it, and counted live for the API's views.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import Case, Message, Thread

# One grouped query: each case's customer messages since it opened (ix_messages_thread_order).
_LIVE = (select(Case.id, func.count(Message.id))
         .join(Message, and_(Message.thread_id == Case.thread_id,
                             Message.direction == "inbound", Message.automatic.is_(False),
                             Message.sent_at >= Case.opened_at))
         .group_by(Case.id))


async def live_counts(session: AsyncSession, cases: Iterable[Case]) -> dict[int, int]:
    """Messages in each of these cases now (resolved ones keep what they were closed with)."""
    ids = sorted(c.id for c in cases if c.status != "resolved")
    if not ids:
        return {}
    rows = await session.execute(_LIVE.where(Case.id.in_(ids)))
    return {case_id: int(count) for case_id, count in rows}


async def refresh_counts(session: AsyncSession, case: Case, thread: Thread) -> None:
    """Store the case's message count and latest customer message (before acting on it)."""
    await session.flush()
    count = (await live_counts(session, [case])).get(case.id)
    if count is not None:
        case.messages_in = max(count, 1)
    if thread.last_inbound_at is not None and (
            case.last_inbound_at is None or thread.last_inbound_at > case.last_inbound_at):
        case.last_inbound_at = thread.last_inbound_at
        case.last_inbound_channel_id = thread.last_inbound_channel_id
