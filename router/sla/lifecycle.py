"""The calls the case lifecycle makes: each applies the clock and keeps the timers in step.

All run inside the caller's unit of work and never commit. The case must be flushed (have
its id) before `case_opened`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from router.experiments.buckets import place_case, running_experiments
from router.models.agents import Team
from router.models.cases import Case
from router.models.sla import Experiment
from router.sla import clock, timers
from router.sla.clock import SlaContext
from router.sla.context import choose_policy_id, context_for, default_policy_id


async def context_of(session: AsyncSession, case: Case) -> SlaContext | None:
    return await context_for(session, case.sla_policy_id)


@dataclass
class Opening:
    """What every new case of one inbound batch reads the same: the running experiments
    and the default policy, read once per batch (policies, teams and calendars then come
    from the session's identity map and the calendar cache)."""

    experiments: list[Experiment]
    default_policy_id: int | None
    # The batch's teams as its placement locked them (a team's own policy is read there).
    teams: Mapping[int, Team] = field(default_factory=dict)


async def opening(session: AsyncSession) -> Opening:
    return Opening(await running_experiments(session), await default_policy_id(session))


async def case_opened(session: AsyncSession, case: Case, message_at: datetime,
                      received_at: datetime, now: datetime, *,
                      arm_now: bool = True, batch: Opening | None = None
                      ) -> SlaContext | None:
    """A new case (after rules and team are set): put it in a running experiment it
    matches, choose the policy, start the clock, arm its timers.

    With `arm_now=False` the caller arms a whole inbound batch's new cases at once with
    `timers.arm_many` (and may open them before their insert: the id is only needed to
    arm)."""
    if case.experiment_id is None:
        await place_case(session, case, batch.experiments if batch is not None else None)
    if batch is not None:
        chosen = await choose_policy_id(session, case, batch.default_policy_id, batch.teams)
    else:
        chosen = await choose_policy_id(session, case)
    ctx = await context_for(session, chosen)
    if ctx is None:
        case.sla_policy_id = None
        return None
    clock.start(case, ctx, message_at, now, received_at)
    if arm_now:
        await timers.arm(session, case, ctx, new=True)
    return ctx


async def _rearm_if_changed(session: AsyncSession, case: Case, ctx: SlaContext | None,
                            before: tuple[object, ...]) -> None:
    if clock.clock_state(case) != before:
        await timers.arm(session, case, ctx)


async def agent_replied(session: AsyncSession, case: Case, at: datetime, *,
                        automatic: bool = False) -> None:
    """An agent's reply went out (not a note; automatic messages change nothing)."""
    if automatic or case.sla_policy_id is None:
        return
    before = clock.clock_state(case)
    clock.on_agent_reply(case, at)
    await _rearm_if_changed(session, case, await context_of(session, case), before)


async def customer_wrote(session: AsyncSession, case: Case, at: datetime, *,
                         automatic: bool = False, arm: bool = True) -> None:
    """A further customer message on an open or pending case (`at`: clock.clock_start).

    `arm=False`: an inbound batch re-arms its changed cases at once (timers.rearm_many)."""
    if automatic or case.sla_policy_id is None:
        return
    ctx = await context_of(session, case)
    if ctx is None:
        return
    before = clock.clock_state(case)
    clock.on_customer_message(case, ctx, at)
    if arm:
        await _rearm_if_changed(session, case, ctx, before)


async def case_pending(session: AsyncSession, case: Case, at: datetime) -> None:
    if case.sla_policy_id is None:
        return
    before = clock.clock_state(case)
    clock.pause(case, at)
    await _rearm_if_changed(session, case, None, before)


async def case_resumed(session: AsyncSession, case: Case, at: datetime) -> None:
    """pending → open by an agent (a customer message resumes by itself)."""
    ctx = await context_of(session, case)
    if ctx is None:
        return
    before = clock.clock_state(case)
    clock.resume(case, ctx, at)
    await _rearm_if_changed(session, case, ctx, before)


async def case_resolved(session: AsyncSession, case: Case, at: datetime) -> None:
    if case.sla_policy_id is None:
        return
    clock.on_resolved(case, at)
    await timers.disarm(session, case.id)


async def case_reopened(session: AsyncSession, case: Case, at: datetime) -> None:
    """After the lifecycle set the case open again."""
    ctx = await context_of(session, case)
    if ctx is None:
        return
    clock.on_reopened(case, ctx, at)
    await timers.arm(session, case, ctx)


async def case_changed(session: AsyncSession, case: Case, *,
                       priority: str | None = None, channel_type: str | None = None) -> None:
    """Priority or channel changed (`priority`, `channel_type`: what they were): running due
    times follow the new targets from their same start, and the timers follow them."""
    ctx = await context_of(session, case)
    if ctx is not None and (priority is not None or channel_type is not None):
        old = clock.choose_target(ctx.policy.targets or [],
                                  channel_type or case.channel_type, priority or case.priority)
        clock.retarget(case, ctx, old)
    await timers.arm(session, case, ctx)


async def acknowledgement_text(session: AsyncSession, case: Case, template: str,
                               language: str | None, timezone: str | None = None
                               ) -> str | None:
    """The e-mail acknowledgement with the case's promised first response filled in, or None
    (no SLA first-response target: keep the connector's static text)."""
    from router.sla.ack import render_ack  # babel loads with the first acknowledgement

    ctx = await context_of(session, case)
    if ctx is None:
        return None
    return render_ack(template, case, ctx.policy, ctx.calendar, language, timezone=timezone)
