"""Passing an agent's typing indicator to the customer's current channel."""

from __future__ import annotations

import contextlib

from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import DeliveryError, Recipient
from router.channels.service import to_channel
from router.core import Core
from router.models import ChannelRow, Thread
from router.outbox.reply_channel import identity_for_channel, recipient_id


async def notify_typing(core: Core, session: AsyncSession, thread: Thread) -> None:
    if thread.last_inbound_channel_id is None:
        return
    row = await session.get(ChannelRow, thread.last_inbound_channel_id)
    if row is None or row.deleted_at is not None or row.type not in core.connectors:
        return
    identity = await identity_for_channel(core, session, thread.customer_id, row)
    if identity is None:
        return
    with contextlib.suppress(DeliveryError):
        await core.connector(row.type).agent_typing(
            to_channel(core, row), Recipient(recipient_id(identity, row.id), identity.name))
