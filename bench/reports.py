"""Report speed at scale: `python bench/reports.py [--stores sqlite,postgresql]`.

1M messages in 200k cases over a quarter (bench/seed.py plus one case per thread, in SQL),
then, against `omniroute serve`: `summary` over a month and `tags` over a quarter (p50/p99
of repeated reads) and `cases` over the quarter as CSV, with the server's RSS before/after.
Prints a Markdown table; the figures go into bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.seed import seed
from bench.servers import ADMIN_KEY, Store, start_omniroute

CASES_PG = """
INSERT INTO cases (thread_id, customer_id, status, opened_at, channel_id, channel_type,
    first_response_at, resolved_at, resolved_by, reopen_count, messages_in, agent_replies,
    priority, priority_rank, tags, sla_policy_id, breaches, created_at, updated_at)
SELECT g, g, CASE WHEN g % 5 = 0 THEN 'open' ELSE 'resolved' END,
    TIMESTAMPTZ '2026-09-01' + (g * 38.88) * INTERVAL '1 second', 'bench-seed',
    (ARRAY['api','telegram','email','whatsapp'])[1 + g % 4],
    TIMESTAMPTZ '2026-09-01' + (g * 38.88 + 60 + g % 7200) * INTERVAL '1 second',
    CASE WHEN g % 5 = 0 THEN NULL
         ELSE TIMESTAMPTZ '2026-09-01' + (g * 38.88 + 3600 + g % 86400) * INTERVAL '1 second' END,
    CASE WHEN g % 5 = 0 THEN NULL ELSE 'agent' END, g % 9 / 8, 5, 1 + g % 3,
    (ARRAY['low','normal','high'])[1 + g % 3], 1 + g % 3,
    jsonb_build_array((ARRAY['delivery','refund','login','billing','crash'])[1 + g % 5]),
    1, CASE WHEN g % 6 = 0 THEN '[{"metric": "first_response"}]'::jsonb ELSE '[]'::jsonb END,
    now(), now()
FROM generate_series(1, :n) g
"""
CASES_SQLITE = """
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n)
INSERT INTO cases (thread_id, customer_id, status, opened_at, channel_id, channel_type,
    first_response_at, resolved_at, resolved_by, reopen_count, messages_in, agent_replies,
    priority, priority_rank, tags, sla_policy_id, breaches, created_at, updated_at)
SELECT g, g, CASE WHEN g % 5 = 0 THEN 'open' ELSE 'resolved' END,
    datetime('2026-09-01', '+' || (g * 38.88) || ' seconds'), 'bench-seed',
    CASE g % 4 WHEN 0 THEN 'api' WHEN 1 THEN 'telegram' WHEN 2 THEN 'email' ELSE 'whatsapp' END,
    datetime('2026-09-01', '+' || (g * 38.88 + 60 + g % 7200) || ' seconds'),
    CASE WHEN g % 5 = 0 THEN NULL
         ELSE datetime('2026-09-01', '+' || (g * 38.88 + 3600 + g % 86400) || ' seconds') END,
    CASE WHEN g % 5 = 0 THEN NULL ELSE 'agent' END, g % 9 / 8, 5, 1 + g % 3,
    CASE g % 3 WHEN 0 THEN 'low' WHEN 1 THEN 'normal' ELSE 'high' END, 1 + g % 3,
    json_array(CASE g % 5 WHEN 0 THEN 'delivery' WHEN 1 THEN 'refund' WHEN 2 THEN 'login'
                          WHEN 3 THEN 'billing' ELSE 'crash' END),
    1, CASE WHEN g % 6 = 0 THEN '[{"metric": "first_response"}]' ELSE '[]' END,
    datetime('now'), datetime('now')
FROM s
"""
CSAT = """
INSERT INTO csat_responses (case_id, thread_id, customer_id, score, channel_id, created_at)
SELECT id, thread_id, customer_id, 1 + id % 5, channel_id, resolved_at FROM cases
WHERE resolved_at IS NOT NULL AND id % 3 = 0
"""


def seed_cases(store: Store, cases: int) -> None:
    async def run() -> None:
        engine = create_async_engine(store.url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(CASES_PG if store.kind == "postgresql" else CASES_SQLITE),
                                   {"n": cases})
                await conn.execute(text(CSAT))
            if store.kind == "postgresql":
                async with engine.connect() as conn:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(text("VACUUM ANALYZE"))
        finally:
            await engine.dispose()

    asyncio.run(run())


def timed(client: httpx.Client, path: str, params: dict[str, str], samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(path, params=params)
        response.raise_for_status()
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def p99(values: list[float]) -> float:
    return values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]


def run(kind: str, samples: int) -> list[str]:
    store = Store.fresh(kind, "omniroute_bench_reports")
    store.migrate()
    started = time.perf_counter()
    seed(store, 200_000, 1_000_000)
    seed_cases(store, 200_000)
    print(f"[{kind}] seeded in {time.perf_counter() - started:.0f}s", flush=True)
    server = start_omniroute(store, f"reports-{kind}")
    lines = []
    try:
        with httpx.Client(base_url=server.base, timeout=120,
                          headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
            month = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
            quarter = {"from": "2026-09-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
            for label, path, params in (
                ("summary, month, by day", "/v1/reports/summary", {**month, "group_by": "day"}),
                ("summary, month, by tag", "/v1/reports/summary", {**month, "group_by": "tag"}),
                ("tags, quarter, by week", "/v1/reports/tags", {**quarter, "interval": "week"}),
            ):
                timed(client, path, params, 2)
                values = timed(client, path, params, samples)
                lines.append(f"| {kind} | {label} | {statistics.median(values):.0f} ms "
                             f"| {p99(values):.0f} ms |")
            before = server.rss_mb()
            started = time.perf_counter()
            rows = 0
            peak = before
            with client.stream("GET", "/v1/reports/cases", params=quarter,
                               headers={"Accept": "text/csv"}) as response:
                for _ in response.iter_lines():
                    rows += 1
                    if rows % 20_000 == 0:
                        peak = max(peak, server.rss_mb())
            seconds = time.perf_counter() - started
            lines.append(f"| {kind} | cases CSV, quarter: {rows - 1:,} rows | {seconds:.1f} s "
                         f"| RSS {before:.0f} → peak {peak:.0f} MB |")
    finally:
        server.stop()
        store.drop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    lines = ["| store | report | p50 | p99 |", "|---|---|---|---|"]
    for kind in args.stores.split(","):
        lines += run(kind, args.samples)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
