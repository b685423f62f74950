"""Bulk seeding for the scale figures: customers, identities, threads, messages, in SQL.

Shape: one identity and one thread per customer; a tenth of the messages go to the 1 % "hot"
threads (about 100 each, so their pages are full), the rest spread evenly; two threads in
three are open. Rows are generated inside the database (generate_series / a recursive CTE).
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.servers import Store

SEED_CHANNEL = "bench-seed"

PG = [
    """INSERT INTO customers (id, name, created_at, updated_at)
       SELECT g, 'Customer ' || g, now(), now() FROM generate_series(1, :nc) g""",
    """INSERT INTO identities (customer_id, kind, value, verified, channel_id, name, reachable,
                              last_inbound_at, last_inbound_channel_id, created_at)
       SELECT g, 'api', :ch || ':' || 'u' || g, true, :ch, 'Customer ' || g, true, now(), :ch, now()
       FROM generate_series(1, :nc) g""",
    """INSERT INTO threads (id, customer_id, status, priority, tags, last_message_at,
                           last_inbound_at, last_inbound_channel_id, hidden, created_at,
                           updated_at)
       SELECT g, g, CASE WHEN g % 3 = 0 THEN 'closed' ELSE 'open' END, 'normal', '[]'::jsonb,
              TIMESTAMPTZ '2026-01-01' + (g * :spacing) * INTERVAL '1 second',
              TIMESTAMPTZ '2026-01-01' + (g * :spacing) * INTERVAL '1 second', :ch, false,
              now(), now()
       FROM generate_series(1, :nc) g""",
    """INSERT INTO messages (thread_id, direction, channel_id, identity_id, external_id, text,
                            attachments, meta, sent_at, created_at, status, automatic, edits)
       SELECT t, 'inbound', :ch, t, 'seed-' || g, 'Seeded message ' || g || ' about my order',
              '[]'::jsonb, '{}'::jsonb, TIMESTAMPTZ '2026-01-01' + g * INTERVAL '1 second',
              now(), 'received', false, '[]'::jsonb
       FROM (SELECT g, CASE WHEN g % 10 = 0 THEN 1 + (g / 10) % :hot ELSE 1 + g % :nc END AS t
             FROM generate_series(1, :nm) g) s""",
    "SELECT setval(pg_get_serial_sequence('customers', 'id'), :nc)",
    "SELECT setval(pg_get_serial_sequence('threads', 'id'), :nc)",
]

SQLITE = [
    """WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :nc)
       INSERT INTO customers (id, name, created_at, updated_at)
       SELECT g, 'Customer ' || g, datetime('now'), datetime('now') FROM s""",
    """WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :nc)
       INSERT INTO identities (customer_id, kind, value, verified, channel_id, name, reachable,
                               last_inbound_at, last_inbound_channel_id, created_at)
       SELECT g, 'api', :ch || ':' || 'u' || g, 1, :ch, 'Customer ' || g, 1, datetime('now'), :ch,
              datetime('now') FROM s""",
    """WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :nc)
       INSERT INTO threads (id, customer_id, status, priority, tags, last_message_at,
                            last_inbound_at, last_inbound_channel_id, hidden, created_at,
                            updated_at)
       SELECT g, g, CASE WHEN g % 3 = 0 THEN 'closed' ELSE 'open' END, 'normal', '[]',
              datetime('2026-01-01 00:00:00', '+' || (g * :spacing) || ' seconds'),
              datetime('2026-01-01 00:00:00', '+' || (g * :spacing) || ' seconds'), :ch, 0,
              datetime('now'), datetime('now') FROM s""",
    """WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :nm)
       INSERT INTO messages (thread_id, direction, channel_id, identity_id, external_id, text,
                             attachments, meta, sent_at, created_at, status, automatic, edits)
       SELECT t, 'inbound', :ch, t, 'seed-' || g, 'Seeded message ' || g || ' about my order',
              '[]', '{}', datetime('2026-01-01 00:00:00', '+' || g || ' seconds'),
              datetime('now'), 'received', 0, '[]'
       FROM (SELECT g, CASE WHEN g % 10 = 0 THEN 1 + (g / 10) % :hot ELSE 1 + g % :nc END AS t
             FROM s)""",
]


def seed(store: Store, customers: int, messages: int) -> float:
    """Fill an empty, migrated store; returns the seconds it took."""
    params = {"nc": customers, "nm": messages, "ch": SEED_CHANNEL,
              "hot": max(1, customers // 100), "spacing": max(1, messages // customers)}

    async def run() -> None:
        engine = create_async_engine(store.url)
        try:
            async with engine.begin() as conn:
                for statement in SQLITE if store.kind == "sqlite" else PG:
                    await conn.execute(text(statement), params)
            if store.kind == "postgresql":
                # What autovacuum does shortly after a bulk load; SQLite has no such thing.
                async with engine.connect() as conn:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(text("VACUUM ANALYZE"))
        finally:
            await engine.dispose()

    started = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - started


def hot_threads(customers: int) -> list[int]:
    return list(range(1, max(1, customers // 100) + 1))
