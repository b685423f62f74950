"""What the rules decide is applied to new and reopened cases (the rules engine itself is
another branch's; a fake CompiledRules stands in for it here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import router.cases.book
from router.rules.engine import RuleAction, RuleContext, RuleMatch
from tests.conftest import MakeOmni
from tests.omni import OmniServer
from tests.router.cases.support import Bot, cases, make_agent, make_team, set_status
from tests.router.sla.helpers import make_policy


@dataclass
class FakeRules:
    """Matches when the message text contains `keyword`; remembers what it was asked."""

    keyword: str
    actions: tuple[RuleAction, ...]
    seen: list[RuleContext] = field(default_factory=list)
    # As a rule set with a time.business_hours condition: the context carries the hours.
    reads_business_hours: bool = True

    def evaluate(self, ctx: RuleContext) -> RuleMatch:
        self.seen.append(ctx)
        if self.keyword in ctx.message_text:
            return RuleMatch(rule_id=7, actions=self.actions)
        return RuleMatch(rule_id=None, actions=())


def _install(monkeypatch: pytest.MonkeyPatch, rules: FakeRules) -> list[int]:
    loads: list[int] = []

    async def load_rules(session: AsyncSession) -> Any:
        loads.append(1)
        return rules

    monkeypatch.setattr(router.cases.book, "load_rules", load_rules)
    return loads


async def test_actions_are_applied_and_no_match_takes_the_default_team(
        omni: OmniServer, monkeypatch: pytest.MonkeyPatch) -> None:
    specialist = await make_agent(omni, "specialist")
    generalist = await make_agent(omni, "generalist")
    line1 = await make_team(omni, "line 1", [generalist])
    line2 = await make_team(omni, "line 2", [specialist], line=2)
    # A real policy: the case lifecycle starts its clock (a missing one means no SLA).
    policy = (await make_policy(omni, targets=[{"first_response_seconds": 60}]))["id"]
    rules = FakeRules("refund", (
        RuleAction("set_team", line2), RuleAction("set_priority", "high"),
        RuleAction("add_tags", ["billing", "refund"]), RuleAction("set_sla_policy", policy)))
    _install(monkeypatch, rules)
    bot = await Bot.start(omni, default_team=line1)
    await bot.says("ada", "I want a refund", settle=False)
    await bot.says("bob", "hello there", settle=False)
    await omni.settle()
    ada = await bot.thread_of("ada")
    assert (ada["team_id"], ada["assignee_id"], ada["priority"]) == (line2, specialist, "high")
    assert ada["case"]["tags"] == ["billing", "refund"] and ada["tags"] == ["billing", "refund"]
    assert ada["case"]["sla"]["policy_id"] == policy
    assert ada["case"]["sla"]["first_response_due_at"] is not None
    bob = await bot.thread_of("bob")
    assert (bob["team_id"], bob["assignee_id"], bob["priority"]) == (line1, generalist, "normal")
    ctx = next(c for c in rules.seen if c.message_text == "I want a refund")
    assert (ctx.channel_type, ctx.channel_id, ctx.thread_priority) == ("api", bot.channel_id,
                                                                      "normal")
    assert ctx.customer_tags == () and ctx.business_hours is None


async def test_rules_load_once_per_batch_and_run_again_on_reopen(
        make_omni: MakeOmni, monkeypatch: pytest.MonkeyPatch) -> None:
    omni = await make_omni(run_workers=False, ingest_batch_seconds=60.0)
    rules = FakeRules("urgent", (RuleAction("set_priority", "urgent"),))
    loads = _install(monkeypatch, rules)
    bot = await Bot.start(omni)
    for n in range(5):
        await bot.says(f"c{n}", "hi", settle=False)
    from router.ingest.worker import process_batch

    assert await process_batch(omni.core) == 5
    assert (len(loads), len(rules.seen)) == (1, 5)
    thread = await bot.thread_of("c0")
    await set_status(omni, thread["id"], "resolved")
    await bot.says("c0", "this is urgent now", settle=False)
    assert await process_batch(omni.core) == 1
    [first, *_] = await cases(omni)
    assert (first.status, first.priority, first.priority_rank, first.rule_id) == (
        "open", "urgent", 0, 7)


@pytest.mark.parametrize(("agent", "expected"), [("online", "agent"), ("offline", "team")])
async def test_assign_agent_only_when_they_can_take_it(
        omni: OmniServer, monkeypatch: pytest.MonkeyPatch, agent: str, expected: str) -> None:
    named = await make_agent(omni, "named", presence=agent)
    member = await make_agent(omni, "member")
    team = await make_team(omni, "line 1", [member])
    _install(monkeypatch, FakeRules("vip", (RuleAction("assign_agent", named),)))
    bot = await Bot.start(omni, default_team=team)
    await bot.says("ada", "vip here")
    [row] = await cases(omni)
    assert row.assignee_id == (named if expected == "agent" else member)


@pytest.mark.parametrize(("config", "field_problem"), [
    ({"default_team_id": "one"}, "not a team id"),
    ({"default_team_id": 424242}, "unknown team"),
])
async def test_a_default_team_must_exist(omni: OmniServer, config: dict[str, Any],
                                         field_problem: str) -> None:
    answer = await omni.client.post("/v1/channels",
                                    json={"type": "api", "name": "bot", "config": config})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [{"field": "config.default_team_id",
                                        "message": field_problem}]
    assert (await omni.client.get("/v1/channels")).json()["items"] == []
    team = await make_team(omni, "line 1", [])
    bot = await Bot.start(omni, default_team=team)
    shown = (await omni.client.get(f"/v1/channels/{bot.channel_id}")).json()
    assert shown["config"]["default_team_id"] == team
    cleared = await omni.client.patch(f"/v1/channels/{bot.channel_id}",
                                      json={"config": {"default_team_id": None}})
    assert cleared.status_code == 200 and "default_team_id" not in cleared.json()["config"]
