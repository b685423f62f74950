"""Shared fixtures: every test that uses `omni` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from router.settings import Settings
from tests.callback import CallbackServer
from tests.omni import ADMIN_KEY, OmniServer, start_server
from tests.origin_server import OriginServer
from tests.stores import (
    create_pg_database,
    drop_pg_database,
    pg_reachable,
    sqlite_copy,
    sqlite_template,
    truncate_pg,
)

STORES = ["sqlite", "postgresql"]
TEST_SECRET_KEY = "test-secret-key-please-ignore-0123456789"
REDIS_URL = os.environ.get("OMNIROUTE_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def sqlite_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    problem = pg_reachable()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable under CI=true: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name, url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> str:
    if store == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template_path")
        return sqlite_copy(template, tmp_path)
    url: str = request.getfixturevalue("pg_url")
    await truncate_pg(url)
    return url


MakeOmni = Callable[..., Awaitable[OmniServer]]


@pytest.fixture
async def make_omni(database_url: str) -> AsyncIterator[MakeOmni]:
    servers: list[OmniServer] = []

    async def make(**overrides: Any) -> OmniServer:
        values: dict[str, Any] = {
            "database_url": database_url, "secret_key": TEST_SECRET_KEY,
            "admin_api_key": ADMIN_KEY, "outbox_backoff_base_seconds": 0.05,
            "outbox_backoff_max_seconds": 0.5, "send_timeout_seconds": 5.0,
        }
        values.update(overrides)
        server = await start_server(Settings(**values))
        servers.append(server)
        return server

    yield make
    for server in reversed(servers):
        await server.stop()


@pytest.fixture
async def omni(make_omni: MakeOmni) -> OmniServer:
    return await make_omni()


@pytest.fixture
async def callback() -> AsyncIterator[CallbackServer]:
    """A bot's callback endpoint on loopback that checks our signature."""
    server = CallbackServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def origin() -> AsyncIterator[OriginServer]:
    """A file server on loopback: an internal service to a fetch that must not reach it."""
    server = OriginServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The Redis the replica tests share (database 15); a failure, not a skip, under CI=true."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is unreachable under CI=true: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    finally:
        await client.aclose()
    yield REDIS_URL
