"""Live events carry the team and assignee of the thread they concern, for scoped streams.

Stamped once per transaction, just before it commits, from the threads the transaction holds
and one query for the rest (none in an inbound batch): an
event is often queued before routing has decided the thread's team (a new message, then its
case is routed), and a stream must judge it by where the thread ended up, or an agent of
another team would see the message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import Thread

_LOADED = {"team_id", "assignee_id"}
HELD_KEY = "omniroute.scope_threads"

# Built once: every transaction with events asks one (building it cost more than running it).
_COLUMNS = select(Thread.id, Thread.customer_id, Thread.team_id, Thread.assignee_id)
BY_THREAD = _COLUMNS.where(Thread.id.in_(bindparam("ids", expanding=True)))
BY_EITHER = _COLUMNS.where(or_(Thread.id.in_(bindparam("ids", expanding=True)),
                               Thread.customer_id.in_(bindparam("customers", expanding=True))))


def hold_thread(session: AsyncSession, thread: Thread) -> None:
    """Keep `thread` for stamping this unit's events (the session's identity map holds
    unchanged objects only weakly: by commit the batch's threads would be gone from it)."""
    session.info.setdefault(HELD_KEY, {})[thread.id] = thread


def _thread_id(type_: str, data: dict[str, Any]) -> int | None:
    value = data.get("thread_id")
    if value is None and type_ == "thread.updated":
        value = data.get("id")  # the thread object itself
    return value if isinstance(value, int) else None


async def stamp_scope(session: AsyncSession, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Set `team_id` and `assignee_id` on every event about a thread or a customer."""
    thread_ids: set[int] = set()
    customer_ids: set[int] = set()
    for type_, data in events:
        thread_id = _thread_id(type_, data)
        if thread_id is not None:
            thread_ids.add(thread_id)
        elif isinstance(data.get("customer_id"), int):
            customer_ids.add(data["customer_id"])
    if not thread_ids and not customer_ids:
        return
    by_thread: dict[int, tuple[int | None, int | None]] = {}
    by_customer: dict[int, tuple[int | None, int | None]] = {}
    # Threads this unit holds say where they are now (nothing moves a thread's team or
    # assignee behind the ORM's back): an inbound batch's events need no query.
    held: dict[int, Thread] = session.info.get(HELD_KEY, {})
    for thread_id in thread_ids:
        thread = held.get(thread_id)
        if thread is not None and _LOADED <= thread.__dict__.keys():
            by_thread[thread_id] = (thread.team_id, thread.assignee_id)
    unknown = thread_ids - by_thread.keys()
    if unknown or customer_ids:
        await session.flush()  # the session does not autoflush; read what this unit wrote
        if customer_ids:
            rows = await session.execute(BY_EITHER, {"ids": sorted(unknown),
                                                     "customers": sorted(customer_ids)})
        else:
            rows = await session.execute(BY_THREAD, {"ids": sorted(unknown)})
        for thread_id, customer_id, team_id, assignee_id in rows:
            by_thread[thread_id] = by_customer[customer_id] = (team_id, assignee_id)
    for type_, data in events:
        thread_id = _thread_id(type_, data)
        if thread_id is not None:
            scope = by_thread.get(thread_id)
        elif isinstance(data.get("customer_id"), int):
            scope = by_customer.get(data["customer_id"])
        else:
            continue
        if scope is not None:
            data["team_id"], data["assignee_id"] = scope
