"""Driving a WhatsApp channel of a real omniroute server the way Meta would."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from router.models import InboundEvent
from tests.connectors.whatsapp.fixtures import fixture, signed
from tests.omni import OmniServer


async def create_channel(omni: OmniServer, config: dict[str, Any]) -> dict[str, Any]:
    return await omni.create_channel("whatsapp", "WhatsApp support", config)


async def post_body(omni: OmniServer, channel_id: str, body: bytes) -> httpx.Response:
    return await omni.client.post(f"/webhooks/whatsapp/{channel_id}", content=body,
                                  headers=signed(body))


async def post_fixture(omni: OmniServer, channel_id: str, name: str) -> httpx.Response:
    return await post_body(omni, channel_id, fixture(name))


async def stored_events(omni: OmniServer, channel_id: str) -> int:
    async with omni.core.reads() as session:
        count = await session.scalar(select(func.count()).select_from(InboundEvent)
                                     .where(InboundEvent.channel_id == channel_id))
    return int(count or 0)


async def only_thread(omni: OmniServer) -> dict[str, Any]:
    threads = (await omni.client.get("/v1/threads")).json()["items"]
    assert len(threads) == 1, threads
    thread: dict[str, Any] = threads[0]
    return thread


async def messages(omni: OmniServer, thread_id: int) -> list[dict[str, Any]]:
    page = (await omni.client.get(f"/v1/threads/{thread_id}/messages")).json()
    items: list[dict[str, Any]] = page["items"]
    return items
