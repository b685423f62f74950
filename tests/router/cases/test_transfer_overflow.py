"""Transfers between agents and teams keep the case's history and clock; overflow moves
cases that waited too long to the overflow team, without a sweep."""

from __future__ import annotations

import pytest

from tests.omni import OmniServer
from tests.router.cases.support import Bot, cases, held, history, make_agent, make_team


async def test_escalation_to_line_two_keeps_history_and_clock(omni: OmniServer) -> None:
    first = await make_agent(omni, "first", capacity={"default": 1})
    expert = await make_agent(omni, "expert")
    line1 = await make_team(omni, "line 1", [first])
    line2 = await make_team(omni, "line 2", [expert], line=2)
    bot = await Bot.start(omni, default_team=line1)
    await bot.says("ada", "it crashes")
    await bot.says("bob", "me too")  # waits: `first` is full
    thread = await bot.thread_of("ada")
    before = thread["case"]
    events = await omni.core.bus.attach(None)
    moved = await omni.client.post(f"/v1/threads/{thread['id']}/transfer",
                                   json={"team_id": line2, "reason": "needs a specialist"})
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["team_id"], body["assignee_id"]) == (line2, expert)
    assert body["case"]["id"] == before["id"] and body["case"]["opened_at"] == before["opened_at"]
    assert await history(omni, before["id"]) == ["opened", "assigned", "transferred",
                                                 "assigned"]
    notes = [m for m in (await omni.client.get(
        f"/v1/threads/{thread['id']}/messages")).json()["items"] if m["direction"] == "note"]
    assert "line 2" in notes[-1]["text"] and "needs a specialist" in notes[-1]["text"]
    # `first` had room again at once: bob's case is theirs.
    assert (await bot.thread_of("bob"))["assignee_id"] == first
    seen = [(e.type, e.data) for e in events.take() or [] if e.type.startswith("case.")]
    assert [t for t, _ in seen] == ["case.transferred", "case.assigned", "case.assigned"]
    transferred = seen[0][1]
    assert (transferred["case_id"], transferred["thread_id"], transferred["team_id"],
            transferred["from_team_id"], transferred["reason"]) == (
        before["id"], thread["id"], line2, line1, "needs a specialist")
    events.close()


@pytest.mark.parametrize(("target", "status", "problem"), [
    ({"agent_id": "full"}, 409, "at capacity"),
    ({"agent_id": "away"}, 409, "away"),
    ({"team_id": 999_999}, 422, "does not exist"),
    ({}, 422, "team_id, agent_id"),
])
async def test_a_transfer_that_cannot_happen_changes_nothing(
        omni: OmniServer, target: dict[str, object], status: int, problem: str) -> None:
    holder = await make_agent(omni, "holder")
    full = await make_agent(omni, "full", capacity={"default": 0})
    away = await make_agent(omni, "away", presence="away")
    team = await make_team(omni, "line 1", [holder, full, away])
    bot = await Bot.start(omni, default_team=team)
    await bot.says("ada")
    thread = await bot.thread_of("ada")
    ids = {"full": full, "away": away}
    body = {k: ids.get(str(v), v) for k, v in target.items()}
    answer = await omni.client.post(f"/v1/threads/{thread['id']}/transfer",
                                    json={**body, "reason": "try"})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert problem in answer.json()["detail"]
    assert await held(omni) == {holder: 1}
    assert await history(omni, thread["case"]["id"]) == ["opened", "assigned"]


async def test_transfer_to_an_agent_directly(omni: OmniServer) -> None:
    one = await make_agent(omni, "one")
    two = await make_agent(omni, "two")
    team = await make_team(omni, "line 1", [one, two])
    bot = await Bot.start(omni, default_team=team)
    await bot.says("ada")
    thread = await bot.thread_of("ada")
    answer = await omni.client.post(f"/v1/threads/{thread['id']}/transfer",
                                    json={"agent_id": two, "reason": "speaks Russian"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["assignee_id"] == two and answer.json()["team_id"] == team
    assert await held(omni) == {two: 1}


async def test_overflow_moves_what_waited_too_long(omni: OmniServer) -> None:
    spare = await make_agent(omni, "spare")
    overflow = await make_team(omni, "overflow", [spare])
    busy = await make_agent(omni, "busy", capacity={"default": 0})
    team = await make_team(omni, "line 1", [busy], overflow_team_id=overflow,
                           overflow_after_seconds=1)
    bot = await Bot.start(omni, default_team=team)
    await bot.says("ada")
    [row] = await cases(omni)
    assert (row.team_id, row.assignee_id) == (team, None)

    async def moved() -> bool:
        [now] = await cases(omni)
        return now.assignee_id == spare

    await omni.wait_for(moved, timeout=15)
    [row] = await cases(omni)
    assert row.team_id == overflow and row.queued_at is None
    assert await history(omni, row.id) == ["opened", "queued", "overflowed", "assigned"]


async def test_overflow_waits_for_its_moment(omni: OmniServer) -> None:
    overflow = await make_team(omni, "overflow", [await make_agent(omni, "spare")])
    team = await make_team(omni, "line 1", [], overflow_team_id=overflow,
                           overflow_after_seconds=3600)
    bot = await Bot.start(omni, default_team=team)
    await bot.says("ada")
    async with omni.core.unit() as session:
        from router.assignment.overflow import overflow_due
        from router.models.base import utcnow

        upcoming = await overflow_due(omni.core, session, utcnow())
    [row] = await cases(omni)
    assert row.team_id == team and row.queued_at is not None
    assert upcoming is not None and abs(
        (upcoming - row.queued_at).total_seconds() - 3600) < 1


async def test_a_reopened_case_without_a_team_stays_with_its_agent(omni: OmniServer) -> None:
    agent = await make_agent(omni, "picked")
    bot = await Bot.start(omni)
    await bot.says("ada")
    thread = await bot.thread_of("ada")
    moved = await omni.client.post(f"/v1/threads/{thread['id']}/transfer",
                                   json={"agent_id": agent, "reason": "mine"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["team_id"], moved.json()["assignee_id"]) == (None, agent)
    resolved = await omni.client.patch(f"/v1/threads/{thread['id']}",
                                       json={"status": "resolved"})
    assert resolved.status_code == 200
    await bot.says("ada", "one more question")
    again = await bot.thread_of("ada")
    assert (again["status"], again["assignee_id"], again["case"]["reopen_count"]) == (
        "open", agent, 1)
