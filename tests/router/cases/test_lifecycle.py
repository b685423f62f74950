"""A case from the customer's first unanswered message to resolved; reopen within the window,
a new case after it; agent replies (not notes, not automatic messages) time it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import MakeOmni
from tests.omni import OmniServer
from tests.router.cases.support import Bot, cases, history, set_status


async def test_a_case_opens_at_the_providers_time_never_after_receipt(omni: OmniServer) -> None:
    bot = await Bot.start(omni)
    await bot.says("ada", "my order is late", sent_at="2026-11-01T09:00:00Z")
    future = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    await bot.says("bob", "clock ahead", sent_at=future)
    ada = await bot.thread_of("ada")
    assert ada["case"]["opened_at"] == "2026-11-01T09:00:00Z"
    assert ada["case_id"] == ada["case"]["id"]
    assert (ada["case"]["status"], ada["status"], ada["case"]["messages_in"]) == (
        "open", "open", 1)
    bob = await bot.thread_of("bob")
    assert datetime.fromisoformat(bob["case"]["opened_at"]) <= datetime.now(UTC)
    listed = (await omni.client.get(f"/v1/threads/{ada['id']}/cases")).json()
    assert [c["id"] for c in listed["items"]] == [ada["case"]["id"]]
    assert listed["next_cursor"] is None
    shape = listed["items"][0]
    for key in ("id", "thread_id", "opened_at", "first_response_at", "resolved_at",
                "reopened_at", "team_id", "assignee_id", "priority", "tags", "sla",
                "experiment", "csat"):
        assert key in shape
    assert shape["sla"] == {"policy_id": None, "first_response_due_at": None,
                            "next_response_due_at": None, "resolution_due_at": None,
                            "paused": False, "breaches": []}


async def test_only_an_agent_reply_counts_as_a_response(omni: OmniServer) -> None:
    bot = await Bot.start(omni)
    await bot.says("ada", "hi")
    await bot.says("ada", "still there?")
    thread = await bot.thread_of("ada")
    note = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                  json={"text": "internal", "internal": True})
    assert note.status_code == 201
    case = (await bot.thread_of("ada"))["case"]
    assert (case["first_response_at"], case["agent_replies"], case["messages_in"]) == (
        None, 0, 2)
    for _ in range(2):
        reply = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                       json={"text": "on it"})
        assert reply.status_code == 201
    case = (await bot.thread_of("ada"))["case"]
    assert case["first_response_at"] is not None and case["agent_replies"] == 2
    assert case["last_response_at"] >= case["first_response_at"]


@pytest.mark.parametrize(("window", "steps", "expected"), [
    # (reopen window seconds, what happens after the first message, (cases, last status,
    #  reopen count of the last case, history of the first case))
    (3600, ["pending", "customer"], (1, "open", 0, ["opened", "pending"])),
    (3600, ["resolved"], (1, "resolved", 0, ["opened", "resolved"])),
    (3600, ["resolved", "customer"], (1, "open", 1, ["opened", "resolved", "reopened"])),
    (3600, ["resolved", "open"], (1, "open", 1, ["opened", "resolved", "reopened"])),
    (0, ["resolved", "customer"], (2, "open", 0, ["opened", "resolved"])),
])
async def test_lifecycle(make_omni: MakeOmni, window: int, steps: list[str],
                         expected: tuple[int, str, int, list[str]]) -> None:
    omni = await make_omni(reopen_window_seconds=window)
    bot = await Bot.start(omni)
    await bot.says("ada", "first")
    thread = await bot.thread_of("ada")
    for step in steps:
        if step == "customer":
            await bot.says("ada", "me again")
        else:
            await set_status(omni, thread["id"], step)
    rows = await cases(omni)
    thread = await bot.thread_of("ada")
    count, status, reopens, first_history = expected
    assert len(rows) == count
    assert (thread["status"], thread["case"]["status"]) == (status, status)
    assert thread["case"]["id"] == rows[-1].id
    assert rows[-1].reopen_count == reopens
    assert await history(omni, rows[0].id) == first_history
    if status == "resolved":
        assert rows[-1].resolved_by == "agent" and rows[-1].resolved_at is not None
    if reopens:
        assert thread["case"]["reopened_at"] is not None
        assert thread["case"]["resolved_at"] is None
    if count == 2:
        assert rows[0].status == "resolved" and rows[1].messages_in == 1


async def test_live_events_of_a_case_carry_what_the_stream_scopes_by(omni: OmniServer) -> None:
    bot = await Bot.start(omni)
    events = await omni.core.bus.attach(None)
    await bot.says("ada")
    thread = await bot.thread_of("ada")
    await set_status(omni, thread["id"], "resolved")
    await bot.says("ada", "one more thing")
    seen = [(e.type, e.data) for e in events.take() or [] if e.type.startswith("case.")]
    events.close()
    assert [t for t, _ in seen] == ["case.opened", "case.resolved", "case.reopened"]
    for _, data in seen:
        assert data["thread_id"] == thread["id"]
        assert data["case_id"] == thread["case"]["id"]
        assert "team_id" in data and "assignee_id" in data
