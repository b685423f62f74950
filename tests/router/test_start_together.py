"""Replicas starting at the same moment on a new database all come up (they race to record
which secret key the database belongs to)."""

from __future__ import annotations

import asyncio

from tests.conftest import MakeOmni


async def test_replicas_starting_at_once_all_come_up(make_omni: MakeOmni) -> None:
    servers = await asyncio.gather(*(make_omni() for _ in range(4)))
    for server in servers:
        assert (await server.client.get("/readyz")).status_code == 200
