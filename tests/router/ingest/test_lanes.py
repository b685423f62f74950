"""On PostgreSQL a replica's worker loops each take their share of the channels, so one
channel's events are applied in arrival order, and between them every channel is served."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from router.ingest.worker import Pace, process_batch
from router.models import InboundEvent
from tests.apichannel import inbound
from tests.conftest import MakeOmni
from tests.omni import OmniServer


async def test_each_channel_belongs_to_exactly_one_lane(make_omni: MakeOmni, store: str) -> None:
    if store != "postgresql":
        pytest.skip("SQLite has one writer and one loop")
    omni = await make_omni(run_workers=False)
    channels = [await omni.core.gateway.channel((await omni.create_channel(
        "api", f"bot {n}", {}))["id"], "api") for n in range(8)]
    for channel in channels:
        for n in range(3):
            body = json.dumps(inbound(f"u-{channel.id}", f"m{n}", f"text {n}")).encode()
            await omni.core.gateway.accept(channel, f"m{n}", body, "application/json")

    taken: list[set[str]] = []
    for lane in range(2):
        pace = Pace(lane=(lane, 2))
        before = await _processed_channels(omni)
        while await process_batch(omni.core, pace):
            pass
        taken.append(await _processed_channels(omni) - before)
    assert taken[0] and taken[1], "eight channels all hashed to one lane"
    assert not taken[0] & taken[1]
    assert taken[0] | taken[1] == {c.id for c in channels}


async def _processed_channels(omni: OmniServer) -> set[str]:
    async with omni.core.reads() as session:
        rows = await session.scalars(select(InboundEvent.channel_id)
                                     .where(InboundEvent.state == "processed"))
        return set(rows)
