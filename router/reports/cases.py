"""`/v1/reports/cases`: one row per case, for people who do their own analysis."""

from __future__ import annotations

from typing import Any

from router.reports.facts import CaseFact
from router.reports.hours import Durations

COLUMNS = [
    "case_id", "thread_id", "customer_id", "status", "opened_at", "channel_id",
    "channel_type", "team_id", "assignee_id", "priority", "tags", "messages_in",
    "agent_replies", "first_response_at", "first_response_seconds", "resolved_at",
    "resolution_seconds", "resolved_by", "reopened_at", "reopen_count", "fcr",
    "sla_policy_id", "first_response_due_at", "resolution_due_at", "sla_breached",
    "breached_metrics", "experiment_id", "experiment_bucket", "csat_score",
]


def case_row(fact: CaseFact, clock: Durations) -> dict[str, Any]:
    frt, resolution = clock.of(fact)
    resolved = fact.resolved_at is not None
    return {
        "case_id": fact.id, "thread_id": fact.thread_id, "customer_id": fact.customer_id,
        "status": fact.status, "opened_at": fact.opened_at, "channel_id": fact.channel_id,
        "channel_type": fact.channel_type, "team_id": fact.team_id,
        "assignee_id": fact.assignee_id, "priority": fact.priority, "tags": list(fact.tags),
        "messages_in": fact.messages_in, "agent_replies": fact.agent_replies,
        "first_response_at": fact.first_response_at,
        "first_response_seconds": None if frt is None else round(frt, 1),
        "resolved_at": fact.resolved_at,
        "resolution_seconds": None if resolution is None else round(resolution, 1),
        "resolved_by": fact.resolved_by, "reopened_at": fact.reopened_at,
        "reopen_count": fact.reopen_count,
        "fcr": resolved and fact.agent_replies == 1 and fact.reopen_count == 0,
        "sla_policy_id": fact.sla_policy_id,
        "first_response_due_at": fact.first_response_due_at,
        "resolution_due_at": fact.resolution_due_at,
        "sla_breached": bool(fact.breaches),
        "breached_metrics": sorted({str(b.get("metric")) for b in fact.breaches}),
        "experiment_id": fact.experiment_id, "experiment_bucket": fact.experiment_bucket,
        "csat_score": fact.csat_score,
    }
