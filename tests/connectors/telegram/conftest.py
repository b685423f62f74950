"""Fixtures for the Telegram connector's tests: the fake Bot API and fixture loading."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from connectors.base import Channel
from connectors.fetch import FetchPolicy, GuardedFetcher
from connectors.telegram.connector import TelegramConnector
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi

WEBHOOK_SECRET = "wh-secret-0123456789abcdefghij"


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def connector() -> AsyncIterator[TelegramConnector]:
    made = TelegramConnector()
    # Files to re-upload live on the fake's loopback file server, as self-hosted media would.
    made.fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    yield made
    await made.close()


def channel_for(api: FakeBotApi, mode: str = "webhook", channel_id: str = "ch_tg") -> Channel:
    return Channel(id=channel_id, type="telegram", name="Acme Support",
                   config={"bot_token": TOKEN, "mode": mode, "webhook_secret": WEBHOOK_SECRET,
                           "api_base_url": api.url})
