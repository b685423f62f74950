"""CSAT answers as the API documents them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ExperimentRef(BaseModel):
    id: int
    bucket: str | None


class CsatOut(BaseModel):
    case_id: int
    thread_id: int
    score: int
    comment: str | None
    channel_id: str | None
    channel_type: str | None
    agent_id: int | None
    team_id: int | None
    experiment: ExperimentRef | None
    created_at: datetime
