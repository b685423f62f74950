"""`/v1/reports/tags`: cases and distinct customers per tag per period, with spikes flagged.

"45 customers wrote about delivery this week", not "many": each tag's count per day or week,
and `spike: true` on a tag's latest period when it exceeds its trailing average by a factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from router.reports.facts import Window
from router.reports.periods import Interval, periods_between
from router.reports.sql import tag_counts


@dataclass(frozen=True, slots=True)
class SpikeRule:
    factor: float
    min_cases: int
    trailing: int

    def is_spike(self, count: int, before: list[int]) -> tuple[bool, float | None]:
        """(spike?, trailing mean): needs history to compare with and a floor of cases."""
        history = before[-self.trailing:]
        if not history:
            return False, None
        baseline = sum(history) / len(history)
        return count >= self.min_cases and count > self.factor * baseline, round(baseline, 2)


async def tag_report(
    session: AsyncSession, window: Window, interval: Interval, zone: ZoneInfo, rule: SpikeRule,
    team_ids: set[int] | None = None,
) -> list[dict[str, Any]]:
    counted = await tag_counts(session, window, interval, zone, team_ids)
    cases = {key: n for key, (n, _) in counted.items()}
    periods = periods_between(window.start, window.end, interval, zone)
    rows: list[dict[str, Any]] = []
    for tag in sorted({tag for tag, _ in cases}):
        counts = [cases.get((tag, period), 0) for period in periods]
        for index, period in enumerate(periods):
            count = counts[index]
            spike, baseline = (rule.is_spike(count, counts[:index])
                               if index == len(periods) - 1 else (False, None))
            if count == 0 and not spike:
                continue
            rows.append({"tag": tag, "period": period, "cases": count,
                         "customers": counted.get((tag, period), (0, 0))[1],
                         "spike": spike, "baseline": baseline})
    return rows
