"""A real omniroute server on loopback for tests: uvicorn in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from router.app import Omniroute, create_app
from router.core import Core
from router.models import InboundEvent, OutboxItem
from router.models.base import utcnow
from router.settings import Settings

ADMIN_KEY = "omr_test_admin_key_0123456789abcdef"


@dataclass
class OmniServer:
    url: str
    client: httpx.AsyncClient
    settings: Settings
    app: Omniroute
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def core(self) -> Core:
        core: Core = self.app.state.core
        return core

    async def create_channel(
        self, type_: str, name: str, config: dict[str, Any]
    ) -> dict[str, Any]:
        response = await self.client.post("/v1/channels",
                                          json={"type": type_, "name": name, "config": config})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def settle(self, timeout: float = 15.0, *, include_backoff: bool = True) -> None:
        """Wait until every stored event is processed and the outbox is empty (or, without
        `include_backoff`, until nothing in it is due now)."""
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        while time.monotonic() < deadline:
            async with self.core.reads() as session:
                waiting = await session.scalar(select(func.count()).select_from(InboundEvent)
                                               .where(InboundEvent.state == "received"))
                pending = select(func.count()).select_from(OutboxItem).where(
                    OutboxItem.state == "pending")
                if not include_backoff:
                    pending = pending.where(OutboxItem.next_attempt_at <= utcnow())
                due = await session.scalar(pending)
            busy = bool(waiting) or bool(due)
            quiet_rounds = 0 if busy else quiet_rounds + 1
            if quiet_rounds >= 3:
                return
            await asyncio.sleep(0.03)
        raise TimeoutError("omniroute did not settle: events or deliveries still pending")

    async def wait_for(self, check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await check():
                return
            await asyncio.sleep(0.03)
        raise TimeoutError("condition not reached")

    async def post_both_ways(
        self, path: str, content: bytes | Callable[[], AsyncIterator[bytes]],
        headers: dict[str, str],
    ) -> tuple[httpx.Response, httpx.Response]:
        """The same POST through the webhook hot path, then through FastAPI's route.

        `content` is the body, or what makes a fresh chunked one for each request."""

        def body() -> bytes | AsyncIterator[bytes]:
            return content if isinstance(content, bytes) else content()

        hot = await self.client.post(path, content=body(), headers=headers)
        hot_path, self.app.webhook_hot_path = self.app.webhook_hot_path, None
        try:
            routed = await self.client.post(path, content=body(), headers=headers)
        finally:
            self.app.webhook_hot_path = hot_path
        return hot, routed

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 15)
        await self.client.aclose()


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def start_server(settings: Settings) -> OmniServer:
    app = create_app(settings)
    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        if time.monotonic() > deadline:
            raise TimeoutError("server did not start")
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                               timeout=30)
    return OmniServer(url=url, client=client, settings=settings, app=app, server=server, task=task)


def same_answer(hot: httpx.Response, routed: httpx.Response) -> httpx.Response:
    """Both ways answered alike: status, content type and body."""
    assert hot.status_code == routed.status_code, (hot.text, routed.text)
    assert hot.headers["content-type"] == routed.headers["content-type"]
    assert hot.json() == routed.json()
    return hot


async def stored_events(omni: OmniServer, channel_id: str) -> int:
    """Raw events stored for a channel (duplicates are dropped at the door)."""
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
    """The newest page of a thread's messages, oldest first."""
    page = (await omni.client.get(f"/v1/threads/{thread_id}/messages")).json()
    items: list[dict[str, Any]] = page["items"]
    return items
