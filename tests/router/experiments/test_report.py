"""The experiment report's numbers equal figures computed here from the raw cases."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from router.experiments.report import build_report
from router.models import Case, Customer, Experiment, Thread
from tests.omni import OmniServer
from tests.router.sla.helpers import make_policy

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def p90(values: list[float]) -> float:
    """Linear interpolation between order statistics (the report's definition)."""
    ordered = sorted(values)
    rank = 0.9 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def u_statistic(a: list[float], b: list[float]) -> float:
    """Mann-Whitney U of `a` by counting pairs (ties count one half)."""
    return sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)


def z_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, math.erfc(abs(z) / math.sqrt(2))


async def seed(omni: OmniServer) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """Two buckets of cases with known durations and outcomes, written straight to the store."""
    fast = await make_policy(omni, targets=[{"first_response_seconds": 3600}])
    slow = await make_policy(omni, targets=[{"first_response_seconds": 4 * 3600}])
    rng = random.Random(14)
    raw: dict[str, list[dict[str, Any]]] = {"fast": [], "slow": []}
    async with omni.core.unit() as session:
        exp = Experiment(name="e", status="running", filter={}, buckets=[
            {"name": "fast", "weight": 1, "sla_policy_id": fast["id"]},
            {"name": "slow", "weight": 1, "sla_policy_id": slow["id"]}])
        session.add(exp)
        await session.flush()
        for n in range(120):
            bucket = "fast" if n % 2 else "slow"
            scale = 1800 if bucket == "fast" else 5400
            opened = T0 + timedelta(minutes=n)
            frt = rng.randrange(60, 2 * scale) if n % 5 else None  # some never answered
            resolved = rng.randrange(3600, 50 * scale) if n % 3 else None
            breached = frt is None or frt > scale * 1.5
            case = await add_case(session, exp.id, bucket, opened, frt, resolved, breached)
            raw[bucket].append({"id": case, "frt": frt, "resolution": resolved,
                                "breached": breached})
        # A case outside the experiment is not counted.
        await add_case(session, None, None, T0, 60, 60, False)
        return exp.id, raw


async def add_case(session: AsyncSession, experiment_id: int | None, bucket: str | None,
                   opened: datetime, frt: int | None, resolved: int | None,
                   breached: bool) -> int:
    customer = Customer(name="c", tags=[], attributes={})
    session.add(customer)
    await session.flush()
    thread = Thread(customer_id=customer.id, tags=[])
    session.add(thread)
    await session.flush()
    case = Case(thread_id=thread.id, customer_id=customer.id, opened_at=opened,
                status="resolved" if resolved is not None else "open",
                first_response_at=opened + timedelta(seconds=frt) if frt is not None else None,
                resolved_at=opened + timedelta(seconds=resolved) if resolved else None,
                breaches=[{"metric": "first_response", "due_at": "x", "at": "y"}]
                if breached else [], tags=[], experiment_id=experiment_id,
                experiment_bucket=bucket)
    session.add(case)
    await session.flush()
    return case.id


def met_counts(rows: list[dict[str, Any]]) -> tuple[int, int]:
    decided = [r for r in rows if r["breached"] or r["resolution"] is not None]
    return sum(1 for r in decided if not r["breached"]), len(decided)


async def test_report_numbers_match_the_raw_cases(omni: OmniServer) -> None:
    experiment_id, raw = await seed(omni)
    response = await omni.client.get(f"/v1/experiments/{experiment_id}/report")
    assert response.status_code == 200, response.text
    report = response.json()
    by_name = {b["bucket"]: b for b in report["buckets"]}
    for name, rows in raw.items():
        bucket = by_name[name]
        frt = [float(r["frt"]) for r in rows if r["frt"] is not None]
        res = [float(r["resolution"]) for r in rows if r["resolution"] is not None]
        assert bucket["cases"] == len(rows) == 60
        assert bucket["first_response_seconds"]["n"] == len(frt)
        assert bucket["first_response_seconds"]["median"] == pytest.approx(statistics.median(frt))
        assert bucket["first_response_seconds"]["p90"] == pytest.approx(p90(frt))
        assert bucket["resolution_seconds"]["median"] == pytest.approx(statistics.median(res))
        assert bucket["resolution_seconds"]["p90"] == pytest.approx(p90(res))
        low, high = bucket["first_response_seconds"]["median_ci95"]
        assert low <= statistics.median(frt) <= high
        met, decided = met_counts(rows)
        assert bucket["sla_met"]["n"] == decided and bucket["sla_met"]["successes"] == met
        assert bucket["sla_met"]["rate"] == pytest.approx(met / decided)
        ci_low, ci_high = bucket["sla_met"]["ci95"]
        assert ci_low < met / decided < ci_high
        assert bucket["csat"]["note"] == "no responses" and bucket["csat"]["mean"] is None
    comparison, = report["comparisons"]
    assert (comparison["bucket"], comparison["against"]) == ("slow", "fast")
    slow_frt = [float(r["frt"]) for r in raw["slow"] if r["frt"] is not None]
    fast_frt = [float(r["frt"]) for r in raw["fast"] if r["frt"] is not None]
    mw = comparison["first_response_seconds"]
    assert mw["test"].startswith("Mann-Whitney U")
    assert mw["statistic"] == pytest.approx(u_statistic(slow_frt, fast_frt))
    assert 0 <= mw["p_value"] < 0.05  # slow bucket's replies really are slower
    z, p = z_test(*met_counts(raw["slow"]), *met_counts(raw["fast"]))
    rates = comparison["sla_met_rate"]
    assert rates["test"] == "two-proportion z-test"
    assert rates["z"] == pytest.approx(z) and rates["p_value"] == pytest.approx(p)
    assert comparison["csat"]["note"] == "no responses"


class FixedScores:
    def __init__(self, scores: dict[int, int]) -> None:
        self._scores = scores

    async def scores(self, session: AsyncSession,
                     case_ids: Sequence[int]) -> dict[int, int] | None:
        return {c: s for c, s in self._scores.items() if c in case_ids}


async def test_a_csat_source_plugs_in(omni: OmniServer) -> None:
    experiment_id, raw = await seed(omni)
    scores = {r["id"]: 1 + (r["id"] * 7) % 5 for rows in raw.values() for r in rows}
    async with omni.core.reads() as session:
        exp = await session.get(Experiment, experiment_id)
        assert exp is not None
        report = await build_report(session, exp, FixedScores(scores))
    for bucket in report["buckets"]:
        mine = [scores[r["id"]] for r in raw[bucket["bucket"]]]
        csat = bucket["csat"]
        assert csat["responses"] == len(mine)
        assert csat["mean"] == pytest.approx(statistics.mean(mine))
        assert csat["satisfied_rate"] == pytest.approx(sum(s >= 4 for s in mine) / len(mine))
        assert csat["mean_ci95"][0] < csat["mean"] < csat["mean_ci95"][1]
    assert report["comparisons"][0]["csat"]["p_value"] is not None
