"""Queries on threads and messages that several domains share."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import CompoundSelect, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from router.models import Message, MessageAlias


async def message_by_external_id(
    session: AsyncSession, channel_id: str, external_id: str
) -> Message | None:
    message: Message | None = await session.scalar(
        select(Message).where(Message.channel_id == channel_id, Message.external_id == external_id)
    )
    if message is not None:
        return message
    alias = await session.get(MessageAlias, (channel_id, external_id))
    if alias is None:
        return None
    return await session.get(Message, alias.message_id)


async def message_exists(session: AsyncSession, channel_id: str, external_id: str) -> bool:
    found = await session.scalar(
        select(Message.id).where(Message.channel_id == channel_id,
                                 Message.external_id == external_id)
    )
    if found is not None:
        return True
    return await session.get(MessageAlias, (channel_id, external_id)) is not None


async def stored_external_ids(
    session: AsyncSession, channel_id: str, external_ids: Collection[str]
) -> set[str]:
    """Which of these ids a message or an alias on the channel already has (one query)."""
    wanted = sorted(external_ids)
    query: CompoundSelect[str | None] = union_all(
        select(Message.external_id).where(Message.channel_id == channel_id,
                                          Message.external_id.in_(wanted)),
        select(MessageAlias.external_id).where(MessageAlias.channel_id == channel_id,
                                               MessageAlias.external_id.in_(wanted)),
    )
    return {row for row in await session.scalars(query) if row is not None}
