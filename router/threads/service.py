"""Listing, reading and updating threads; paging their messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from router.cases.service import case_facts, current_case, priority_rank, set_status
from router.core import Core, queue_event
from router.customers.repository import live_customer
from router.customers.windows import reply_windows
from router.errors import NotFound
from router.models import Customer, Message, Thread
from router.models.base import utcnow
from router.pagination import cursor_id, decode_cursor, split_page
from router.sla import lifecycle as sla
from router.threads.filters import RoutingFilters, narrow, page_by_due
from router.threads.schemas import ThreadPatch
from router.threads.views import message_view, routed_view, thread_view


async def get_thread(session: AsyncSession, thread_id: int) -> Thread:
    thread = await session.get(Thread, thread_id)
    if thread is None or thread.hidden:
        raise NotFound(f"thread {thread_id} does not exist")
    return thread


async def thread_detail(core: Core, session: AsyncSession, thread: Thread) -> dict[str, Any]:
    view = routed_view(thread)
    windows = await reply_windows(core, session, [thread.customer_id])
    view["reply_windows"] = windows.get(thread.customer_id, [])
    view.update((await case_facts(session, [thread]))[thread.id])
    return view


async def list_threads(
    core: Core, session: AsyncSession, *, status: str | None, assignee: str | None,
    channel_id: str | None, tag: str | None, customer_id: int | None,
    updated_since: datetime | None, cursor: str | None, limit: int,
    routing: RoutingFilters | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    routing = routing or RoutingFilters()
    query = select(Thread).where(Thread.hidden.is_(False))
    if status:
        query = query.where(Thread.status == status)
    if assignee:
        query = query.where(Thread.assignee == assignee)
    if channel_id:
        query = query.where(Thread.last_inbound_channel_id == channel_id)
    if customer_id is not None:
        # A customer merged away is found at the thread that now holds their messages.
        customer = await session.get(Customer, customer_id)
        if customer is not None:
            customer_id = (await live_customer(session, customer_id)).id
        query = query.where(Thread.customer_id == customer_id)
    if updated_since is not None:
        query = query.where(Thread.last_message_at >= updated_since)
    if tag:
        if core.sqlite:
            query = query.where(text(
                "EXISTS (SELECT 1 FROM json_each(threads.tags) WHERE json_each.value = :tag)"
            ).bindparams(tag=tag))
        else:
            query = query.where(text("threads.tags @> CAST(:tag AS jsonb)")
                                .bindparams(tag=f'["{_json_escape(tag)}"]'))
    query = narrow(query, routing, core.sqlite)
    if routing.sort == "sla_due":
        rows, next_cursor = await page_by_due(session, query, cursor, limit)
        return await _with_windows(core, session, rows), next_cursor
    if cursor:
        at_raw, last_id = decode_cursor(cursor, 2)
        at = _cursor_time(at_raw)
        query = query.where(or_(Thread.last_message_at < at,
                                and_(Thread.last_message_at == at, Thread.id < cursor_id(last_id))))
    rows = list(await session.scalars(
        query.order_by(Thread.last_message_at.desc(), Thread.id.desc()).limit(limit + 1)))
    rows, next_cursor = split_page(rows, limit, lambda t: [t.last_message_at.isoformat(), t.id])
    return await _with_windows(core, session, rows), next_cursor


async def _with_windows(core: Core, session: AsyncSession,
                        rows: list[Thread]) -> list[dict[str, Any]]:
    windows = await reply_windows(core, session, {r.customer_id for r in rows})
    facts = await case_facts(session, rows)
    return [{**routed_view(r), "reply_windows": windows.get(r.customer_id, []), **facts[r.id]}
            for r in rows]


def _json_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _cursor_time(raw: object) -> datetime:
    from router.pagination import BadCursor

    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        raise BadCursor("this cursor was not issued by this API") from None


async def patch_thread(core: Core, session: AsyncSession, thread: Thread, patch: ThreadPatch,
                       actor: str) -> Thread:
    fields = patch.model_dump(exclude_unset=True)
    for name in ("status", "priority"):
        if name in fields and fields[name] is None:
            fields.pop(name)
    if "tags" in fields:
        fields["tags"] = sorted({t.strip() for t in fields["tags"] or [] if t.strip()})
    status = fields.pop("status", None)
    if status is not None:
        await set_status(core, session, thread, status, actor)
    for name, value in fields.items():
        setattr(thread, name, value)
    # Priority and tags belong to the case in progress too (its queue order, its reports).
    case = await current_case(session, thread)
    if case is not None and case.status != "resolved":
        if "priority" in fields and fields["priority"] != case.priority:
            was = case.priority
            case.priority = fields["priority"]
            case.priority_rank = priority_rank(fields["priority"])
            await sla.case_changed(session, case, priority=was)  # due times follow
        if "tags" in fields:
            case.tags = fields["tags"]
    thread.updated_at = utcnow()
    await session.flush()
    queue_event(session, "thread.updated", thread_view(thread))
    return thread


async def page_messages(
    session: AsyncSession, thread: Thread, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The newest `limit` messages before the cursor, returned oldest first."""
    query = select(Message).where(Message.thread_id == thread.id)
    if cursor:
        at_raw, last_id = decode_cursor(cursor, 2)
        at = _cursor_time(at_raw)
        query = query.where(or_(Message.sent_at < at,
                                and_(Message.sent_at == at, Message.id < cursor_id(last_id))))
    rows = list(await session.scalars(
        query.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit + 1)))
    rows, next_cursor = split_page(rows, limit, lambda m: [m.sent_at.isoformat(), m.id])
    rows.reverse()
    return [message_view(r) for r in rows], next_cursor
