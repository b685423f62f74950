"""Reports aggregated inside the database: one scan for the counts, one per duration for
the order statistics (window functions: SQLite 3.25+ and PostgreSQL alike).

Only the figures leave the database: per group the sums, and for each median and p90 the two
ranked values around it, which Python interpolates (numpy's 'linear' method).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from router.models.base import UTCDateTime
from router.reports.facts import Window

QUANTILES = (0.5, 0.9)


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str

    def seconds(self, end: str, start: str) -> str:
        if self.name == "postgresql":
            return f"EXTRACT(EPOCH FROM ({end} - {start}))"
        return f"((julianday({end}) - julianday({start})) * 86400.0)"

    def floor(self, expression: str) -> str:
        # PostgreSQL's integer cast rounds; SQLite's truncates (and its FLOOR is optional).
        if self.name == "postgresql":
            return f"CAST(FLOOR({expression}) AS INTEGER)"
        return f"CAST({expression} AS INTEGER)"

    def tags_join(self) -> tuple[str, str]:
        """(join clause, tag expression): one row per tag, one NULL row for an untagged case."""
        if self.name == "postgresql":
            return ("LEFT JOIN LATERAL jsonb_array_elements_text(c.tags) AS t(tag) ON true",
                    "t.tag")
        return "LEFT JOIN json_each(c.tags) AS t", "t.value"

    def period(self, interval: str, zone: ZoneInfo, window: Window,
               params: dict[str, Any]) -> str:
        """The local date (YYYY-MM-DD) of the day or ISO week (Monday) of c.opened_at."""
        if self.name == "postgresql":
            params["tz"] = zone.key
            local = "(c.opened_at AT TIME ZONE :tz)"
            if interval == "week":
                return f"to_char(date_trunc('week', {local}), 'YYYY-MM-DD')"
            return f"to_char({local}, 'YYYY-MM-DD')"
        local = f"datetime(c.opened_at, {self._offset(zone, window, params)})"
        if interval == "week":
            return f"date({local}, '-6 days', 'weekday 1')"
        return f"date({local})"

    @staticmethod
    def _offset(zone: ZoneInfo, window: Window, params: dict[str, Any]) -> str:
        """SQLite has no time zones: the zone's UTC offsets over the window, as a CASE on the
        moments they change (a handful of DST transitions at most)."""
        changes = _transitions(zone, window.start, window.end)
        parts = []
        for index, (until, offset) in enumerate(changes[:-1]):
            params[f"tz_until_{index}"] = until
            parts.append(f"WHEN c.opened_at < :tz_until_{index} THEN '{offset:+d} seconds'")
        last = f"'{changes[-1][1]:+d} seconds'"
        return f"CASE {' '.join(parts)} ELSE {last} END" if parts else last


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """[(until, offset seconds)]: the offset in force before `until`; the last one to the end."""

    def offset(at: datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    out: list[tuple[datetime, int]] = []
    current, at = offset(start), start
    step = timedelta(hours=6)
    while at < end:
        nxt = min(at + step, end)
        if offset(nxt) != current:
            low, high = at, nxt  # narrow the change down to the second
            while (high - low) > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            out.append((high.replace(microsecond=0), current))
            current = offset(high)
        at = nxt
    out.append((end, current))
    return out


def _where(team_ids: set[int] | None, params: dict[str, Any]) -> str:
    clause = "c.opened_at >= :start AND c.opened_at < :end"
    if team_ids is not None:
        names = []
        for index, team_id in enumerate(sorted(team_ids)):
            params[f"team_{index}"] = team_id
            names.append(f":team_{index}")
        clause += f" AND c.team_id IN ({', '.join(names) or 'NULL'})"
    return clause


def _statement(sql: str, params: dict[str, Any]) -> Any:
    binds = [bindparam(name, type_=UTCDateTime()) for name, value in params.items()
             if isinstance(value, datetime)]
    return text(sql).bindparams(*binds)


def key_expression(dialect: Dialect, group_by: str, zone: ZoneInfo, window: Window,
                   params: dict[str, Any]) -> tuple[str, str]:
    """(SQL key expression, extra join) of a summary's groups."""
    if group_by == "tag":
        join, tag = dialect.tags_join()
        return tag, join
    if group_by in ("day", "week"):
        return dialect.period(group_by, zone, window, params), ""
    column = {"channel_type": "c.channel_type", "channel": "c.channel_id",
              "team": "c.team_id", "agent": "c.assignee_id", "priority": "c.priority"}[group_by]
    return column, ""


async def summary_figures(
    session: AsyncSession, window: Window, group_by: str, zone: ZoneInfo,
    team_ids: set[int] | None,
) -> dict[str, dict[str, Any]]:
    """{key: raw figures} for every group of the window's cases (keys None → '(none)')."""
    dialect = Dialect(session.bind.dialect.name if session.bind is not None else "sqlite")
    params: dict[str, Any] = {"start": window.start, "end": window.end}
    key, join = key_expression(dialect, group_by, zone, window, params)
    frt = dialect.seconds("c.first_response_at", "c.opened_at")
    res = dialect.seconds("c.resolved_at", "c.opened_at")
    breached = ("jsonb_array_length(c.breaches) > 0" if dialect.name == "postgresql"
                else "json_array_length(c.breaches) > 0")
    facts = f"""
        SELECT {key} AS k, c.messages_in AS m, {frt} AS frt,
            CASE WHEN c.resolved_at IS NULL THEN NULL ELSE {res} END AS res,
            CASE WHEN c.resolved_at IS NOT NULL THEN 1 ELSE 0 END AS resolved,
            CASE WHEN c.resolved_at IS NOT NULL AND c.agent_replies = 1 AND c.reopen_count = 0
                 THEN 1 ELSE 0 END AS fcr,
            CASE WHEN c.resolved_at IS NOT NULL OR c.reopen_count > 0 THEN 1 ELSE 0 END AS ever,
            CASE WHEN c.reopen_count > 0 THEN 1 ELSE 0 END AS reopened,
            CASE WHEN c.sla_policy_id IS NOT NULL AND ({breached} OR c.resolved_at IS NOT NULL)
                 THEN 1 ELSE 0 END AS sla_judged,
            CASE WHEN c.sla_policy_id IS NOT NULL AND c.resolved_at IS NOT NULL
                 AND NOT ({breached}) THEN 1 ELSE 0 END AS sla_met,
            r.score AS score
        FROM cases c {join} LEFT JOIN csat_responses r ON r.case_id = c.id
        WHERE {_where(team_ids, params)}"""
    scores = ", ".join(f"SUM(CASE WHEN score = {n} THEN 1 ELSE 0 END)" for n in range(1, 6))
    # PostgreSQL's percentile_cont interpolates as numpy's 'linear' does, in the same scan;
    # SQLite has no ordered-set aggregates, so it ranks in two more scans below.
    ordered = (", ".join(f"percentile_cont({q}) WITHIN GROUP (ORDER BY {column})"
                         for column in ("frt", "res") for q in QUANTILES)
               if dialect.name == "postgresql" else "NULL, NULL, NULL, NULL")
    sums = f"""WITH f AS ({facts})
        SELECT k, COUNT(*), SUM(m), AVG(frt), AVG(res), SUM(resolved), SUM(fcr), SUM(ever),
            SUM(reopened), SUM(sla_judged), SUM(sla_met), COUNT(score), AVG(score), {ordered},
            {scores}
        FROM f GROUP BY k"""
    figures: dict[str, dict[str, Any]] = {}
    for row in await session.execute(_statement(sums, params), params):
        (k, cases, messages, frt_mean, res_mean, resolved, fcr, ever, reopened, judged, met,
         responses, score_mean, frt_50, frt_90, res_50, res_90, *distribution) = row
        figures[_key(k)] = {
            "cases": int(cases), "messages_in": int(messages or 0), "frt_mean": frt_mean,
            "res_mean": res_mean, "resolved": int(resolved), "fcr": int(fcr),
            "ever": int(ever), "reopened": int(reopened), "sla_judged": int(judged),
            "sla_met": int(met), "responses": int(responses), "score_mean": score_mean,
            "distribution": [int(n) for n in distribution], "frt": {}, "res": {},
            "quantiles": {"frt": (frt_50, frt_90), "res": (res_50, res_90)}}
    if dialect.name == "postgresql":
        return figures
    for column in ("frt", "res"):
        ranks = " OR ".join(f"rn = {dialect.floor(f'(n - 1) * {q}')} + {extra}"
                            for q in QUANTILES for extra in (1, 2))
        ranked = f"""WITH f AS ({facts}), o AS (
                SELECT k, {column} AS v,
                    ROW_NUMBER() OVER (PARTITION BY k ORDER BY {column}) AS rn,
                    COUNT(*) OVER (PARTITION BY k) AS n
                FROM f WHERE {column} IS NOT NULL)
            SELECT k, rn, n, v FROM o WHERE {ranks}"""
        for k, rn, n, v in await session.execute(_statement(ranked, params), params):
            figures[_key(k)][column][int(rn)] = (int(n), float(v))
    return figures


def interpolate(ranked: dict[int, tuple[int, float]], q: float) -> float | None:
    """The q-quantile from the ranked values around it (ranks are 1-based)."""
    if not ranked:
        return None
    n = next(iter(ranked.values()))[0]
    position = (n - 1) * q
    low = int(position) + 1
    fraction = position - (low - 1)
    low_value = ranked[low][1]
    high_value = ranked.get(low + 1, ranked[low])[1]
    return low_value + (high_value - low_value) * fraction


def _key(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    return str(value)


async def tag_counts(
    session: AsyncSession, window: Window, interval: str, zone: ZoneInfo,
    team_ids: set[int] | None,
) -> dict[tuple[str, str], tuple[int, int]]:
    """{(tag, period): (cases, distinct customers)}."""
    dialect = Dialect(session.bind.dialect.name if session.bind is not None else "sqlite")
    params: dict[str, Any] = {"start": window.start, "end": window.end}
    join, tag = dialect.tags_join()
    join = join.replace("LEFT JOIN", "JOIN").replace(" ON true", " ON true")
    period = dialect.period(interval, zone, window, params)
    sql = f"""SELECT {tag}, {period}, COUNT(DISTINCT c.id), COUNT(DISTINCT c.customer_id)
              FROM cases c {join} WHERE {_where(team_ids, params)} GROUP BY 1, 2"""
    return {(str(t), str(p)): (int(n), int(customers))
            for t, p, n, customers in await session.execute(_statement(sql, params), params)}
