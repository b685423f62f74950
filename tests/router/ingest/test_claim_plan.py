"""The worker's claim reads the index of received events in order, never every dead entry.

On PostgreSQL each processed event leaves its old entry in that index until VACUUM; only an
ordered index scan stops at the claim's limit and marks those entries dead for the next one.
"""

from __future__ import annotations

from router.ingest.worker import _INDEX_SCAN_ONLY, _claim
from tests.conftest import MakeOmni

# 60,000 processed events and 20 received ones, in one statement.
_COLUMNS = "channel_id, external_event_id, payload, content_type, state, attempts, received_at"
_ROW = ("'c', 'e' || n, {payload}, 'application/json', CASE WHEN n <= 60000 THEN 'processed' "
        "ELSE 'received' END, 0, CURRENT_TIMESTAMP")
FILL = {
    "postgresql": f"INSERT INTO inbound_events ({_COLUMNS}) SELECT "
                  + _ROW.format(payload="convert_to('{}', 'UTF8')")
                  + " FROM generate_series(1, 60020) AS n",
    "sqlite": f"INSERT INTO inbound_events ({_COLUMNS}) WITH RECURSIVE s(n) AS (SELECT 1 "
              "UNION ALL SELECT n + 1 FROM s WHERE n < 60020) SELECT "
              + _ROW.format(payload="CAST('{}' AS BLOB)") + " FROM s",
}


async def test_the_claim_is_an_ordered_scan_of_the_received_index(
    make_omni: MakeOmni, store: str
) -> None:
    omni = await make_omni(run_workers=False)
    pg = store == "postgresql"
    async with omni.core.unit() as session:
        conn = await session.connection()
        compiled = _claim(not pg, pg, True).compile(dialect=conn.dialect)
        values = {**compiled.params, "limit": 20, "lanes": 2, "lane": 0}
        args = tuple(values[name] for name in compiled.positiontup or ())

        async def explain(prefix: str) -> str:
            rows = (await conn.exec_driver_sql(f"{prefix} {compiled}", args)).all()
            return "\n".join(str(row[-1]) for row in rows)

        # No statistics yet, as on a young or bursty table: the planner chose a bitmap scan.
        await conn.exec_driver_sql(FILL[store])
        if pg:
            await session.execute(_INDEX_SCAN_ONLY)
            plan = await explain("EXPLAIN")
            assert "Index Scan using ix_inbound_events_received" in plan, plan
            assert "Sort" not in plan and "Bitmap" not in plan, plan
        else:
            plan = await explain("EXPLAIN QUERY PLAN")
            assert "ix_inbound_events_received" in plan, plan
            assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order
        await session.rollback()
