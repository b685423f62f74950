"""An in-memory InboundGateway for receiver tests: what was stored, and the saved cursors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.base import Channel, HistoryItem


@dataclass
class MemoryGateway:
    # Every event handed over, in order, duplicates included (the real store would drop them).
    stored: list[tuple[str, bytes]] = field(default_factory=list)
    state: dict[tuple[str, str], str] = field(default_factory=dict)
    # (channel id, healthy, reason) as the receiver reported its connection.
    health: list[tuple[str, bool, str | None]] = field(default_factory=list)
    # Fail the next accept_and_save_state as a database outage would, storing nothing.
    crash_next: bool = False

    async def channel(self, channel_id: str, channel_type: str) -> Channel:
        raise LookupError("receivers are handed their channel; they never look one up")

    async def load_state(self, channel_id: str, key: str) -> str | None:
        return self.state.get((channel_id, key))

    async def save_state(self, channel_id: str, key: str, value: str) -> None:
        self.state[(channel_id, key)] = value

    async def accept(self, channel: Channel, external_event_id: str, payload: bytes,
                     content_type: str) -> None:
        self.stored.append((external_event_id, payload))

    async def accept_and_save_state(self, channel: Channel, events: list[tuple[str, bytes, str]],
                                    key: str, value: str) -> None:
        if self.crash_next:
            self.crash_next = False
            raise ConnectionError("the database went away")
        self.stored.extend((event_id, payload) for event_id, payload, _ in events)
        self.state[(channel.id, key)] = value

    async def history(self, channel: Channel, external_user_id: str, before_id: int | None,
                      limit: int) -> list[HistoryItem]:
        return []

    def signing_key(self, purpose: str) -> bytes:
        return purpose.encode().ljust(32, b"\0")[:32]

    def agents_online(self) -> bool:
        return False

    async def report_health(self, channel_id: str, healthy: bool,
                            reason: str | None = None) -> None:
        self.health.append((channel_id, healthy, reason))

    async def customer_typing(self, channel: Channel, external_user_id: str) -> None:
        pass

    def ids(self) -> list[str]:
        return [event_id for event_id, _ in self.stored]


async def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)
