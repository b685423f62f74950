"""Who may see which threads, and everything hanging off them: one rule, used everywhere.

Admins see everything. Anyone else sees the threads of their teams, the ones assigned to
them and the unrouted ones (no team yet), whatever the endpoint: thread list and reads,
messages, replies, customers, attachments, merges and the live stream. A key that belongs to
no agent has no teams, so outside admin it sees only unrouted threads: a key nobody owns
should not read every team's conversations (before routing exists every thread is unrouted,
so such keys keep working as before). What may not be seen answers 404, like what does not
exist, so ids do not leak.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.auth.keys import Principal
from router.errors import NotFound
from router.models import Customer, Message, Thread


def sees_everything(principal: Principal) -> bool:
    return principal.role == "admin"


def team_scope(principal: Principal) -> set[int] | None:
    """Teams whose figures (reports, CSAT answers) the caller may read; None: all of them."""
    return None if sees_everything(principal) else set(principal.team_ids)


def sees(principal: Principal, team_id: int | None, assignee_id: int | None) -> bool:
    """Whether a thread with this team and assignee is visible to `principal`."""
    if sees_everything(principal) or team_id is None or team_id in principal.team_ids:
        return True
    return assignee_id is not None and assignee_id == principal.agent_id


def thread_scope(principal: Principal) -> ColumnElement[bool] | None:
    """The threads `principal` may see, as a condition on `threads` (None: all of them)."""
    if sees_everything(principal):
        return None
    allowed: list[ColumnElement[bool]] = [Thread.team_id.is_(None)]
    if principal.team_ids:
        allowed.append(Thread.team_id.in_(sorted(principal.team_ids)))
    if principal.agent_id is not None:
        allowed.append(Thread.assignee_id == principal.agent_id)
    return or_(*allowed)


def customer_scope(principal: Principal) -> ColumnElement[bool] | None:
    """The customers `principal` may see: those whose thread they may see."""
    threads = thread_scope(principal)
    if threads is None:
        return None
    return exists(select(Thread.id).where(Thread.customer_id == Customer.id, threads))


def check_thread(principal: Principal, thread: Thread) -> Thread:
    if not sees(principal, thread.team_id, thread.assignee_id):
        raise NotFound(f"thread {thread.id} does not exist")
    return thread


async def visible_thread(session: AsyncSession, principal: Principal, thread_id: int) -> Thread:
    """The thread, or 404 when it does not exist, is merged away or is out of scope."""
    thread = await session.get(Thread, thread_id)
    if thread is None or thread.hidden or not sees(principal, thread.team_id,
                                                   thread.assignee_id):
        raise NotFound(f"thread {thread_id} does not exist")
    return thread


async def visible_customer(session: AsyncSession, principal: Principal,
                           customer_id: int) -> Customer:
    """The customer, or 404 when it does not exist or its thread is out of scope."""
    customer = await session.get(Customer, customer_id)
    if customer is not None and not sees_everything(principal):
        thread = await session.scalar(select(Thread).where(Thread.customer_id == customer_id))
        if thread is None or not sees(principal, thread.team_id, thread.assignee_id):
            customer = None
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


async def visible_message(session: AsyncSession, principal: Principal,
                          message_id: int) -> Message | None:
    """The message if its thread is visible to `principal`, else None."""
    message = await session.get(Message, message_id)
    if message is None or sees_everything(principal):
        return message
    thread = await session.get(Thread, message.thread_id)
    if thread is None or not sees(principal, thread.team_id, thread.assignee_id):
        return None
    return message
