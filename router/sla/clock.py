"""The SLA clock of one case: pure functions over a Case row, its policy and calendar.

A metric runs while its due time is set and it has not been met: first response until the
first agent reply, next response from a customer message after a reply until the next reply,
resolution until resolved. `pending` pauses them all; resuming moves each due time on by the
paused span, in business time when the policy has a calendar. `sla_due_at` is always the
earliest running due time (None while paused or when nothing runs): the queue sorts on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from router.models.cases import Case
from router.models.sla import SlaPolicy
from router.sla.calendar import Calendar, add_business_seconds, business_seconds_between

METRICS = ("first_response", "next_response", "resolution")
PRIORITIES = ("urgent", "high", "normal", "low")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}


@dataclass(frozen=True, slots=True)
class Target:
    """Seconds allowed per metric (None: not measured)."""

    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None

    def seconds(self, metric: str) -> int | None:
        value: int | None = getattr(self, metric)
        return value


@dataclass(frozen=True, slots=True)
class SlaContext:
    """What a case's clock needs besides the case: its policy and the policy's calendar."""

    policy: SlaPolicy
    calendar: Calendar | None

    @property
    def warn_before(self) -> timedelta:
        return timedelta(seconds=self.policy.warn_before_seconds or 0)


def specificity(target: Mapping[str, Any]) -> int:
    """Channel type and priority 3, channel type 2, priority 1, neither 0.

    The channel outranks priority: each channel has its own pace (chat minutes, e-mail
    hours), and a priority tunes within it.
    """
    return (2 if target.get("channel_type") else 0) + (1 if target.get("priority") else 0)


def choose_target(targets: Iterable[Mapping[str, Any]], channel_type: str | None,
                  priority: str | None) -> Target:
    """Per metric, the most specific matching target that sets it; ties go to the first listed.

    So a policy may say "e-mail: first response 4 h" and "everything: resolution 3 days" and an
    e-mail case gets both.
    """
    matching = [t for t in targets
                if t.get("channel_type") in (None, channel_type)
                and t.get("priority") in (None, priority)]
    ranked = sorted(matching, key=specificity, reverse=True)  # stable: list order breaks ties
    chosen: dict[str, int | None] = {}
    for metric in METRICS:
        key = f"{metric}_seconds"
        chosen[metric] = next((int(t[key]) for t in ranked if t.get(key) is not None), None)
    return Target(**chosen)


def target_of(ctx: SlaContext, case: Case) -> Target:
    return choose_target(ctx.policy.targets or [], case.channel_type, case.priority)


def clock_start(message_at: datetime, received_at: datetime, now: datetime) -> datetime:
    """The provider's time of the customer's message, never after its receipt or now."""
    return min(message_at, received_at, now)


def _due(ctx: SlaContext, start: datetime, seconds: int | None) -> datetime | None:
    return None if seconds is None else add_business_seconds(ctx.calendar, start, seconds)


def running(case: Case) -> dict[str, datetime]:
    """Metric → due time of each metric still counting (paused ones included)."""
    out: dict[str, datetime] = {}
    if case.status == "resolved":
        return out
    if case.first_response_due_at is not None and case.first_response_at is None:
        out["first_response"] = case.first_response_due_at
    if case.next_response_due_at is not None:
        out["next_response"] = case.next_response_due_at
    if case.resolution_due_at is not None and case.resolved_at is None:
        out["resolution"] = case.resolution_due_at
    return out


def refresh_due(case: Case) -> None:
    """Keep `sla_due_at` the earliest running due time (None while paused)."""
    dues = running(case)
    case.sla_due_at = None if case.sla_paused_at is not None or not dues else min(dues.values())


def start(case: Case, ctx: SlaContext, message_at: datetime, now: datetime,
          received_at: datetime | None = None) -> None:
    """A new case: first response and resolution count from the customer's message."""
    begin = clock_start(message_at, received_at or now, now)
    target = target_of(ctx, case)
    case.sla_policy_id = ctx.policy.id
    case.opened_at = begin
    if case.awaiting_since is None or case.awaiting_since > begin:
        case.awaiting_since = begin
    case.first_response_due_at = _due(ctx, begin, target.first_response)
    case.next_response_due_at = None
    case.resolution_due_at = _due(ctx, begin, target.resolution)
    case.sla_paused_at = None
    refresh_due(case)


def on_agent_reply(case: Case, at: datetime, *, automatic: bool = False) -> None:
    """An agent's reply meets first and next response; automatic messages meet nothing."""
    if automatic:
        return
    if case.first_response_at is None:
        case.first_response_at = at
    case.next_response_due_at = None
    case.awaiting_since = None
    refresh_due(case)


def on_customer_message(case: Case, ctx: SlaContext, at: datetime, *,
                        automatic: bool = False) -> None:
    """The customer wrote: ends a pause; after a reply, starts next response if not running.

    `at` is the message's clock start (see `clock_start`). An automatic mail (out-of-office)
    from the customer changes nothing.
    """
    if automatic or case.status == "resolved":
        return
    if case.sla_paused_at is not None:
        resume(case, ctx, at)
    if case.awaiting_since is None:
        case.awaiting_since = at
    if case.first_response_at is not None and case.next_response_due_at is None:
        case.next_response_due_at = _due(ctx, at, target_of(ctx, case).next_response)
    refresh_due(case)


def pause(case: Case, at: datetime) -> None:
    """`pending` (waiting on the customer): every clock stops counting."""
    if case.sla_paused_at is None:
        case.sla_paused_at = at
    refresh_due(case)


def _shift(ctx: SlaContext, due: datetime | None, paused_at: datetime,
           at: datetime) -> datetime | None:
    if due is None or due <= paused_at:
        return due  # already late when paused: a pause does not undo a breach
    left = business_seconds_between(ctx.calendar, paused_at, due)
    return add_business_seconds(ctx.calendar, max(at, paused_at), left)


def resume(case: Case, ctx: SlaContext, at: datetime) -> None:
    """Back from pending: each running due time moves on by the time spent paused."""
    paused_at = case.sla_paused_at
    if paused_at is None:
        return
    dues = running(case)
    if "first_response" in dues:
        case.first_response_due_at = _shift(ctx, case.first_response_due_at, paused_at, at)
    if "next_response" in dues:
        case.next_response_due_at = _shift(ctx, case.next_response_due_at, paused_at, at)
    if "resolution" in dues:
        case.resolution_due_at = _shift(ctx, case.resolution_due_at, paused_at, at)
    case.sla_paused_at = None
    refresh_due(case)


def on_resolved(case: Case, at: datetime) -> None:
    """Resolved: resolution is met and nothing keeps counting (Chatwoot #10178)."""
    if case.resolved_at is None:
        case.resolved_at = at
    case.next_response_due_at = None
    case.sla_paused_at = None
    case.sla_due_at = None


def on_reopened(case: Case, ctx: SlaContext, at: datetime) -> None:
    """The customer wrote again after resolve: next response counts from `at`.

    Call it once the case is open again (`status` no longer resolved, `resolved_at` cleared
    or kept for history: resolution stays met either way).
    """
    case.sla_paused_at = None
    case.awaiting_since = at
    target = target_of(ctx, case)
    case.next_response_due_at = _due(ctx, at, target.next_response)
    if case.resolved_at is None:
        # The lifecycle cleared the old resolution: it counts again from the reopen (the old
        # due time would otherwise run on and breach at once).
        case.resolution_due_at = _due(ctx, at, target.resolution)
    if case.first_response_at is None and case.first_response_due_at is not None:
        # Resolved without a reply (closed by hand): the first reply is still owed.
        case.next_response_due_at = None
    refresh_due(case)


def _retarget(ctx: SlaContext, start: datetime | None, due: datetime | None,
              old: int | None, new: int | None) -> datetime | None:
    if due is None or start is None or old is None:
        return due
    if new is None:
        return None
    kept = due - add_business_seconds(ctx.calendar, start, old)  # what pauses added
    return add_business_seconds(ctx.calendar, start, new) + kept


def retarget(case: Case, ctx: SlaContext, old: Target) -> None:
    """Priority or channel changed: each running due time follows the new target from the
    same start, keeping what pauses added to it."""
    new = target_of(ctx, case)
    dues = running(case)
    if "first_response" in dues:
        case.first_response_due_at = _retarget(ctx, case.opened_at, case.first_response_due_at,
                                               old.first_response, new.first_response)
    if "next_response" in dues:
        case.next_response_due_at = _retarget(ctx, case.awaiting_since,
                                              case.next_response_due_at,
                                              old.next_response, new.next_response)
    if "resolution" in dues:
        case.resolution_due_at = _retarget(ctx, case.reopened_at or case.opened_at,
                                           case.resolution_due_at, old.resolution,
                                           new.resolution)
    refresh_due(case)


def clock_state(case: Case) -> tuple[Any, ...]:
    """What the timers depend on: compare before and after a call to know whether to re-arm."""
    return (case.sla_policy_id, case.first_response_due_at, case.next_response_due_at,
            case.resolution_due_at, case.sla_paused_at, case.status, case.first_response_at,
            case.resolved_at, case.priority, case.channel_type)


def sla_view(case: Case) -> dict[str, Any]:
    """The case's `sla` object of the public contract."""
    return {"policy_id": case.sla_policy_id,
            "first_response_due_at": case.first_response_due_at,
            "next_response_due_at": case.next_response_due_at,
            "resolution_due_at": case.resolution_due_at,
            "due_at": case.sla_due_at,
            "paused": case.sla_paused_at is not None,
            "paused_at": case.sla_paused_at,
            "breaches": list(case.breaches or [])}
