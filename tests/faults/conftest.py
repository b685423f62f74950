"""Fixtures of the fault tests: a migrated database of their own, a bot's callback, replicas."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from router.migrate import upgrade
from tests.faults.processes import (
    Replica,
    create_empty_pg_database,
    drop_pg_database,
    replica_env,
)
from tests.stores import PG_ADMIN_DSN

# Short leases and backoff so a dead replica's claims come back within a test's time.
REPLICA_SETTINGS = {
    "send_timeout_seconds": "2", "outbox_lease_slack_seconds": "1",
    "outbox_backoff_base_seconds": "0.1", "outbox_backoff_max_seconds": "1",
    "database_pool_size": "10", "database_max_overflow": "10",
}


@pytest.fixture
async def fault_db(pg_url: str) -> AsyncIterator[str]:
    """A migrated PostgreSQL database for this test alone (its replicas are processes)."""
    name = f"omniroute_fault_{secrets.token_hex(4)}"
    url = await create_empty_pg_database(PG_ADMIN_DSN, name)
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_pg_database(PG_ADMIN_DSN, name)


MakeReplica = Callable[..., Replica]


@pytest.fixture
def make_replica(tmp_path: Path) -> Iterator[MakeReplica]:
    replicas: list[Replica] = []

    def make(database_url: str, name: str, **settings: str) -> Replica:
        replica = Replica(replica_env(database_url, **{**REPLICA_SETTINGS, **settings}),
                          tmp_path / f"{name}.log")
        replicas.append(replica)
        return replica

    yield make
    for replica in replicas:
        replica.stop()
