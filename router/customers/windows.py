"""Reply windows (WhatsApp's 24 hours) per customer, for the thread and customer views."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core
from router.models import ChannelRow, Identity
from router.outbox.service import window_info


async def reply_windows(
    core: Core, session: AsyncSession, customer_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """For each customer, the open/closed window of every channel that has one.

    Two queries for a whole page of customers or threads, so lists can show windows too.
    """
    ids = set(customer_ids)
    windows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    windowed = {name for name, c in core.connectors.items() if c.limits.reply_window is not None}
    if not ids or not windowed:
        return windows
    identities = list(await session.scalars(
        select(Identity).where(Identity.customer_id.in_(ids),
                               Identity.last_inbound_channel_id.is_not(None))
        .order_by(Identity.id)))
    channel_ids = {i.last_inbound_channel_id for i in identities}
    if not channel_ids:
        return windows
    channels = {row.id: row for row in await session.scalars(
        select(ChannelRow).where(ChannelRow.id.in_(channel_ids),
                                 ChannelRow.type.in_(windowed)))}
    for identity in identities:
        row = channels.get(identity.last_inbound_channel_id or "")
        if row is None:
            continue
        info = window_info(core, row, identity)
        if info is not None:
            windows[identity.customer_id].append({**info, "identity_id": identity.id})
    return windows
