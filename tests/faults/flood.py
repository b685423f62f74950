"""A flood of signed API-channel messages from several senders, and what must hold after it.

Each sender behaves like a real bot: one message at a time, in order, and a message that was
not acknowledged (connection refused or reset, a 503) is sent again — to the next replica —
until it is. So every message ends up acknowledged, and the checks can ask for all of them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from connectors.api.signature import signed_headers
from tests.omni import ADMIN_KEY

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def message_text(user: str, seq: int) -> str:
    return f"{user} #{seq}"


@dataclass
class Flood:
    urls: list[str]
    channel_id: str
    secret: str
    users: list[str]
    per_user: int
    acked: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    refused: int = 0
    # Set to end the flood early (each sender stops after the message it is on).
    until: asyncio.Event | None = None
    pause: float = 0.0

    @property
    def total_acked(self) -> int:
        return sum(self.acked.values())

    async def run(self, start: int = 0) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(*(self._sender(client, i, user, start)
                                   for i, user in enumerate(self.users)))

    async def _sender(self, client: httpx.AsyncClient, index: int, user: str,
                      start: int) -> None:
        for seq in range(start, self.per_user):
            if self.until is not None and self.until.is_set():
                return
            if self.pause:
                await asyncio.sleep(self.pause)
            body = json.dumps({
                "external_user_id": user, "external_message_id": f"{user}-{seq}",
                "text": message_text(user, seq),
                "sent_at": (BASE_TIME + timedelta(milliseconds=seq)).isoformat()}).encode()
            attempt = 0
            while True:
                url = self.urls[(index + seq + attempt) % len(self.urls)]
                headers = {"Content-Type": "application/json",
                           **signed_headers(self.secret, body, now=time.time())}
                try:
                    answer = await client.post(
                        f"{url}/v1/channels/{self.channel_id}/inbound",
                        content=body, headers=headers)
                except httpx.TransportError:
                    self.refused += 1
                else:
                    self.statuses[answer.status_code] += 1
                    if answer.status_code in (200, 202):
                        self.acked[user] += 1
                        break
                    assert answer.status_code == 503, (answer.status_code, answer.text)
                    assert answer.headers.get("retry-after") is not None
                attempt += 1
                await asyncio.sleep(0.05)


async def create_api_channel(url: str, callback_url: str, secret: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30,
                                 headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        created = await client.post("/v1/channels", json={
            "type": "api", "name": "flood bot",
            "config": {"secret": secret, "callback_url": callback_url, "trusted": True}})
        assert created.status_code == 201, created.text
        channel_id: str = created.json()["id"]
        return channel_id


def dsn_of(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def pipeline_idle(dsn: str) -> bool:
    """Nothing left to process or deliver (a failed event or a dead letter counts as idle)."""
    conn = await asyncpg.connect(dsn)
    try:
        waiting = await conn.fetchval("SELECT count(*) FROM inbound_events "
                                      "WHERE state = 'received'")
        pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE state = 'pending'")
    finally:
        await conn.close()
    return not waiting and not pending


async def wait_idle(dsn: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await pipeline_idle(dsn):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("the pipeline did not drain")


async def landed(dsn: str) -> dict[str, list[str]]:
    """Each sender's inbound texts in the order their thread shows them."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT thread_id, text FROM messages WHERE direction = "
                                "'inbound' ORDER BY thread_id, sent_at, id")
        failed = await conn.fetch("SELECT id, error FROM inbound_events WHERE state = 'failed'")
    finally:
        await conn.close()
    assert not failed, failed
    threads: dict[int, list[str]] = {}
    for row in rows:
        threads.setdefault(row["thread_id"], []).append(row["text"])
    by_user: dict[str, list[str]] = {}
    for texts in threads.values():
        user = texts[0].split(" #")[0]
        assert user not in by_user, f"{user} has two threads"
        by_user[user] = texts
    return by_user


def assert_every_message_once_in_order(flood: Flood, by_user: dict[str, list[str]]) -> None:
    assert sorted(by_user) == sorted(flood.users)
    for user in flood.users:
        sent = flood.acked[user]
        assert sent == flood.per_user or flood.until is not None
        assert by_user[user] == [message_text(user, seq) for seq in range(sent)], user


@dataclass
class Replies:
    """Agents replying on every thread through the replicas while the flood goes on."""

    urls: list[str]
    queued: dict[int, list[int]] = field(default_factory=dict)  # thread → message ids, in order
    until: asyncio.Event | None = None

    async def run(self, thread_ids: list[int], per_thread: int, pause: float,
                  until: asyncio.Event | None = None) -> None:
        self.until = until
        async with httpx.AsyncClient(timeout=10,
                                     headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
            await asyncio.gather(*(self._agent(client, i, thread, per_thread, pause)
                                   for i, thread in enumerate(thread_ids)))

    async def _agent(self, client: httpx.AsyncClient, index: int, thread: int,
                     per_thread: int, pause: float) -> None:
        for k in range(per_thread):
            if self.until is not None and self.until.is_set():
                return
            url = self.urls[(index + k) % len(self.urls)]
            try:
                answer = await client.post(f"{url}/v1/threads/{thread}/messages",
                                           json={"text": f"reply {thread}.{k}"})
            except httpx.TransportError:
                # Not acknowledged: it may or may not be queued; an agent would look and see.
                continue
            if answer.status_code == 201:
                self.queued.setdefault(thread, []).append(int(answer.json()["id"]))
            else:
                assert answer.status_code == 503, answer.text
            await asyncio.sleep(pause)


def assert_replies_delivered_in_order(replies: Replies, received: list[dict[str, Any]],
                                      allowed_duplicates: int) -> None:
    """Every acknowledged reply reached the bot, first deliveries in per-thread order, and a
    repeat only where a replica died holding the send (the bot dedupes on message_id)."""
    deliveries = Counter(int(payload["message_id"]) for payload in received)
    first_seen: list[int] = []
    for payload in received:
        message_id = int(payload["message_id"])
        if message_id not in first_seen:
            first_seen.append(message_id)
    position = {message_id: i for i, message_id in enumerate(first_seen)}
    for thread, ids in replies.queued.items():
        missing = [message_id for message_id in ids if message_id not in deliveries]
        assert not missing, (thread, missing)
        assert sorted(ids, key=position.__getitem__) == ids, thread
    repeats = sum(count - 1 for count in deliveries.values())
    assert repeats <= allowed_duplicates, deliveries.most_common(5)


async def thread_ids(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return [row["id"] for row in await conn.fetch("SELECT id FROM threads ORDER BY id")]
    finally:
        await conn.close()
