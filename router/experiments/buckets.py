"""Which bucket a customer falls in: deterministic, so one customer sees one service level."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.models.cases import Case
from router.models.sla import Experiment

# Customers are split in blocks of this many consecutive ids; each block is shuffled by the
# hash, so any run of customers holds the weights to about one block's rounding (1 %), where
# a hash alone drifts by its binomial noise (±1.5 % at 1,000 customers, ±3 % one time in 20).
BLOCK = 100


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def unit_hash(experiment_id: int, customer_id: int) -> float:
    """The customer's place in [0, 1): permuted-block randomisation keyed by SHA-256.

    The block of `customer_id` is put in a random order fixed by SHA-256 of
    "experiment:block:slot"; the customer's rank in that order, centred, is the place.
    Deterministic in (experiment, customer): one customer never sees two service levels.
    """
    block, slot = divmod(customer_id, BLOCK)
    order = sorted(range(BLOCK), key=lambda n: _digest(f"{experiment_id}:{block}:{n}"))
    return (order.index(slot) + 0.5) / BLOCK


def assign_bucket(experiment: Experiment, customer_id: int) -> str:
    """The bucket whose share of [0, 1) (by weight, in listed order) holds the place."""
    buckets: list[dict[str, Any]] = list(experiment.buckets or [])
    total = sum(float(b["weight"]) for b in buckets)
    point = unit_hash(experiment.id, customer_id) * total
    edge = 0.0
    for bucket in buckets:
        edge += float(bucket["weight"])
        if point < edge:
            return str(bucket["name"])
    return str(buckets[-1]["name"])


def matches(experiment: Experiment, channel_type: str | None, team_id: int | None) -> bool:
    """Running, and the case fits the filter (a filter left out matches everything)."""
    if experiment.status != "running":
        return False
    wanted = experiment.filter or {}
    types = wanted.get("channel_types")
    if types and channel_type not in types:
        return False
    team = wanted.get("team_id")
    return team is None or team == team_id


async def running_experiments(session: AsyncSession) -> list[Experiment]:
    return list(await session.scalars(select(Experiment).where(Experiment.status == "running")
                                      .order_by(Experiment.id)))


async def place_case(session: AsyncSession, case: Case,
                     running: Sequence[Experiment] | None = None) -> Experiment | None:
    """Put a new case in the first running experiment it matches (oldest first);
    `running`: the list an inbound batch read once for all its new cases."""
    if running is None:
        running = await running_experiments(session)
    for experiment in running:
        if matches(experiment, case.channel_type, case.team_id):
            case.experiment_id = experiment.id
            case.experiment_bucket = assign_bucket(experiment, case.customer_id)
            return experiment
    return None
