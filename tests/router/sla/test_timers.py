"""SLA timers fire once per metric per case: at the moment, after a restart, across replicas."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from router.models import CaseEvent, Thread
from router.models.base import utcnow
from router.models.sla import SlaTimer
from router.sla import lifecycle
from tests.conftest import MakeOmni
from tests.omni import OmniServer
from tests.router.sla.helpers import (
    case_row,
    make_agent,
    make_policy,
    make_team,
    open_case,
    published,
)


async def breached(omni: OmniServer, case_id: int, metric: str = "first_response") -> bool:
    case = await case_row(omni.core, case_id)
    return any(b["metric"] == metric for b in case.breaches)


async def test_a_breach_fires_once_with_its_actions(omni: OmniServer) -> None:
    core = omni.core
    line2 = await make_team(core, "line 2")
    boss = await make_agent(core, "Boss", "supervisor")
    policy = await make_policy(omni, warn_before_seconds=1, targets=[
        {"channel_type": "webchat", "first_response_seconds": 2, "resolution_seconds": 3600}],
        on_breach=[{"action": "raise_priority"}, {"action": "add_tag", "value": "late"},
                   {"action": "notify_supervisor", "value": boss},
                   {"action": "transfer_team", "value": line2, "metrics": ["first_response"]}])
    case_id = await open_case(core, "webchat", policy_id=policy["id"])
    await omni.wait_for(lambda: breached(omni, case_id), timeout=10)
    await asyncio.sleep(0.3)
    case = await case_row(core, case_id)
    assert [b["metric"] for b in case.breaches] == ["first_response"]
    assert (case.priority, case.priority_rank, case.tags) == ("high", 1, ["late"])
    assert (case.team_id, case.assignee_id) == (line2, None) and case.queued_at is not None
    warning, = published(omni, "sla.warning")
    breach, = published(omni, "sla.breached")
    assert warning["metric"] == breach["metric"] == "first_response"
    assert breach["case_id"] == case_id and breach["team_id"] == line2
    assert breach["actions"] == ["raise_priority", "add_tag", "notify_supervisor",
                                 "transfer_team"]
    notified, = published(omni, "sla.supervisor_notified")
    assert notified["supervisor_id"] == boss
    async with core.reads() as session:
        thread = await session.get(Thread, case.thread_id)
        assert thread is not None and thread.team_id == line2 and thread.tags == ["late"]
        types = (await session.scalars(select(CaseEvent.type).where(
            CaseEvent.case_id == case_id))).all()
    # The transfer goes through the assignment engine: line 2 has nobody, so it queues.
    assert sorted(types) == ["queued", "sla_breached", "transferred"]
    metrics = (await omni.client.get("/metrics")).text
    assert 'omniroute_sla_breaches_total{metric="first_response"} 1.0' in metrics


async def test_a_raised_priority_tightens_what_is_still_running(omni: OmniServer) -> None:
    """A first-response breach raises normal → high: resolution follows the high target
    from the same start, and its timer moves with it."""
    core = omni.core
    policy = await make_policy(omni, targets=[
        {"first_response_seconds": 1, "resolution_seconds": 86400},
        {"priority": "high", "first_response_seconds": 1, "resolution_seconds": 7200}],
        on_breach=[{"action": "raise_priority", "metrics": ["first_response"]}])
    case_id = await open_case(core, "api", policy_id=policy["id"])
    opened = (await case_row(core, case_id)).opened_at
    await omni.wait_for(lambda: breached(omni, case_id), timeout=10)
    case = await case_row(core, case_id)
    assert case.priority == "high"
    assert case.resolution_due_at == opened + timedelta(seconds=7200)
    async with core.reads() as session:
        armed = (await session.execute(select(SlaTimer.metric, SlaTimer.due_at).where(
            SlaTimer.case_id == case_id, SlaTimer.fired_at.is_(None)))).all()
    assert armed == [("resolution", opened + timedelta(seconds=7200))]


async def test_a_reply_before_the_moment_means_no_breach(omni: OmniServer) -> None:
    policy = await make_policy(omni, targets=[{"first_response_seconds": 1}])
    case_id = await open_case(omni.core, "telegram", policy_id=policy["id"])
    async with omni.core.unit() as session:
        case = await session.get(lifecycle.Case, case_id)
        assert case is not None
        await lifecycle.agent_replied(session, case, utcnow())
    await asyncio.sleep(1.8)
    assert (await case_row(omni.core, case_id)).breaches == []
    assert published(omni, "sla.breached") == []


async def test_a_removed_target_stops_its_timers(omni: OmniServer) -> None:
    """Zammad #4353: escalations must not survive the SLA being switched off."""
    policy = await make_policy(omni, targets=[{"first_response_seconds": 2}])
    case_id = await open_case(omni.core, "api", policy_id=policy["id"])
    response = await omni.client.patch(f"/v1/sla-policies/{policy['id']}", json={
        "targets": [{"resolution_seconds": 86400}]})
    assert response.status_code == 200, response.text
    await asyncio.sleep(2.5)
    assert (await case_row(omni.core, case_id)).breaches == []
    async with omni.core.reads() as session:
        outcome = await session.scalar(select(SlaTimer.outcome).where(
            SlaTimer.case_id == case_id, SlaTimer.metric == "first_response"))
    assert outcome == "stale"


async def test_a_moment_passed_while_down_fires_on_start(make_omni: MakeOmni) -> None:
    first = await make_omni(run_workers=False)
    policy = await make_policy(first, targets=[{"first_response_seconds": 1}])
    case_id = await open_case(first.core, "email", policy_id=policy["id"],
                              message_at=utcnow() - timedelta(seconds=30))
    await first.stop()
    second = await make_omni()
    await second.wait_for(lambda: breached(second, case_id), timeout=10)
    assert len(published(second, "sla.breached")) == 1


async def test_two_replicas_fire_each_timer_exactly_once(make_omni: MakeOmni) -> None:
    one = await make_omni()
    two = await make_omni()
    policy = await make_policy(one, warn_before_seconds=1, targets=[
        {"first_response_seconds": 2, "next_response_seconds": 60}])
    cases = [await open_case((one if n % 2 else two).core, "whatsapp", policy_id=policy["id"])
             for n in range(40)]

    async def all_fired() -> bool:
        async with one.core.reads() as session:
            left = await session.scalar(select(func.count()).select_from(SlaTimer).where(
                SlaTimer.fired_at.is_(None)))
        return left == 0

    await one.wait_for(all_fired, timeout=20)
    await asyncio.sleep(0.5)
    breaches = published(one, "sla.breached") + published(two, "sla.breached")
    warnings = published(one, "sla.warning") + published(two, "sla.warning")
    assert sorted(b["case_id"] for b in breaches) == sorted(cases)
    assert sorted(w["case_id"] for w in warnings) == sorted(cases)
    for case_id in cases:
        assert len((await case_row(one.core, case_id)).breaches) == 1


async def test_a_case_being_changed_at_its_moment_is_not_breached_by_mistake(
        omni: OmniServer) -> None:
    """The reply's transaction holds the case while the moment passes: the scheduler waits
    for it instead of deadlocking on the timers that transaction re-arms."""
    policy = await make_policy(omni, targets=[{"first_response_seconds": 1,
                                               "resolution_seconds": 3600}])
    case_id = await open_case(omni.core, "telegram", policy_id=policy["id"])
    async with omni.core.unit() as session:
        case = await session.get(lifecycle.Case, case_id, with_for_update=True)
        assert case is not None
        await asyncio.sleep(1.6)  # the moment passes while this transaction holds the case
        await lifecycle.agent_replied(session, case, utcnow() - timedelta(seconds=1))
    await asyncio.sleep(0.5)
    assert (await case_row(omni.core, case_id)).breaches == []
    async with omni.core.reads() as session:
        outcomes = (await session.scalars(select(SlaTimer.outcome).where(
            SlaTimer.case_id == case_id))).all()
    assert "failed" not in outcomes and "fired" not in outcomes


async def test_pending_holds_the_clock_and_resolve_disarms(omni: OmniServer) -> None:
    policy = await make_policy(omni, targets=[{"first_response_seconds": 1,
                                               "next_response_seconds": 1}])
    case_id = await open_case(omni.core, "whatsapp", policy_id=policy["id"])
    async with omni.core.unit() as session:
        case = await session.get(lifecycle.Case, case_id)
        assert case is not None
        case.status = "pending"
        await lifecycle.case_pending(session, case, utcnow())
    await asyncio.sleep(1.6)
    assert (await case_row(omni.core, case_id)).breaches == []  # paused: nothing fires
    async with omni.core.unit() as session:
        case = await session.get(lifecycle.Case, case_id)
        assert case is not None
        case.status = "open"
        await lifecycle.customer_wrote(session, case, utcnow())  # resumes with 1 s left
        assert case.sla_paused_at is None and case.sla_due_at is not None
    await omni.wait_for(lambda: breached(omni, case_id), timeout=10)
    async with omni.core.unit() as session:
        case = await session.get(lifecycle.Case, case_id)
        assert case is not None
        await lifecycle.agent_replied(session, case, utcnow())
        await lifecycle.customer_wrote(session, case, utcnow())  # next response: 1 s
        case.status = "resolved"
        await lifecycle.case_resolved(session, case, utcnow())
    await asyncio.sleep(1.6)
    case = await case_row(omni.core, case_id)
    assert [b["metric"] for b in case.breaches] == ["first_response"]
    assert case.sla_due_at is None


async def test_the_acknowledgement_names_the_stored_cases_due_time(omni: OmniServer) -> None:
    hours = await omni.client.post("/v1/business-hours", json={
        "name": "Moscow", "timezone": "Europe/Moscow",
        "weekly": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    policy = await make_policy(omni, business_hours_id=hours.json()["id"], targets=[
        {"channel_type": "email", "first_response_seconds": 4 * 3600}])
    friday_5pm = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # 17:00 in Moscow, in the past
    case_id = await open_case(omni.core, "email", policy_id=policy["id"],
                              message_at=friday_5pm)
    async with omni.core.reads() as session:
        case = await session.get(lifecycle.Case, case_id)
        assert case is not None
        text = await lifecycle.acknowledgement_text(
            session, case, "Ответим до {due}. Срок: {response_time}.", "ru")
    assert text == "Ответим до понедельник, 12:00. Срок: 4 часа."


async def test_redis_wakes_the_scheduler_of_another_replica(make_omni: MakeOmni,
                                                            redis_url: str) -> None:
    """An API-only replica arms the timer; the worker replica, sleeping until its next
    re-read a minute away, is woken through Redis and fires on time."""
    stream = f"omniroute:test-sla:{secrets.token_hex(4)}"
    worker = await make_omni(redis_url=redis_url, redis_stream=stream)
    api = await make_omni(redis_url=redis_url, redis_stream=stream, run_workers=False)
    await asyncio.sleep(0.3)  # the worker's scheduler is asleep with nothing armed
    policy = await make_policy(api, targets=[{"first_response_seconds": 1}])
    case_id = await open_case(api.core, "api", policy_id=policy["id"])
    await worker.wait_for(lambda: breached(worker, case_id), timeout=8)
