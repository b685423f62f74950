"""`/v1/reports/summary`: the figures a support lead asks for, per group of cases."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from router.reports.facts import CaseFact, Window, case_facts
from router.reports.hours import Durations
from router.reports.periods import period_of
from router.reports.stats import durations, rate

GroupBy = Literal["channel_type", "channel", "team", "agent", "tag", "priority", "day", "week"]


@dataclass(slots=True)
class Tally:
    """What one group's cases add up to."""

    cases: int = 0
    messages_in: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    resolved: int = 0
    fcr: int = 0
    ever_resolved: int = 0
    reopened: int = 0
    sla_counted: int = 0
    sla_met: int = 0
    scores: list[int] = field(default_factory=list)

    def add(self, fact: CaseFact, frt: float | None, resolution: float | None) -> None:
        self.cases += 1
        self.messages_in += fact.messages_in
        if frt is not None:
            self.first_response.append(frt)
        if fact.resolved_at is not None:
            self.resolved += 1
            if resolution is not None:
                self.resolution.append(resolution)
            if fact.agent_replies == 1 and fact.reopen_count == 0:
                self.fcr += 1
        if fact.resolved_at is not None or fact.reopen_count > 0:
            self.ever_resolved += 1
        if fact.reopen_count > 0:
            self.reopened += 1
        if fact.sla_policy_id is not None and (fact.breaches or fact.resolved_at is not None):
            # An SLA is judged once it is kept to the end (resolved) or broken (a breach).
            self.sla_counted += 1
            if not fact.breaches:
                self.sla_met += 1
        if fact.csat_score is not None:
            self.scores.append(fact.csat_score)

    def row(self, key: str, label: str | None) -> dict[str, Any]:
        return {
            "key": key, "label": label, "cases": self.cases, "messages_in": self.messages_in,
            "first_response_seconds": durations(self.first_response),
            "resolution_seconds": durations(self.resolution),
            "fcr_rate": rate(self.fcr, self.resolved),
            "reopen_rate": rate(self.reopened, self.ever_resolved),
            "sla_met_rate": rate(self.sla_met, self.sla_counted),
            "csat": csat_figures(self.scores),
        }


def csat_figures(scores: list[int]) -> dict[str, Any]:
    distribution = {str(n): 0 for n in range(1, 6)}
    for score in scores:
        distribution[str(score)] += 1
    satisfied = distribution["4"] + distribution["5"]
    return {"responses": len(scores),
            "mean": round(sum(scores) / len(scores), 3) if scores else None,
            "distribution": distribution, "satisfied_rate": rate(satisfied, len(scores))}


def group_keys(group_by: GroupBy, zone: ZoneInfo) -> Callable[[CaseFact], Iterable[str]]:
    """The groups one case counts in (a case with two tags counts under each)."""
    if group_by == "tag":
        return lambda fact: fact.tags or ["(none)"]
    if group_by in ("day", "week"):
        interval: Literal["day", "week"] = group_by
        return lambda fact: (period_of(fact.opened_at, interval, zone),)
    column = {"channel_type": "channel_type", "channel": "channel_id", "team": "team_id",
              "agent": "assignee_id", "priority": "priority"}[group_by]

    def key(fact: CaseFact) -> tuple[str]:
        value = getattr(fact, column)
        return ("(none)" if value is None else str(value),)

    return key


async def summarize(
    session: AsyncSession, window: Window, group_by: GroupBy, zone: ZoneInfo,
    clock: Durations, team_ids: set[int] | None = None,
) -> dict[str, Tally]:
    keys_of = group_keys(group_by, zone)
    tallies: dict[str, Tally] = {}
    async for fact in case_facts(session, window, team_ids=team_ids):
        frt, resolution = clock.of(fact)
        for key in keys_of(fact):
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = Tally()
            tally.add(fact, frt, resolution)
    return tallies
