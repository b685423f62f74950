"""PostgreSQL restarted in the middle of a flood (a private server, never the machine's).

While it is away every webhook answers 503 with Retry-After — never a 2xx for an event that
was not stored — and the service comes back by itself: nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from router.migrate import upgrade
from router.settings import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.faults.flood import (
    Flood,
    assert_every_message_once_in_order,
    create_api_channel,
    dsn_of,
    landed,
    wait_idle,
)
from tests.faults.processes import PG_BIN, PrivatePostgres, available, create_empty_pg_database
from tests.omni import ADMIN_KEY, OmniServer, start_server

SECRET = "pg-restart-secret-0123456"
USERS = [f"sender{i}" for i in range(4)]
PER_USER = 300


@pytest.fixture
async def private_pg() -> AsyncIterator[tuple[PrivatePostgres, str]]:
    if not available(PG_BIN / "initdb"):
        pytest.skip("PostgreSQL 15 binaries are not installed")
    server = PrivatePostgres().init()
    try:
        await asyncio.to_thread(server.start)
        url = await create_empty_pg_database(server.admin_dsn, "omniroute")
        await asyncio.to_thread(upgrade, url)
        yield server, url
    finally:
        await asyncio.to_thread(server.destroy)


async def test_postgres_restarted_mid_flood(
        private_pg: tuple[PrivatePostgres, str]) -> None:
    server, url = private_pg
    omni: OmniServer = await start_server(Settings(
        database_url=url, secret_key=TEST_SECRET_KEY, admin_api_key=ADMIN_KEY,
        database_pool_size=5, database_max_overflow=5))
    try:
        channel_id = await create_api_channel(omni.url, "http://127.0.0.1:9/unused", SECRET)
        flood = Flood([omni.url], channel_id, SECRET, USERS, per_user=PER_USER)
        flooding = asyncio.create_task(flood.run())
        while flood.total_acked < len(USERS) * PER_USER // 4:
            assert not flooding.done()
            await asyncio.sleep(0.02)
        await asyncio.to_thread(server.stop)
        acked_before = flood.total_acked
        await asyncio.sleep(1.5)
        ready = await omni.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("failing")
        await asyncio.to_thread(server.start)
        await asyncio.wait_for(flooding, 60)
        assert flood.statuses[503] > 0, flood.statuses  # the outage was seen, as 503s
        assert flood.total_acked > acked_before
        await wait_idle(dsn_of(url), 30)
        assert_every_message_once_in_order(flood, await landed(dsn_of(url)))
        async with httpx.AsyncClient() as client:
            assert (await client.get(omni.url + "/readyz")).status_code == 200
    finally:
        await omni.stop()
