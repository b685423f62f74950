"""Long-running pull loops (Telegram polling, IMAP) — one supervised task per channel."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from connectors.base import Channel
from router.channels.service import to_channel
from router.core import Core
from router.models import ChannelRow

log = logging.getLogger("omniroute.receivers")


class Receivers:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.running = False

    async def start_all(self) -> None:
        self.running = True
        async with self.core.reads() as session:
            rows = list(await session.scalars(
                select(ChannelRow).where(ChannelRow.deleted_at.is_(None))))
            channels = [to_channel(self.core, r) for r in rows if r.type in self.core.connectors]
        for channel in channels:
            await self.restart(channel)

    async def restart(self, channel: Channel) -> None:
        await self.stop(channel.id)
        if not self.running:
            return
        factory = self.core.connector(channel.type).receiver(channel)
        if factory is None:
            return
        self.tasks[channel.id] = asyncio.create_task(
            self._supervise(channel), name=f"omniroute-receiver-{channel.id}")

    async def _supervise(self, channel: Channel) -> None:
        delay = 1.0
        while True:
            factory = self.core.connector(channel.type).receiver(channel)
            if factory is None:
                return
            try:
                await factory(channel, self.core.gateway)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("receiver of channel %s crashed; restarting in %.0fs",
                              channel.id, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def stop(self, channel_id: str) -> None:
        task = self.tasks.pop(channel_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def stop_all(self) -> None:
        self.running = False
        for channel_id in list(self.tasks):
            await self.stop(channel_id)
