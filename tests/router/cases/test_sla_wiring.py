"""The SLA clock driven by the real case lifecycle: customers write through a channel, agents
answer and change status through the API, the scheduler fires breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from router.models import Case
from router.models.sla import SlaTimer
from tests.omni import OmniServer
from tests.router.cases.support import Bot, make_agent, make_team, set_status
from tests.router.sla.helpers import make_policy, published, timers_of

HOUR = 3600


def at(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


async def policy(omni: OmniServer, name: str, **extra: Any) -> int:
    made = await make_policy(omni, name=name, targets=[
        {"first_response_seconds": HOUR, "next_response_seconds": 2 * HOUR,
         "resolution_seconds": 24 * HOUR}], **extra)
    return int(made["id"])


async def test_the_policy_comes_from_rule_team_bucket_or_default(omni: OmniServer) -> None:
    by_rule = await policy(omni, "rule")
    by_team = await policy(omni, "team")
    by_bucket = await policy(omni, "bucket")
    fallback = await policy(omni, "fallback", default=True)
    rule = await omni.client.post("/v1/rules", json={
        "name": "refunds", "when": {"all": [
            {"field": "message.text", "op": "contains", "value": "refund"}]},
        "then": [{"action": "set_sla_policy", "value": by_rule}]})
    assert rule.status_code == 201, rule.text
    with_policy = await make_team(omni, "billing", [], sla_policy_id=by_team)
    plain = await make_team(omni, "plain", [])
    experiment = await omni.client.post("/v1/experiments", json={
        "name": "faster", "filter": {"team_id": plain},
        "buckets": [{"name": "a", "weight": 1, "sla_policy_id": by_bucket},
                    {"name": "b", "weight": 1, "sla_policy_id": by_bucket}]})
    assert experiment.status_code == 201, experiment.text
    started = await omni.client.post(f"/v1/experiments/{experiment.json()['id']}/start")
    assert started.status_code == 200, started.text
    billing = await Bot.start(omni, default_team=with_policy, name="billing")
    other = await Bot.start(omni, default_team=plain, name="other")
    loose = await Bot.start(omni, name="loose")
    # One batch: the four new cases open together (the timers go in with one insert).
    await billing.says("ann", "a refund please", settle=False)
    await billing.says("ben", "where is my order", settle=False)
    await other.says("cat", "hello", settle=False)
    await loose.says("dan", "hello", settle=False)
    await omni.settle()
    chosen = {user: (await bot.thread_of(user))["case"] for bot, user in (
        (billing, "ann"), (billing, "ben"), (other, "cat"), (loose, "dan"))}
    assert {user: case["sla"]["policy_id"] for user, case in chosen.items()} == {
        "ann": by_rule, "ben": by_team, "cat": by_bucket, "dan": fallback}
    assert chosen["cat"]["experiment"]["id"] == experiment.json()["id"]
    assert chosen["ann"]["experiment"] is None
    for case in chosen.values():
        assert at(case["sla"]["first_response_due_at"]) == at(case["opened_at"]) + timedelta(
            seconds=HOUR)
        assert await timers_of(omni, case["id"]) == [("first_response", "breach"),
                                                     ("resolution", "breach")]


async def test_reply_pending_resolve_and_reopen_move_the_clock(omni: OmniServer) -> None:
    await policy(omni, "default", default=True)
    bot = await Bot.start(omni)
    sent = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
    await bot.says("ada", "my order is late", sent_at=sent.isoformat())
    thread = await bot.thread_of("ada")
    sla = thread["case"]["sla"]
    # The clock starts at the provider's time of the message, not when we processed it.
    assert at(sla["first_response_due_at"]) == sent + timedelta(hours=1)
    assert at(sla["resolution_due_at"]) == sent + timedelta(hours=24)
    case_id = thread["case"]["id"]

    reply = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                   json={"text": "looking into it"})
    assert reply.status_code == 201, reply.text
    await omni.settle()
    case = (await bot.thread_of("ada"))["case"]
    assert case["first_response_at"] is not None
    assert await timers_of(omni, case_id) == [("resolution", "breach")]

    await bot.says("ada", "any news?")
    case = (await bot.thread_of("ada"))["case"]
    assert case["sla"]["next_response_due_at"] is not None
    assert await timers_of(omni, case_id) == [("next_response", "breach"),
                                              ("resolution", "breach")]

    await set_status(omni, thread["id"], "pending")
    case = (await bot.thread_of("ada"))["case"]
    assert case["sla"]["paused"] is True and await timers_of(omni, case_id) == []
    await set_status(omni, thread["id"], "open")
    case = (await bot.thread_of("ada"))["case"]
    assert case["sla"]["paused"] is False
    assert [m for m, _ in await timers_of(omni, case_id)] == ["next_response", "resolution"]

    await set_status(omni, thread["id"], "resolved")
    case = (await bot.thread_of("ada"))["case"]
    assert case["sla"]["next_response_due_at"] is None
    assert await timers_of(omni, case_id) == []
    async with omni.core.reads() as session:
        row = await session.get(Case, case_id)
        assert row is not None and row.sla_due_at is None

    # Within the reopen window: the same case, next response and a new resolution count
    # from the provider's time of the customer's message.
    again = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    await bot.says("ada", "it broke again", sent_at=again.isoformat())
    case = (await bot.thread_of("ada"))["case"]
    assert case["id"] == case_id and case["reopen_count"] == 1
    assert at(case["sla"]["next_response_due_at"]) == again + timedelta(hours=2)
    assert at(case["sla"]["resolution_due_at"]) == again + timedelta(hours=24)
    assert await timers_of(omni, case_id) == [("next_response", "breach"),
                                              ("resolution", "breach")]


async def test_a_priority_change_moves_the_running_due_times(omni: OmniServer) -> None:
    await make_policy(omni, name="tiers", default=True, targets=[
        {"first_response_seconds": 4 * HOUR},
        {"priority": "urgent", "first_response_seconds": HOUR // 2}])
    bot = await Bot.start(omni)
    await bot.says("ada", "help")
    thread = await bot.thread_of("ada")
    opened = at(thread["case"]["opened_at"])
    assert at(thread["case"]["sla"]["first_response_due_at"]) == opened + timedelta(hours=4)
    patched = await omni.client.patch(f"/v1/threads/{thread['id']}",
                                      json={"priority": "urgent"})
    assert patched.status_code == 200, patched.text
    case = (await bot.thread_of("ada"))["case"]
    assert at(case["sla"]["first_response_due_at"]) == opened + timedelta(minutes=30)


async def test_a_breach_fires_once_transfers_and_shows_everywhere(omni: OmniServer) -> None:
    helper = await make_agent(omni, "Lena")
    line2 = await make_team(omni, "line 2", [helper])
    await make_policy(omni, name="fast", default=True, targets=[
        {"first_response_seconds": 1, "resolution_seconds": 24 * HOUR}],
        on_breach=[{"action": "transfer_team", "value": line2,
                    "metrics": ["first_response"]}])
    line1 = await make_team(omni, "line 1", [])
    bot = await Bot.start(omni, default_team=line1)
    await bot.says("ada", "urgent!")
    thread_id = (await bot.thread_of("ada"))["id"]

    async def breached() -> bool:
        case = (await bot.thread_of("ada"))["case"]
        return bool(case["sla"]["breaches"])

    await omni.wait_for(breached, timeout=15)
    thread = await bot.thread_of("ada")
    case = thread["case"]
    assert [b["metric"] for b in case["sla"]["breaches"]] == ["first_response"]
    # The transfer went through the assignment engine: line 2's free agent has it now.
    assert (case["team_id"], case["assignee_id"]) == (line2, helper)
    listed = (await omni.client.get("/v1/threads", params={"breached": "true"})).json()
    assert [t["id"] for t in listed["items"]] == [thread_id]
    events = published(omni, "sla.breached")
    assert [(e["case_id"], e["metric"]) for e in events] == [(case["id"], "first_response")]
    metrics = (await omni.client.get("/metrics")).text
    assert 'omniroute_sla_breaches_total{metric="first_response"} 1.0' in metrics
    async with omni.core.reads() as session:
        left = await session.scalar(select(func.count()).select_from(SlaTimer).where(
            SlaTimer.case_id == case["id"], SlaTimer.metric == "first_response",
            SlaTimer.fired_at.is_(None)))
    assert left == 0


async def test_business_hours_come_from_the_channels_default_team(omni: OmniServer) -> None:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    always = await omni.client.post("/v1/business-hours", json={
        "name": "always", "timezone": "UTC", "weekly": {d: [["00:00", "24:00"]] for d in days}})
    today = datetime.now(UTC).date()
    # Open every day but these (around today, so a run at midnight still sees a holiday).
    off = [str(today + timedelta(days=n)) for n in (-1, 0, 1)]
    never = await omni.client.post("/v1/business-hours", json={
        "name": "never", "timezone": "UTC", "weekly": {d: [["00:00", "24:00"]] for d in days},
        "holidays": off})
    assert always.status_code == never.status_code == 201, always.text
    open_team = await make_team(omni, "day", [], business_hours_id=always.json()["id"])
    closed_team = await make_team(omni, "night", [], business_hours_id=never.json()["id"])
    after_hours = await make_team(omni, "after hours", [])
    rule = await omni.client.post("/v1/rules", json={
        "name": "closed", "when": {"all": [
            {"field": "time.business_hours", "op": "eq", "value": False}]},
        "then": [{"action": "set_team", "value": after_hours}]})
    assert rule.status_code == 201, rule.text
    day = await Bot.start(omni, default_team=open_team, name="day")
    night = await Bot.start(omni, default_team=closed_team, name="night")
    nobody = await Bot.start(omni, name="nobody")
    await day.says("ann", "hi", settle=False)
    await night.says("ben", "hi", settle=False)
    await nobody.says("cat", "hi", settle=False)
    await omni.settle()
    assert (await day.thread_of("ann"))["case"]["team_id"] == open_team
    assert (await night.thread_of("ben"))["case"]["team_id"] == after_hours
    # No calendar anywhere: unknown, and a rule on business hours matches neither way.
    assert (await nobody.thread_of("cat"))["case"]["team_id"] is None
