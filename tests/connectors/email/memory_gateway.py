"""An in-memory InboundGateway for receiver tests: what was stored and the saved cursor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.base import Channel


@dataclass
class MemoryGateway:
    # Every event handed over, in order, duplicates included (the real store drops them).
    stored: list[tuple[str, bytes]] = field(default_factory=list)
    state: dict[tuple[str, str], str] = field(default_factory=dict)
    # (channel id, healthy, reason) as the receiver reported its connection.
    health: list[tuple[str, bool, str | None]] = field(default_factory=list)

    async def load_state(self, channel_id: str, key: str) -> str | None:
        return self.state.get((channel_id, key))

    async def save_state(self, channel_id: str, key: str, value: str) -> None:
        self.state[(channel_id, key)] = value

    async def accept(self, channel: Channel, external_event_id: str, payload: bytes,
                     content_type: str) -> None:
        self.stored.append((external_event_id, payload))

    async def accept_and_save_state(self, channel: Channel, events: list[tuple[str, bytes, str]],
                                    key: str, value: str) -> None:
        self.stored.extend((event_id, payload) for event_id, payload, _ in events)
        self.state[(channel.id, key)] = value

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
        await asyncio.sleep(0.02)
