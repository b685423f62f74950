"""GET /v1/experiments/{id}/report: per bucket FRT, resolution, SLA met rate, CSAT, tests.

Counts cases, not threads. Durations count from `opened_at` (the SLA clock's start) in
calendar seconds. A case counts for the SLA met rate once decided: breached (missed) or
resolved without a breach (met); open cases still in time are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models.cases import Case
from router.models.sla import Experiment


class CsatSource(Protocol):
    """Where CSAT scores (1-5) come from; None means there is no CSAT store yet."""

    async def scores(self, session: AsyncSession,
                     case_ids: Sequence[int]) -> dict[int, int] | None: ...


class NoCsatYet:
    """Until the CSAT table exists: the report says 'no responses', never zeros."""

    async def scores(self, session: AsyncSession,
                     case_ids: Sequence[int]) -> dict[int, int] | None:
        return None


@dataclass
class BucketData:
    cases: list[int] = field(default_factory=list)
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    met: int = 0
    decided: int = 0
    csat: list[int] = field(default_factory=list)


async def build_report(session: AsyncSession, experiment: Experiment,
                       csat: CsatSource | None = None) -> dict[str, Any]:
    names = [str(b["name"]) for b in experiment.buckets or []]
    data = {name: BucketData() for name in names}
    rows = (await session.execute(
        select(Case.id, Case.experiment_bucket, Case.opened_at, Case.first_response_at,
               Case.resolved_at, Case.status, Case.breaches)
        .where(Case.experiment_id == experiment.id).order_by(Case.id))).all()
    for case_id, bucket, opened, first, resolved, status, breaches in rows:
        into = data.setdefault(str(bucket), BucketData())
        into.cases.append(case_id)
        if first is not None:
            into.first_response.append((first - opened).total_seconds())
        if resolved is not None and status == "resolved":
            into.resolution.append((resolved - opened).total_seconds())
        if breaches:
            into.decided += 1
        elif status == "resolved":
            into.decided += 1
            into.met += 1
    scores = await (csat or NoCsatYet()).scores(session, [r[0] for r in rows])
    if scores is not None:
        for bucket in data.values():
            bucket.csat = [scores[c] for c in bucket.cases if c in scores]
    buckets = [_bucket(name, bucket, scores is not None) for name, bucket in data.items()]
    control = names[0] if names else None
    comparisons = [_compare(control, data[control], name, data[name], scores is not None)
                   for name in data if control is not None and name != control]
    return {"experiment_id": experiment.id, "status": experiment.status,
            "buckets": buckets, "comparisons": comparisons}


def _csat(bucket: BucketData, available: bool) -> dict[str, Any]:
    from router.experiments import stats

    if not available or not bucket.csat:
        return {"responses": 0, "mean": None, "mean_ci95": None, "satisfied_rate": None,
                "satisfied_ci95": None, "note": "no responses"}
    satisfied = stats.rate(sum(1 for s in bucket.csat if s >= 4), len(bucket.csat))
    return {"responses": len(bucket.csat), **stats.mean_summary(bucket.csat),
            "satisfied_rate": satisfied["rate"], "satisfied_ci95": satisfied["ci95"]}


def _bucket(name: str, bucket: BucketData, csat: bool) -> dict[str, Any]:
    # scipy (tens of MB) loads with the first report, not in every worker at start.
    from router.experiments import stats

    return {"bucket": name, "cases": len(bucket.cases),
            "first_response_seconds": stats.quantile_summary(bucket.first_response),
            "resolution_seconds": stats.quantile_summary(bucket.resolution),
            "sla_met": stats.rate(bucket.met, bucket.decided),
            "csat": _csat(bucket, csat)}


def _compare(control: str, a: BucketData, name: str, b: BucketData,
             csat: bool) -> dict[str, Any]:
    """`name` against the first bucket (the control)."""
    from router.experiments import stats

    return {"bucket": name, "against": control,
            "first_response_seconds": stats.mann_whitney(b.first_response, a.first_response),
            "resolution_seconds": stats.mann_whitney(b.resolution, a.resolution),
            "sla_met_rate": stats.two_proportions(b.met, b.decided, a.met, a.decided),
            "csat": (stats.mann_whitney(b.csat, a.csat) if csat and a.csat and b.csat
                     else {"test": "Mann-Whitney U (two-sided)", "p_value": None,
                           "note": "no responses"})}
