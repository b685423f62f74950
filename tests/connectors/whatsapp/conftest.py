"""A fake Graph API per test, and a channel config pointing the connector at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.connectors.whatsapp.fake_graph import VERSION, FakeGraph
from tests.connectors.whatsapp.fixtures import (
    ACCESS_TOKEN,
    APP_SECRET,
    BUSINESS_ACCOUNT_ID,
    PHONE_NUMBER_ID,
)


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def wa_config(graph: FakeGraph) -> dict[str, Any]:
    return {"phone_number_id": PHONE_NUMBER_ID, "business_account_id": BUSINESS_ACCOUNT_ID,
            "access_token": ACCESS_TOKEN, "app_secret": APP_SECRET,
            "graph_base_url": graph.url, "graph_version": VERSION}
