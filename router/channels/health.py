"""Receivers (IMAP sessions, Telegram polling) report their connection; the channel shows it."""

from __future__ import annotations

from router.core import Core, queue_event
from router.models import ChannelRow


class ReceiverHealth:
    """Writes a channel's health only when a receiver's state changes, never on every retry."""

    def __init__(self, core: Core) -> None:
        self.core = core
        # channel id → the reason this replica's receiver last wrote as unhealthy.
        self._failing: dict[str, str] = {}

    async def report(self, channel_id: str, healthy: bool, reason: str | None) -> None:
        if healthy:
            said = self._failing.pop(channel_id, None)
            if said is not None:
                # Only clear what the receiver itself set: a send failure recorded since
                # (a revoked SMTP password, say) must stay visible.
                await self._write(channel_id, None, only_over=said)
            return
        reason = f"receiver: {reason or 'connection failed'}"[:1000]
        if self._failing.get(channel_id) == reason:
            return
        self._failing[channel_id] = reason
        await self._write(channel_id, reason)

    async def _write(self, channel_id: str, reason: str | None,
                     only_over: str | None = None) -> None:
        """Set the health; with `only_over`, only if that is still the recorded reason."""
        async with self.core.unit() as session:
            row = await session.get(ChannelRow, channel_id)
            if row is None or row.deleted_at is not None:
                return
            if only_over is not None and row.health_reason != only_over:
                return
            row.health = "ok" if reason is None else "unhealthy"
            row.health_reason = reason
            queue_event(session, "channel.health", {
                "channel_id": row.id, "health": row.health, "health_reason": reason})
