"""SLA experiments: create (draft), start, stop; stopping keeps every case's bucket."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from router.errors import Conflict, NotFound
from router.experiments.schemas import ExperimentCreate
from router.models.agents import Team
from router.models.base import utcnow
from router.models.sla import Experiment, SlaPolicy
from router.sla.validation import invalid


def experiment_view(row: Experiment) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "status": row.status, "filter": row.filter,
            "buckets": row.buckets, "started_at": row.started_at,
            "stopped_at": row.stopped_at, "created_at": row.created_at}


async def create(session: AsyncSession, body: ExperimentCreate,
                 channel_types: set[str]) -> Experiment:
    names = [b.name for b in body.buckets]
    if len(set(names)) != len(names):
        raise invalid("buckets", "bucket names must differ")
    for n, bucket in enumerate(body.buckets):
        if await session.get(SlaPolicy, bucket.sla_policy_id) is None:
            raise invalid(f"buckets[{n}].sla_policy_id",
                          f"no SLA policy with id {bucket.sla_policy_id}")
    for kind in body.filter.channel_types or []:
        if kind not in channel_types:
            raise invalid("filter.channel_types", f"unknown channel type '{kind}'")
    team = body.filter.team_id
    if team is not None and await session.get(Team, team) is None:
        raise invalid("filter.team_id", f"no team with id {team}")
    row = Experiment(name=body.name, status="draft",
                     filter=body.filter.model_dump(exclude_none=True),
                     buckets=[b.model_dump() for b in body.buckets])
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, experiment_id: int) -> Experiment:
    row = await session.get(Experiment, experiment_id)
    if row is None:
        raise NotFound(f"no experiment with id {experiment_id}")
    return row


async def start(session: AsyncSession, row: Experiment) -> Experiment:
    if row.status != "draft":
        raise Conflict(f"experiment {row.id} is {row.status}; only a draft can start "
                       "(create a new one to run again)")
    row.status, row.started_at = "running", utcnow()
    await session.flush()
    return row


async def stop(session: AsyncSession, row: Experiment) -> Experiment:
    if row.status != "running":
        raise Conflict(f"experiment {row.id} is {row.status}, not running")
    row.status, row.stopped_at = "stopped", utcnow()
    await session.flush()
    return row
