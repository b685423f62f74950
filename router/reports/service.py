"""Report parameters checked once, names for the keys, and the rows of each report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core
from router.errors import Unprocessable
from router.models import Agent, ChannelRow, Team
from router.reports.cases import case_row
from router.reports.facts import Window, case_facts
from router.reports.hours import Hours, durations_for
from router.reports.sql import interpolate, summary_figures
from router.reports.stats import rate, round_seconds
from router.reports.summary import GroupBy, summarize

MAX_SPAN = timedelta(days=400)


def window_of(start: datetime | None, end: datetime | None, *, default_days: int = 30) -> Window:
    """[from, to) in UTC; naive times are UTC; `to` defaults to now, `from` to 30 days before."""
    end = _utc(end) if end is not None else datetime.now(UTC)
    start = _utc(start) if start is not None else end - timedelta(days=default_days)
    if start >= end:
        raise Unprocessable("`from` must be before `to`")
    if end - start > MAX_SPAN:
        raise Unprocessable(f"a report covers at most {MAX_SPAN.days} days; narrow `from`/`to`")
    return Window(start, end)


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable(f"`tz` {name!r} is not an IANA time zone") from None


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


async def labels(session: AsyncSession, group_by: GroupBy) -> dict[str, str]:
    """Human names for ids used as keys (team, agent, channel)."""
    table = {"team": (Team.id, Team.name), "agent": (Agent.id, Agent.name),
             "channel": (ChannelRow.id, ChannelRow.name)}.get(group_by)
    if table is None:
        return {}
    return {str(key): name for key, name in await session.execute(select(*table))}


async def summary_rows(
    session: AsyncSession, window: Window, group_by: GroupBy, hours: Hours, zone: ZoneInfo,
    team_ids: set[int] | None,
) -> list[dict[str, Any]]:
    names = await labels(session, group_by)
    if hours == "calendar":
        figures = await summary_figures(session, window, group_by, zone, team_ids)
        return [figure_row(key, names.get(key), figures[key]) for key in sorted(figures)]
    # Business hours depend on each case's calendar: counted per case, in Python.
    clock = await durations_for(session, hours)
    tallies = await summarize(session, window, group_by, zone, clock, team_ids)
    return [tallies[key].row(key, names.get(key)) for key in sorted(tallies)]


def figure_row(key: str, label: str | None, f: dict[str, Any]) -> dict[str, Any]:
    """The same row as `Tally.row`, from figures the database added up."""
    distribution = {str(n): count for n, count in enumerate(f["distribution"], start=1)}

    def quantile(column: str, index: int, q: float) -> float | None:
        computed = f["quantiles"][column][index]
        return round_seconds(computed if computed is not None else interpolate(f[column], q))

    return {
        "key": key, "label": label, "cases": f["cases"], "messages_in": f["messages_in"],
        "first_response_seconds": {"median": quantile("frt", 0, 0.5),
                                   "p90": quantile("frt", 1, 0.9),
                                   "mean": round_seconds(f["frt_mean"])},
        "resolution_seconds": {"median": quantile("res", 0, 0.5),
                               "p90": quantile("res", 1, 0.9),
                               "mean": round_seconds(f["res_mean"])},
        "fcr_rate": rate(f["fcr"], f["resolved"]), "reopen_rate": rate(f["reopened"], f["ever"]),
        "sla_met_rate": rate(f["sla_met"], f["sla_judged"]),
        "csat": {"responses": f["responses"],
                 "mean": None if f["score_mean"] is None else round(float(f["score_mean"]), 3),
                 "distribution": distribution,
                 "satisfied_rate": rate(distribution["4"] + distribution["5"], f["responses"])},
    }


async def case_rows(
    core: Core, window: Window, hours: Hours, team_ids: set[int] | None,
    after: tuple[datetime, int] | None = None, limit: int | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Rows in (opened_at, id) order from a read session of their own (streamed answers
    outlive the request's session)."""
    async with core.reads() as session:
        clock = await durations_for(session, hours)
        async for fact in case_facts(session, window, team_ids=team_ids, after=after,
                                     limit=limit):
            yield case_row(fact, clock)
