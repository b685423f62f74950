"""A channel whose provider keeps failing our sends shows unhealthy until one goes through.

Only what the outbox itself wrote is cleared by a later success: a receiver's reason (an IMAP
login failing) or a permanent refusal (a revoked token) stays until its own cause is gone.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import queue_event
from router.models import ChannelRow

DELIVERY_REASON = "deliveries failing: "


async def deliveries_failing(session: AsyncSession, channel_id: str, reason: str) -> None:
    """Mark the channel unhealthy, unless it already is (a health write per retry would
    contend for the channel's row with every other send)."""
    row = await session.get(ChannelRow, channel_id)
    if row is None or row.health == "unhealthy":
        return
    row.health = "unhealthy"
    row.health_reason = (DELIVERY_REASON + reason)[:1000]
    queue_event(session, "channel.health", {
        "channel_id": row.id, "health": row.health, "health_reason": row.health_reason})


async def deliveries_recovered(session: AsyncSession, channel_ids: set[str]) -> None:
    """Clear the outbox's own unhealthy mark on channels that just delivered (one statement
    per cycle; rows it does not match are neither written nor locked)."""
    cleared = await session.scalars(
        update(ChannelRow)
        .where(ChannelRow.id.in_(sorted(channel_ids)), ChannelRow.health == "unhealthy",
               ChannelRow.health_reason.startswith(DELIVERY_REASON, autoescape=True))
        .values(health="ok", health_reason=None)
        .returning(ChannelRow.id)
        .execution_options(synchronize_session=False))
    for channel_id in cleared:
        queue_event(session, "channel.health",
                    {"channel_id": channel_id, "health": "ok", "health_reason": None})
