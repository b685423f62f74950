"""Case API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from router.ids import DbId


class SlaOut(BaseModel):
    policy_id: int | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    paused: bool
    breaches: list[dict[str, Any]]


class ExperimentRef(BaseModel):
    id: int
    bucket: str | None


class CaseOut(BaseModel):
    id: int
    thread_id: int
    status: Literal["open", "pending", "resolved"]
    opened_at: datetime
    first_response_at: datetime | None
    last_response_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    reopened_at: datetime | None
    reopen_count: int
    channel_type: str | None
    team_id: int | None
    assignee_id: int | None
    queued_at: datetime | None
    priority: str
    tags: list[str]
    messages_in: int
    agent_replies: int
    sla: SlaOut
    experiment: ExperimentRef | None
    csat: dict[str, Any] | None


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team_id: DbId | None = None
    agent_id: DbId | None = None
    reason: str = Field(min_length=1, max_length=2000)
