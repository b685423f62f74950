"""Report rows as the API documents them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DurationFigures(BaseModel):
    median: float | None
    p90: float | None
    mean: float | None


class CsatFigures(BaseModel):
    responses: int
    mean: float | None
    distribution: dict[str, int]
    satisfied_rate: float | None


class SummaryRow(BaseModel):
    key: str
    label: str | None
    cases: int
    messages_in: int
    first_response_seconds: DurationFigures
    resolution_seconds: DurationFigures
    fcr_rate: float | None
    reopen_rate: float | None
    sla_met_rate: float | None
    csat: CsatFigures


class TagRow(BaseModel):
    tag: str
    period: str
    cases: int
    customers: int
    spike: bool
    baseline: float | None


class CaseRow(BaseModel):
    case_id: int
    thread_id: int
    customer_id: int
    status: str
    opened_at: datetime
    channel_id: str | None
    channel_type: str | None
    team_id: int | None
    assignee_id: int | None
    priority: str
    tags: list[str]
    messages_in: int
    agent_replies: int
    first_response_at: datetime | None
    first_response_seconds: float | None
    resolved_at: datetime | None
    resolution_seconds: float | None
    resolved_by: str | None
    reopened_at: datetime | None
    reopen_count: int
    fcr: bool
    sla_policy_id: int | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_breached: bool
    breached_metrics: list[str]
    experiment_id: int | None
    experiment_bucket: str | None
    csat_score: int | None
