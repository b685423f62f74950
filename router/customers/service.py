"""Finding and showing customers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core
from router.customers.facts import facts_view
from router.customers.normalize import InvalidContact, normalize_email, normalize_phone
from router.customers.repository import identities_of, thread_of
from router.customers.windows import reply_windows
from router.errors import NotFound
from router.models import Customer, Identity, Merge, MergeSuggestion
from router.pagination import cursor_id, decode_cursor, split_page


async def customer_view(
    core: Core, session: AsyncSession, customer: Customer,
    windows: dict[int, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    thread = await thread_of(session, customer.id)
    identities = await identities_of(session, customer.id)
    if windows is None:
        windows = await reply_windows(core, session, [customer.id])
    return {
        "id": customer.id, "name": customer.name, "thread_id": thread.id,
        "reply_windows": windows.get(customer.id, []),
        "merged_into_id": customer.merged_into_id, "created_at": customer.created_at,
        **facts_view(customer),
        "identities": [
            {"id": i.id, "kind": i.kind, "value": i.value, "verified": i.verified,
             "channel_id": i.channel_id, "reachable": i.reachable,
             "last_inbound_at": i.last_inbound_at}
            for i in identities
        ],
    }


async def get_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


def _search_values(q: str) -> list[str]:
    values = [q.strip().lower()]
    for parse in (normalize_phone, normalize_email):
        try:
            values.append(parse(q))
        except InvalidContact:
            pass
    return values


async def search(
    core: Core, session: AsyncSession, q: str | None, cursor: str | None, limit: int,
    scope: ColumnElement[bool] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    query = select(Customer).where(Customer.merged_into_id.is_(None))
    if scope is not None:
        query = query.where(scope)
    if q:
        values = _search_values(q)
        by_identity = select(Identity.customer_id).where(
            or_(Identity.value.in_(values), func.lower(Identity.name).like(f"%{q.lower()}%")))
        query = query.where(or_(Customer.id.in_(by_identity),
                                func.lower(Customer.name).like(f"%{q.lower()}%")))
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        query = query.where(Customer.id < cursor_id(last_id))
    rows = list(await session.scalars(query.order_by(Customer.id.desc()).limit(limit + 1)))
    rows, next_cursor = split_page(rows, limit, lambda row: [row.id])
    windows = await reply_windows(core, session, [r.id for r in rows])
    return [await customer_view(core, session, r, windows) for r in rows], next_cursor


async def suggestions_for(session: AsyncSession, customer_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(select(MergeSuggestion).where(or_(
        MergeSuggestion.customer_id == customer_id,
        MergeSuggestion.other_customer_id == customer_id)).order_by(MergeSuggestion.id))
    out = []
    for row in rows:
        other = row.other_customer_id if row.customer_id == customer_id else row.customer_id
        out.append({"id": row.id, "customer_id": customer_id, "other_customer_id": other,
                    "reason": row.reason, "created_at": row.created_at})
    return out


async def merges_of(session: AsyncSession, customer_id: int) -> list[Merge]:
    rows = await session.scalars(select(Merge).where(or_(
        Merge.target_customer_id == customer_id, Merge.source_customer_id == customer_id,
    )).order_by(Merge.id))
    return list(rows)


def merge_view(row: Merge) -> dict[str, Any]:
    return {"id": row.id, "target_customer_id": row.target_customer_id,
            "source_customer_id": row.source_customer_id, "automatic": row.automatic,
            "reason": row.reason, "actor": row.actor, "created_at": row.created_at,
            "undone_at": row.undone_at}
