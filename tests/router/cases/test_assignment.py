"""Strategies, stickiness, capacity and queues: who gets a new case, and when."""

from __future__ import annotations

from typing import Any

import pytest

from router.assignment.service import on_agent_available, on_agent_unavailable, on_team_changed
from router.models import Agent, Team, TeamMember
from tests.omni import OmniServer
from tests.router.cases.support import (
    Bot,
    agent_key,
    cases,
    held,
    history,
    make_agent,
    make_team,
    set_status,
)


async def _agents(omni: OmniServer, specs: list[dict[str, Any]]) -> list[int]:
    return [await make_agent(omni, f"a{i}", **spec) for i, spec in enumerate(specs)]


@pytest.mark.parametrize(("strategy", "specs", "customers", "expected"), [
    # round robin: each in turn, wrapping; an agent offline or away is passed over.
    ("round_robin", [{}, {}, {}], 4, [0, 1, 2, 0]),
    ("round_robin", [{}, {"presence": "away"}, {"presence": "offline"}], 2, [0, 0]),
    # least loaded: open cases ÷ capacity (0/4 0/2, 1/4 0/2, 1/4 1/2, 2/4 1/2 → a tie, to
    # the longest idle: a1 was last given a case before a0 was).
    ("least_loaded", [{"capacity": {"default": 4}}, {"capacity": {"default": 2}}], 4,
     [0, 1, 0, 1]),
    ("least_loaded", [{"capacity": {"default": 4}}, {"capacity": {"default": 1}}], 4,
     [0, 1, 0, 0]),
    # capacity per channel type: an "api" limit of one, whatever the default says.
    ("round_robin", [{"capacity": {"default": 5, "api": 1}}, {}], 4, [0, 1, 1, None]),
    # manual: nobody is pushed a case; they wait for someone to pull.
    ("manual", [{}, {}], 2, [None, None]),
])
async def test_strategies(omni: OmniServer, strategy: str, specs: list[dict[str, Any]],
                          customers: int, expected: list[int | None]) -> None:
    agents = await _agents(omni, specs)
    team = await make_team(omni, "line 1", agents, strategy=strategy)
    bot = await Bot.start(omni, default_team=team)
    for n in range(customers):
        await bot.says(f"c{n}")
    rows = await cases(omni)
    assert [agents.index(r.assignee_id) if r.assignee_id else None for r in rows] == expected
    assert all(r.team_id == team for r in rows)
    for row, who in zip(rows, expected, strict=True):
        assert (row.queued_at is None) == (who is not None)
        assert await history(omni, row.id) == ["opened", "assigned" if who is not None
                                               else "queued"]
    thread = await bot.thread_of("c0")
    assert (thread["team_id"], thread["assignee_id"]) == (team, rows[0].assignee_id)


async def test_no_rule_and_no_default_team_leaves_a_case_unrouted(omni: OmniServer) -> None:
    await make_team(omni, "line 1", [await make_agent(omni, "a")])
    bot = await Bot.start(omni)
    await bot.says("ada")
    [row] = await cases(omni)
    assert (row.team_id, row.assignee_id, row.queued_at) == (None, None, None)
    assert (await bot.thread_of("ada"))["queue_position"] is None


async def test_queue_order_positions_and_drain_on_resolve(omni: OmniServer) -> None:
    agent = await make_agent(omni, "solo", capacity={"default": 1})
    team = await make_team(omni, "line 1", [agent])
    bot = await Bot.start(omni, default_team=team)
    for user in ("first", "second", "third"):
        await bot.says(user)
    second = await bot.thread_of("second")
    third = await bot.thread_of("third")
    assert (second["queue_position"], third["queue_position"]) == (1, 2)
    # A higher priority jumps the queue.
    patched = await omni.client.patch(f"/v1/threads/{third['id']}", json={"priority": "urgent"})
    assert patched.status_code == 200
    assert patched.json()["queue_position"] == 1
    first = await bot.thread_of("first")
    assert first["assignee_id"] == agent and first["queue_position"] is None
    await set_status(omni, first["id"], "resolved")
    # The moment the agent's capacity frees, the head of the queue is theirs.
    assert (await bot.thread_of("third"))["assignee_id"] == agent
    assert (await bot.thread_of("second"))["queue_position"] == 1
    assert await held(omni) == {agent: 1}
    # Pending still holds the agent: nothing more is assigned.
    await set_status(omni, third["id"], "pending")
    assert (await bot.thread_of("second"))["assignee_id"] is None


async def test_capacity_is_never_exceeded_by_many_at_once(omni: OmniServer) -> None:
    agents = await _agents(omni, [{"capacity": {"default": 3}}, {"capacity": {"default": 2}}])
    team = await make_team(omni, "line 1", agents, strategy="least_loaded")
    bot = await Bot.start(omni, default_team=team)
    for n in range(12):
        await bot.says(f"c{n}", settle=False)
    await omni.settle()
    assert await held(omni) == {agents[0]: 3, agents[1]: 2}
    assert sum(1 for r in await cases(omni) if r.queued_at is not None) == 7


@pytest.mark.parametrize(("previous", "expected"), [
    ({}, "previous"),                                  # online with room: back to them
    ({"presence": "offline"}, "other"),                # offline: never (Chatwoot #4158)
    ({"presence": "away"}, "other"),
    ({"capacity": {"default": 0}}, "other"),           # no room: the strategy decides
])
async def test_sticky_only_to_an_available_agent(
        make_omni: Any, previous: dict[str, Any], expected: str) -> None:
    omni: OmniServer = await make_omni(reopen_window_seconds=0)
    first = await make_agent(omni, "first")
    second = await make_agent(omni, "second")
    team = await make_team(omni, "line 1", [first, second], sticky=True, last_agent_id=first)
    bot = await Bot.start(omni, default_team=team)
    await bot.says("ada")
    thread = await bot.thread_of("ada")
    assert thread["assignee_id"] == second  # round robin after `first`
    await set_status(omni, thread["id"], "resolved")
    async with omni.core.unit() as session:
        agent = await session.get(Agent, second)
        assert agent is not None
        agent.presence = previous.get("presence", "online")
        agent.capacity = previous.get("capacity", agent.capacity)
        team_row = await session.get(Team, team)
        assert team_row is not None
        team_row.last_agent_id = first  # round robin alone would pick `second` again
    await bot.says("ada", "me again")
    rows = await cases(omni)
    assert len(rows) == 2
    assert rows[1].assignee_id == (second if expected == "previous" else first)


async def test_backlog_drains_when_an_agent_comes_online(omni: OmniServer) -> None:
    agent = await make_agent(omni, "late", presence="offline", capacity={"default": 2})
    team = await make_team(omni, "line 1", [agent])
    bot = await Bot.start(omni, default_team=team)
    for user in ("a", "b", "c"):
        await bot.says(user)
    assert await held(omni) == {}
    async with omni.core.unit() as session:
        row = await session.get(Agent, agent)
        assert row is not None
        row.presence = "online"
        await session.flush()
        await on_agent_available(omni.core, session, agent)
    assert await held(omni) == {agent: 2}
    async with omni.core.unit() as session:
        row = await session.get(Agent, agent)
        assert row is not None
        row.capacity = {"default": 3}
        await session.flush()
        await on_agent_available(omni.core, session, agent)
    assert await held(omni) == {agent: 3}


async def test_team_membership_places_what_waits(omni: OmniServer) -> None:
    team = await make_team(omni, "line 1", [])
    bot = await Bot.start(omni, default_team=team)
    await bot.says("ada")
    joiner = await make_agent(omni, "joiner")
    async with omni.core.unit() as session:
        session.add(TeamMember(team_id=team, agent_id=joiner))
        await session.flush()
        await on_team_changed(omni.core, session, team)
    assert await held(omni) == {joiner: 1}


@pytest.mark.parametrize("release", [True, False])
async def test_going_offline_keeps_or_releases_cases(omni: OmniServer, release: bool) -> None:
    leaving = await make_agent(omni, "leaving")
    staying = await make_agent(omni, "staying", presence="away")
    team = await make_team(omni, "line 1", [leaving, staying], release_on_offline=release)
    bot = await Bot.start(omni, default_team=team)
    await bot.says("ada")
    assert await held(omni) == {leaving: 1}
    async with omni.core.unit() as session:
        for agent_id, presence in ((leaving, "offline"), (staying, "online")):
            row = await session.get(Agent, agent_id)
            assert row is not None
            row.presence = presence
        await session.flush()
        await on_agent_unavailable(omni.core, session, leaving)
    assert await held(omni) == ({staying: 1} if release else {leaving: 1})


async def test_manual_teams_pull_the_head_of_the_queue(omni: OmniServer) -> None:
    puller = await make_agent(omni, "puller", capacity={"default": 1})
    team = await make_team(omni, "line 1", [puller], strategy="manual")
    bot = await Bot.start(omni, default_team=team)
    await bot.says("first")
    await bot.says("second")
    key = await agent_key(omni, puller)
    headers = {"Authorization": f"Bearer {key}"}
    pulled = await omni.client.post("/v1/agents/me/next", headers=headers)
    assert pulled.status_code == 200, pulled.text
    assert pulled.json()["id"] == (await bot.thread_of("first"))["id"]
    assert pulled.json()["assignee_id"] == puller
    full = await omni.client.post("/v1/agents/me/next", headers=headers)
    assert full.status_code == 204  # at capacity: nothing fits
    admin = await omni.client.post("/v1/agents/me/next")
    assert admin.status_code == 403
    assert admin.headers["content-type"] == "application/problem+json"


async def test_thread_list_filters_by_team_and_assignee(omni: OmniServer) -> None:
    agent = await make_agent(omni, "solo", capacity={"default": 1})
    team = await make_team(omni, "line 1", [agent])
    other = await make_team(omni, "line 2", [])
    bot = await Bot.start(omni, default_team=team)
    await bot.says("first")
    await bot.says("second")
    first, second = await bot.thread_of("first"), await bot.thread_of("second")

    async def ids(headers: dict[str, str] | None = None, **params: object) -> list[int]:
        answer = await omni.client.get("/v1/threads", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return sorted(t["id"] for t in answer.json()["items"])

    assert await ids(team_id=team) == sorted([first["id"], second["id"]])
    assert await ids(team_id=other) == []
    assert await ids(assignee_id="none") == [second["id"]]
    assert await ids(assignee_id=agent) == [first["id"]]
    key = await agent_key(omni, agent)
    assert await ids({"Authorization": f"Bearer {key}"}, assignee_id="me") == [first["id"]]
    for bad in ("me", "someone"):
        answer = await omni.client.get("/v1/threads", params={"assignee_id": bad})
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
