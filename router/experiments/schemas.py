"""API shapes of SLA experiments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from router.ids import DbId


class ExperimentFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_types: list[str] | None = Field(default=None, max_length=20)
    team_id: DbId | None = None


class Bucket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    weight: float = Field(gt=0, le=1_000_000)
    sla_policy_id: DbId


class ExperimentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    filter: ExperimentFilter = Field(default_factory=ExperimentFilter)
    buckets: list[Bucket] = Field(min_length=2, max_length=10)


class ExperimentOut(BaseModel):
    id: int
    name: str
    status: str
    filter: dict[str, Any]
    buckets: list[dict[str, Any]]
    started_at: datetime | None
    stopped_at: datetime | None
    created_at: datetime
