"""A known month of cases, written straight into the tables, and figures computed from it
independently of router/reports (the statistics module, plain loops)."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from router.core import Core
from router.models import Agent, Case, CsatResponse, Customer, Team, Thread

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
TAGS = ["delivery", "refund", "login"]


@dataclass
class Known:
    cases: list[dict[str, Any]] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    agent_ids: list[int] = field(default_factory=list)


async def seed(core: Core, count: int = 240, seed_value: int = 7) -> Known:
    rng = random.Random(seed_value)
    known = Known()
    async with core.unit() as session:
        teams = [Team(name="Line 1"), Team(name="Line 2", line=2)]
        agents = [Agent(name=f"Agent {n}") for n in range(3)]
        session.add_all(teams + agents)
        await session.flush()
        known.team_ids = [t.id for t in teams]
        known.agent_ids = [a.id for a in agents]
        for n in range(count):
            customer = Customer(name=f"c{n % 150}")
            session.add(customer)
            await session.flush()
            thread = Thread(customer_id=customer.id)
            session.add(thread)
            await session.flush()
            opened = START + timedelta(minutes=rng.randrange(0, 28 * 24 * 60))
            frt = rng.choice([None, rng.randrange(30, 4 * 3600)])
            resolved = frt is not None and rng.random() < 0.8
            resolution = (frt or 0) + rng.randrange(60, 48 * 3600) if resolved else None
            replies = 0 if frt is None else rng.choice([1, 1, 2, 3])
            reopens = rng.choice([0, 0, 0, 1]) if resolved else 0
            breaches = [{"metric": "first_response", "due_at": "x", "at": "y"}] \
                if rng.random() < 0.2 else []
            row = {
                "opened_at": opened, "channel_type": rng.choice(["telegram", "email", "api"]),
                "team_id": rng.choice([None, *known.team_ids]),
                "assignee_id": rng.choice([None, *known.agent_ids]),
                "priority": rng.choice(["low", "normal", "high"]),
                "tags": rng.sample(TAGS, rng.randrange(0, 3)),
                "messages_in": rng.randrange(1, 6),
                "first_response_at": None if frt is None else opened + timedelta(seconds=frt),
                "resolved_at": None if resolution is None
                else opened + timedelta(seconds=resolution),
                "agent_replies": replies, "reopen_count": reopens,
                "sla_policy_id": rng.choice([None, 1]), "breaches": breaches,
                "customer_id": customer.id, "thread_id": thread.id,
                "status": "resolved" if resolved else "open",
            }
            case = Case(channel_id="ch1", **row)
            session.add(case)
            await session.flush()
            row["id"] = case.id
            score = rng.choice([None, 1, 2, 3, 4, 5, 5, 4]) if resolved else None
            row["csat"] = score
            if score is not None:
                session.add(CsatResponse(case_id=case.id, thread_id=thread.id,
                                         customer_id=customer.id, score=score))
            known.cases.append(row)
    return known


def p(values: list[float], q: int) -> float | None:
    """The q-th percentile by the inclusive method (numpy 'linear'), or None."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def expected(rows: list[dict[str, Any]]) -> dict[str, Any]:
    frt = sorted((r["first_response_at"] - r["opened_at"]).total_seconds()
                 for r in rows if r["first_response_at"])
    res = sorted((r["resolved_at"] - r["opened_at"]).total_seconds()
                 for r in rows if r["resolved_at"])
    resolved = [r for r in rows if r["resolved_at"]]
    fcr = [r for r in resolved if r["agent_replies"] == 1 and r["reopen_count"] == 0]
    ever = [r for r in rows if r["resolved_at"] or r["reopen_count"]]
    reopened = [r for r in rows if r["reopen_count"]]
    judged = [r for r in rows if r["sla_policy_id"] and (r["breaches"] or r["resolved_at"])]
    met = [r for r in judged if not r["breaches"]]
    scores = [r["csat"] for r in rows if r["csat"] is not None]
    return {
        "cases": len(rows), "messages_in": sum(r["messages_in"] for r in rows),
        "frt_median": statistics.median(frt) if frt else None, "frt_p90": p(frt, 90),
        "frt_mean": statistics.fmean(frt) if frt else None,
        "res_median": statistics.median(res) if res else None, "res_p90": p(res, 90),
        "fcr_rate": len(fcr) / len(resolved) if resolved else None,
        "reopen_rate": len(reopened) / len(ever) if ever else None,
        "sla_met_rate": len(met) / len(judged) if judged else None,
        "csat_responses": len(scores),
        "csat_mean": statistics.fmean(scores) if scores else None,
        "csat_dist": {str(n): scores.count(n) for n in range(1, 6)},
        "satisfied": (sum(1 for s in scores if s >= 4) / len(scores)) if scores else None,
    }
