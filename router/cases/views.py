"""Case objects as the API and live events show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from router.models import Case

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
# Statuses whose cases count against their assignee's capacity.
HELD = ("open", "pending")


@dataclass(slots=True)
class NewCase:
    """A case about to be inserted: plain data, written with the batch's other new cases in
    one statement (router/cases/book.py). `id` is set once the row exists."""

    thread_id: int
    customer_id: int
    opened_at: datetime
    channel_id: str
    channel_type: str
    last_inbound_at: datetime
    awaiting_since: datetime
    created_at: datetime
    priority: str = "normal"
    tags: list[str] = field(default_factory=list)
    team_id: int | None = None
    assignee_id: int | None = None
    assigned_at: datetime | None = None
    queued_at: datetime | None = None
    rule_id: int | None = None
    sla_policy_id: int | None = None
    messages_in: int = 1
    status: str = "open"
    id: int = 0
    # What an inserted case would say (a new case has no answer, SLA or experiment yet).
    first_response_at: datetime | None = None
    last_response_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    reopened_at: datetime | None = None
    reopen_count: int = 0
    agent_replies: int = 0
    first_response_due_at: datetime | None = None
    next_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    sla_paused_at: datetime | None = None
    sla_due_at: datetime | None = None
    breaches: list[dict[str, Any]] = field(default_factory=list)
    experiment_id: int | None = None
    experiment_bucket: str | None = None

    @property
    def priority_rank(self) -> int:
        return PRIORITY_RANK.get(self.priority, 2)

    def row(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id, "customer_id": self.customer_id, "status": self.status,
            "opened_at": self.opened_at, "channel_id": self.channel_id,
            "channel_type": self.channel_type, "last_inbound_channel_id": self.channel_id,
            "last_inbound_at": self.last_inbound_at, "awaiting_since": self.awaiting_since,
            "reopen_count": 0, "messages_in": self.messages_in, "agent_replies": 0,
            "team_id": self.team_id, "assignee_id": self.assignee_id,
            "assigned_at": self.assigned_at, "queued_at": self.queued_at,
            "priority": self.priority, "priority_rank": self.priority_rank,
            "tags": self.tags, "rule_id": self.rule_id, "sla_policy_id": self.sla_policy_id,
            "breaches": [], "created_at": self.created_at, "updated_at": self.created_at,
            # The SLA clock and experiment are set before the insert (router/cases/book.py).
            "first_response_due_at": self.first_response_due_at,
            "next_response_due_at": self.next_response_due_at,
            "resolution_due_at": self.resolution_due_at, "sla_due_at": self.sla_due_at,
            "sla_paused_at": self.sla_paused_at, "experiment_id": self.experiment_id,
            "experiment_bucket": self.experiment_bucket,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def sla_view(case: Case | NewCase) -> dict[str, Any]:
    return {
        "policy_id": case.sla_policy_id,
        "first_response_due_at": _iso(case.first_response_due_at),
        "next_response_due_at": _iso(case.next_response_due_at),
        "resolution_due_at": _iso(case.resolution_due_at),
        "paused": case.sla_paused_at is not None,
        "breaches": list(case.breaches or []),
    }


def case_view(case: Case | NewCase) -> dict[str, Any]:
    """The contract's case object (and a few more fields the lifecycle keeps)."""
    experiment = None
    if case.experiment_id is not None:
        experiment = {"id": case.experiment_id, "bucket": case.experiment_bucket}
    return {
        "id": case.id,
        "thread_id": case.thread_id,
        "status": case.status,
        "opened_at": case.opened_at.isoformat(),
        "first_response_at": _iso(case.first_response_at),
        "last_response_at": _iso(case.last_response_at),
        "resolved_at": _iso(case.resolved_at),
        "resolved_by": case.resolved_by,
        "reopened_at": _iso(case.reopened_at),
        "reopen_count": case.reopen_count,
        "channel_type": case.channel_type,
        "team_id": case.team_id,
        "assignee_id": case.assignee_id,
        "queued_at": _iso(case.queued_at),
        "priority": case.priority,
        "tags": list(case.tags or []),
        "messages_in": case.messages_in,
        "agent_replies": case.agent_replies,
        "sla": sla_view(case),
        "experiment": experiment,
        # `{score, comment}` from csat_responses, filled in by the views that list cases
        # (router/cases/service.py); null until the customer answered.
        "csat": None,
    }


def case_event(case: Case | NewCase, **extra: Any) -> dict[str, Any]:
    """Live-event data: enough for the stream to scope it (thread, team, assignee)."""
    return {"case_id": case.id, "thread_id": case.thread_id, "team_id": case.team_id,
            "assignee_id": case.assignee_id, "status": case.status,
            "priority": case.priority, **extra}
