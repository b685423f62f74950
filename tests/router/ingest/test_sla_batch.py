"""An inbound batch under an SLA policy: its new cases' timers go in with one insert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select

from router.models.sla import SlaTimer
from tests.apichannel import inbound
from tests.conftest import MakeOmni
from tests.router.ingest.test_batches import _drain, _store
from tests.router.sla.helpers import make_policy


async def test_one_timer_insert_per_batch_not_per_case(make_omni: MakeOmni) -> None:
    omni = await make_omni(run_workers=False, ingest_batch_seconds=60.0)
    await make_policy(omni, name="default", default=True, warn_before_seconds=60,
                      targets=[{"first_response_seconds": 3600, "resolution_seconds": 86400}])
    created = await omni.create_channel("api", "bot", {})
    channel = await omni.core.gateway.channel(created["id"], "api")
    for user in range(30):
        await _store(omni, channel, f"m{user}", inbound(f"u{user}", f"m{user}", "hello"))
    inserts: list[str] = []

    def count(*args: Any) -> None:
        statement = " ".join(str(args[2]).split()).lower()
        if statement.startswith("insert into sla_timers"):
            inserts.append(statement)

    event.listen(omni.core.engine.sync_engine, "before_cursor_execute", count)
    try:
        sizes = await _drain(omni)
    finally:
        event.remove(omni.core.engine.sync_engine, "before_cursor_execute", count)
    assert sum(sizes) == 30
    assert len(inserts) == len(sizes) < 30
    async with omni.core.reads() as session:
        armed = await session.scalar(select(func.count()).select_from(SlaTimer))
    # First response and resolution, each with its warning, for every case.
    assert armed == 30 * 4
