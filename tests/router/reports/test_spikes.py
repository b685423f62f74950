"""A surging tag raises `trend.spike` once per day, however many replicas look."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from router.core import Core
from router.models import Case, Customer, Thread
from router.reports.spikes import check_spikes
from tests.conftest import MakeOmni

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def tagged_cases(core: Core, per_day: dict[int, int], tag: str = "delivery") -> None:
    """`per_day[n]` cases tagged `tag` opened n days before NOW."""
    async with core.unit() as session:
        for days_ago, count in per_day.items():
            for n in range(count):
                customer = Customer(name=f"{days_ago}-{n}")
                session.add(customer)
                await session.flush()
                thread = Thread(customer_id=customer.id)
                session.add(thread)
                await session.flush()
                session.add(Case(thread_id=thread.id, customer_id=customer.id, tags=[tag],
                                 opened_at=NOW - timedelta(days=days_ago, minutes=n)))


async def test_spike_is_raised_once_across_replicas(make_omni: MakeOmni) -> None:
    one = await make_omni(run_workers=False)
    two = await make_omni(run_workers=False)
    await tagged_cases(one.core, {0: 12, 1: 2, 2: 3, 3: 1, 4: 2})
    await tagged_cases(one.core, {0: 2, 1: 2, 2: 2, 3: 2, 4: 2}, tag="refund")
    subscriptions = [await one.core.bus.attach(None), await two.core.bus.attach(None)]
    first, second = await asyncio.gather(check_spikes(one.core, NOW), check_spikes(two.core, NOW))
    assert sorted(first + second) == ["delivery"]
    assert await check_spikes(one.core, NOW) == []
    spikes = [e for s in subscriptions for e in s.take() or [] if e.type == "trend.spike"]
    assert [e.data["tag"] for e in spikes] == ["delivery"] and spikes[0].data["cases"] == 12


async def test_tags_report_flags_the_spike(make_omni: MakeOmni) -> None:
    omni = await make_omni(run_workers=False)
    await tagged_cases(omni.core, {0: 9, 1: 2, 2: 1, 3: 2, 4: 1})
    response = await omni.client.get("/v1/reports/tags", params={
        "from": (NOW - timedelta(days=4)).replace(hour=0, minute=0).isoformat(),
        "to": (NOW + timedelta(hours=1)).isoformat(), "interval": "day"})
    rows = response.json()["items"]
    last = [r for r in rows if r["period"] == NOW.date().isoformat()]
    assert last == [{"tag": "delivery", "period": "2026-11-20", "cases": 9, "customers": 9,
                     "spike": True, "baseline": 1.5}]
    assert not any(r["spike"] for r in rows if r["period"] != "2026-11-20")
