"""The SLA scheduler at rest with 100,000 open cases, and how late a breach fires.

    .venv/bin/python -m bench.sla_idle [--store sqlite|postgresql] [--cases 100000]

Seeds N open cases with a first-response and a resolution timer each (due a day ahead, so
nothing fires), starts the app (scheduler included), then samples this process's RSS and CPU
every 5 s over 30 s of idleness. Then arms 200 breaches due 2 s ahead and reports how long
after its moment each one was claimed (fired_at - due_at).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from router.app import create_app
from router.migrate import upgrade
from router.models import Case, Customer, Thread
from router.models.base import utcnow
from router.models.sla import SlaPolicy, SlaTimer
from router.settings import Settings

CHUNK = 5_000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def seed(app_core: object, cases: int, policy_id: int) -> None:
    from router.core import Core

    assert isinstance(app_core, Core)
    far = utcnow() + timedelta(days=1)
    now = utcnow()
    for start in range(0, cases, CHUNK):
        count = min(CHUNK, cases - start)
        async with app_core.unit() as session:
            customers = (await session.scalars(insert(Customer).returning(Customer.id), [
                {"name": f"c{start + n}", "tags": [], "attributes": {}, "created_at": now,
                 "updated_at": now} for n in range(count)])).all()
            threads = (await session.scalars(insert(Thread).returning(Thread.id), [
                {"customer_id": c, "tags": [], "status": "open", "priority": "normal",
                 "hidden": False, "last_message_at": now, "created_at": now,
                 "updated_at": now} for c in customers])).all()
            rows = [{"thread_id": t, "customer_id": c, "status": "open", "opened_at": now,
                     "channel_type": "email", "priority": "normal", "priority_rank": 2,
                     "tags": [], "breaches": [], "sla_policy_id": policy_id,
                     "first_response_due_at": far, "resolution_due_at": far + timedelta(days=2),
                     "sla_due_at": far, "messages_in": 1, "agent_replies": 0,
                     "reopen_count": 0, "created_at": now, "updated_at": now}
                    for t, c in zip(threads, customers, strict=True)]
            ids = (await session.scalars(insert(Case).returning(Case.id), rows)).all()
            await session.execute(insert(SlaTimer), [
                {"case_id": i, "metric": metric, "kind": "breach", "due_at": due,
                 "target_at": due, "created_at": now}
                for i in ids for metric, due in (("first_response", far),
                                                 ("resolution", far + timedelta(days=2)))])


def main(store: str, cases: int) -> None:
    """Migrate first (Alembic runs its own event loop), then measure."""
    drop = None
    if store == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='sla-idle-')}/omniroute.db"
        upgrade(url)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.stores import create_pg_database

        drop, url = create_pg_database()
    try:
        asyncio.run(measure(store, url, cases))
    finally:
        if drop is not None:
            from tests.stores import drop_pg_database

            drop_pg_database(drop)


async def measure(store: str, url: str, cases: int) -> None:
    app = create_app(Settings(database_url=url, secret_key="bench-secret-key-0123456789",
                              log_level="WARNING"))
    async with app.router.lifespan_context(app):
        core = app.state.core
        async with core.unit() as session:
            policy = SlaPolicy(name="bench", targets=[{"first_response_seconds": 2}],
                               warn_before_seconds=0, on_breach=[])
            session.add(policy)
            await session.flush()
            policy_id = policy.id
        began = time.monotonic()
        await seed(core, cases, policy_id)
        print(f"{store}: seeded {cases} cases / {2 * cases} timers in "
              f"{time.monotonic() - began:.1f} s")
        await asyncio.sleep(2)
        scheduler = app.state.sla_scheduler
        reads = [0]
        plain = scheduler.earliest

        async def counted() -> object:
            reads[0] += 1
            return await plain()

        scheduler.earliest = counted
        rss0, cpu0 = rss_mb(), cpu_seconds()
        print("idle  t(s)  RSS(MB)  CPU(s, cumulative over the window)")
        for tick in range(1, 7):
            await asyncio.sleep(5)
            print(f"      {tick * 5:4d}  {rss_mb():7.1f}  {cpu_seconds() - cpu0:6.3f}")
        print(f"idle 30 s: RSS {rss0:.1f} -> {rss_mb():.1f} MB, CPU "
              f"{cpu_seconds() - cpu0:.3f} s ({(cpu_seconds() - cpu0) / 30 * 100:.2f} %) for "
              f"the whole app; the scheduler read the earliest moment {reads[0]} times")
        await fire_latency(core, policy_id)


async def fire_latency(core: object, policy_id: int) -> None:
    from router.core import Core
    from router.sla import lifecycle

    assert isinstance(core, Core)
    ids: list[int] = []
    async with core.unit() as session:
        cases = (await session.scalars(select(Case).order_by(Case.id).limit(200))).all()
        now = utcnow()
        for case in cases:
            case.first_response_due_at = None
            case.breaches = []
            await lifecycle.case_opened(session, case, now, now, now)
            ids.append(case.id)
    query = select(SlaTimer.due_at, SlaTimer.fired_at).where(
        SlaTimer.case_id.in_(ids), SlaTimer.metric == "first_response",
        SlaTimer.target_at < now + timedelta(hours=1))
    for _ in range(40):
        await asyncio.sleep(0.5)
        async with core.reads() as session:
            rows = (await session.execute(query)).all()
        if rows and all(fired for _due, fired in rows):
            break
    late = sorted((fired - due).total_seconds() * 1000 for due, fired in rows if fired)
    if not late:
        print("no cases to measure firing with")
        return
    print(f"fired {len(late)}/{len(rows)} breaches; claimed after their moment: "
          f"median {statistics.median(late):.1f} ms, max {late[-1]:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("OMNIROUTE_LOG_LEVEL", "WARNING")
    main(args.store, args.cases)
