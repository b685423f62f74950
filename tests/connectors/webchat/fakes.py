"""A fake core for web-chat route tests: an in-memory InboundGateway behind a real server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from connectors.base import (
    Channel,
    HistoryItem,
    RateLimitName,
    StoredUpload,
    UploadGone,
    WebhookRejected,
)
from connectors.webchat.connector import WebchatConnector
from router.problems import install as install_problem_handlers
from router.ratelimit.limiter import Throttle
from router.settings import Settings
from tests.omni import free_socket

IDENTITY_SECRET = "site-identity-secret-0123456789"
PAGE_ORIGIN = "https://shop.example"


def webchat_channel(channel_id: str, **config: Any) -> Channel:
    values: dict[str, Any] = {"allowed_origins": [PAGE_ORIGIN],
                              "identity_secret": IDENTITY_SECRET, "email_channel_id": None}
    values.update(config)
    return Channel(id=channel_id, type="webchat", name=f"chat {channel_id}", config=values)


@dataclass
class FakeGateway:
    channels: dict[str, Channel]
    # (channel id, external event id, payload, content type), duplicates dropped like the core.
    accepted: list[tuple[str, str, bytes, str]] = field(default_factory=list)
    state: dict[tuple[str, str], str] = field(default_factory=dict)
    histories: dict[str, list[HistoryItem]] = field(default_factory=dict)
    online: bool = False
    history_calls: list[tuple[str, int | None, int]] = field(default_factory=list)
    typing: list[tuple[str, str]] = field(default_factory=list)
    # (channel id, upload id) → the upload, kept as the core keeps it (quota aside).
    uploads: dict[tuple[str, str], StoredUpload] = field(default_factory=dict)
    # The core's own limiter, in memory, with the default limits unless a test sets others.
    throttle: Throttle = field(default_factory=lambda: Throttle(Settings()))

    async def channel(self, channel_id: str, channel_type: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None or channel.type != channel_type:
            raise WebhookRejected(404, "Not found", f"channel {channel_id} does not exist")
        return channel

    async def accept(self, channel: Channel, external_event_id: str, payload: bytes,
                     content_type: str) -> None:
        if all((c, e) != (channel.id, external_event_id) for c, e, _, _ in self.accepted):
            self.accepted.append((channel.id, external_event_id, payload, content_type))

    async def load_state(self, channel_id: str, key: str) -> str | None:
        return self.state.get((channel_id, key))

    async def save_state(self, channel_id: str, key: str, value: str) -> None:
        self.state[(channel_id, key)] = value

    async def accept_and_save_state(self, channel: Channel, events: list[tuple[str, bytes, str]],
                                    key: str, value: str) -> None:
        for ext, payload, ctype in events:
            await self.accept(channel, ext, payload, ctype)
        await self.save_state(channel.id, key, value)

    async def history(self, channel: Channel, external_user_id: str, before_id: int | None,
                      limit: int) -> list[HistoryItem]:
        self.history_calls.append((external_user_id, before_id, limit))
        items = [i for i in self.histories.get(external_user_id, [])
                 if before_id is None or i.id < before_id]
        return items[-limit:]

    async def store_upload(self, channel: Channel, owner: str, data: bytes, mime_type: str,
                           filename: str | None) -> StoredUpload:
        now = datetime.now(UTC)
        stored = StoredUpload(id="f_" + secrets.token_urlsafe(24), owner=owner,
                              mime_type=mime_type, filename=filename, size=len(data),
                              created_at=now, expires_at=now + timedelta(days=30), data=data)
        self.uploads[(channel.id, stored.id)] = stored
        return replace(stored, data=b"")

    async def load_upload(self, channel: Channel, upload_id: str) -> StoredUpload | None:
        stored = self.uploads.get((channel.id, upload_id))
        if stored is not None and stored.expires_at <= datetime.now(UTC):
            raise UploadGone(f"upload {upload_id} expired")
        return stored
    async def rate_limit(self, limit: RateLimitName, key: str) -> float:
        return await self.throttle.wait(limit, key)

    def signing_key(self, purpose: str) -> bytes:
        return hashlib.sha256(b"fake-core:" + purpose.encode()).digest()

    def agents_online(self) -> bool:
        return self.online

    async def report_health(self, channel_id: str, healthy: bool,
                            reason: str | None = None) -> None:
        pass

    async def customer_typing(self, channel: Channel, external_user_id: str) -> None:
        self.typing.append((channel.id, external_user_id))


@dataclass
class FakeCore:
    """The connector's routes mounted on a bare app with the fake gateway, served on loopback."""

    gateway: FakeGateway
    connector: WebchatConnector
    url: str
    client: httpx.AsyncClient
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 10)
        await self.client.aclose()


async def start_fake_core(gateway: FakeGateway) -> FakeCore:
    connector = WebchatConnector()
    app = FastAPI()
    app.state.inbound_gateway = gateway
    install_problem_handlers(app)
    app.include_router(connector.routes())
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           ws="websockets-sansio"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done():
            task.result()
        if time.monotonic() > deadline:
            raise TimeoutError("fake core did not start")
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    return FakeCore(gateway, connector, url, httpx.AsyncClient(base_url=url, timeout=10),
                    server, task)
