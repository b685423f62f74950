"""Queries on threads and messages that several domains share."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import BindParameter, CompoundSelect, bindparam, select, union_all
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


# Built once: a batch asks this every time, and building the expression cost more than
# running it. The same expanding parameter serves both halves.
_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_CHANNEL: BindParameter[str] = bindparam("channel_id")
STORED_IDS: CompoundSelect[str | None] = union_all(
    select(Message.external_id).where(Message.channel_id == _CHANNEL,
                                      Message.external_id.in_(_IDS)),
    select(MessageAlias.external_id).where(MessageAlias.channel_id == _CHANNEL,
                                           MessageAlias.external_id.in_(_IDS)),
)


async def stored_external_ids(
    session: AsyncSession, channel_id: str, external_ids: Collection[str]
) -> set[str]:
    """Which of these ids a message or an alias on the channel already has (one query)."""
    found = await session.scalars(STORED_IDS, {"channel_id": channel_id,
                                               "ids": sorted(external_ids)})
    return {row for row in found if row is not None}
