"""Tell everyone when one topic surges: a `trend.spike` event, once per tag per day.

Each replica looks every `spike_check_seconds` at today's cases per tag (UTC days) against
the trailing days; the replica whose insert of (tag, day) wins raises the event, so it is
raised once however many replicas look.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core, queue_event
from router.models import TrendSpike
from router.models.base import UTCDateTime
from router.reports.tags import SpikeRule

log = logging.getLogger(__name__)

COUNTS = {
    "postgresql": "SELECT t.tag, CAST((c.opened_at AT TIME ZONE 'UTC') AS DATE), COUNT(*)"
                  " FROM cases c CROSS JOIN LATERAL jsonb_array_elements_text(c.tags) AS t(tag)"
                  " WHERE c.opened_at >= :since GROUP BY 1, 2",
    "sqlite": "SELECT j.value, date(c.opened_at), COUNT(*) FROM cases c, json_each(c.tags) j"
              " WHERE c.opened_at >= :since GROUP BY 1, 2",
}


async def daily_counts(session: AsyncSession, since: datetime) -> dict[str, dict[date, int]]:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    query = text(COUNTS[dialect]).bindparams(bindparam("since", type_=UTCDateTime()))
    counts: dict[str, dict[date, int]] = {}
    for tag, day, count in await session.execute(query, {"since": since}):
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        counts.setdefault(str(tag), {})[day] = int(count)
    return counts


def spikes_today(counts: dict[str, dict[date, int]], today: date,
                 rule: SpikeRule) -> list[tuple[str, int, float]]:
    found = []
    for tag, by_day in counts.items():
        before = [by_day.get(today - timedelta(days=n), 0) for n in range(rule.trailing, 0, -1)]
        spike, baseline = rule.is_spike(by_day.get(today, 0), before)
        if spike and baseline is not None:
            found.append((tag, by_day[today], baseline))
    return found


async def check_spikes(core: Core, now: datetime | None = None) -> list[str]:
    """Raise `trend.spike` for each tag surging today that no replica raised yet."""
    settings = core.settings
    rule = SpikeRule(settings.spike_factor, settings.spike_min_cases, settings.spike_trailing)
    now = now or datetime.now(UTC)
    today = now.date()
    since = datetime.combine(today - timedelta(days=rule.trailing), datetime.min.time(), UTC)
    async with core.reads() as session:
        found = spikes_today(await daily_counts(session, since), today, rule)
    if not found:
        return []
    raised = []
    async with core.unit() as session:
        insert = pg_insert if not core.sqlite else sqlite_insert
        for tag, cases, baseline in found:
            result = await session.execute(
                insert(TrendSpike).values(tag=tag[:100], period=today.isoformat(), cases=cases,
                                          baseline=baseline)
                .on_conflict_do_nothing(index_elements=["tag", "period"]))
            if getattr(result, "rowcount", 0) == 1:
                raised.append(tag)
                queue_event(session, "trend.spike", {
                    "tag": tag, "period": today.isoformat(), "interval": "day",
                    "cases": cases, "baseline": baseline, "factor": rule.factor})
    return raised


async def run_spike_watcher(core: Core) -> None:
    while True:
        await asyncio.sleep(core.settings.spike_check_seconds)
        try:
            await check_spikes(core)
        except Exception:
            # A failed look is retried at the next one; it must never end the watcher.
            log.exception("tag spike check failed")
