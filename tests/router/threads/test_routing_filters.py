"""Thread list filters by team, assignee, SLA breach, and ordered by SLA due time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from router.core import queue_event
from router.models import Case, Thread
from router.models.base import utcnow
from tests.omni import OmniServer
from tests.people import (
    api_channel,
    client_for,
    customer_thread,
    make_agent,
    make_key,
    make_team,
    route,
)


async def _threads(omni: OmniServer, count: int) -> list[dict[str, Any]]:
    channel = await api_channel(omni)
    return [await customer_thread(omni, channel, f"user{i}") for i in range(count)]


async def _case(omni: OmniServer, thread: dict[str, Any], **columns: Any) -> int:
    async with omni.core.unit() as session:
        case_id = (await session.execute(insert(Case).returning(Case.id), [{
            "thread_id": thread["id"], "customer_id": thread["customer_id"],
            "tags": [], "breaches": [], **columns}])).scalar_one()
    await route(omni, thread["id"], columns.get("team_id"), columns.get("assignee_id"),
                case_id=case_id)
    return int(case_id)


async def _ids(omni: OmniServer, **params: Any) -> list[int]:
    response = await omni.client.get("/v1/threads", params=params)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["items"]]


async def test_team_and_assignee_filters(omni: OmniServer) -> None:
    team = await make_team(omni, "A")
    ada = await make_agent(omni, "Ada", team_ids=[team["id"]])
    t0, t1, t2 = await _threads(omni, 3)
    await route(omni, t0["id"], team["id"], ada["id"])
    await route(omni, t1["id"], team["id"])
    assert set(await _ids(omni, team_id=team["id"])) == {t0["id"], t1["id"]}
    assert await _ids(omni, team_id="none") == [t2["id"]]
    assert await _ids(omni, assignee_id=ada["id"]) == [t0["id"]]
    assert set(await _ids(omni, assignee_id="none")) == {t1["id"], t2["id"]}
    assert await _ids(omni, team_id=team["id"], assignee_id="none") == [t1["id"]]
    async with client_for(omni, await make_key(omni, "ada", agent_id=ada["id"])) as client:
        mine = (await client.get("/v1/threads", params={"assignee_id": "me"})).json()
        assert [t["id"] for t in mine["items"]] == [t0["id"]]
    for bad in ({"team_id": "x"}, {"assignee_id": "someone"}, {"sort": "random"},
                {"breached": "maybe"}, {"team_id": "99999999999999999999"}):
        response = await omni.client.get("/v1/threads", params=bad)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"


async def test_breached_and_sla_due_order_page_by_a_keyed_cursor(omni: OmniServer) -> None:
    threads = await _threads(omni, 5)
    now = utcnow()
    breach = [{"metric": "first_response", "due_at": now.isoformat(), "at": now.isoformat()}]
    # Due order: t3, t1 (same due as t4, lower id first), t4, then no due: t0 (no case), t2.
    await _case(omni, threads[1], sla_due_at=now + timedelta(minutes=5), breaches=breach)
    await _case(omni, threads[2], status="open")
    await _case(omni, threads[3], sla_due_at=now + timedelta(minutes=1))
    await _case(omni, threads[4], sla_due_at=now + timedelta(minutes=5), breaches=breach)
    ids = [t["id"] for t in threads]
    assert set(await _ids(omni, breached="true")) == {ids[1], ids[4]}
    assert set(await _ids(omni, breached="false")) == {ids[0], ids[2], ids[3]}
    expected = [ids[3], ids[1], ids[4], ids[0], ids[2]]
    assert await _ids(omni, sort="sla_due") == expected
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "sla_due", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await omni.client.get("/v1/threads", params=params)).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert await _ids(omni, sort="sla_due", breached="true") == [ids[1], ids[4]]
    # A cursor of the other order is refused, not misread.
    first = (await omni.client.get("/v1/threads", params={"limit": 1})).json()
    mixed = await omni.client.get("/v1/threads", params={"sort": "sla_due",
                                                         "cursor": first["next_cursor"]})
    assert mixed.status_code == 400


async def test_events_carry_where_the_thread_ended_up_in_their_transaction(
        omni: OmniServer) -> None:
    team = await make_team(omni, "A")
    (thread,) = await _threads(omni, 1)
    subscription = await omni.core.bus.attach(None)
    async with omni.core.unit() as session:
        queue_event(session, "message.created", {"thread_id": thread["id"], "text": "x"})
        row = await session.get(Thread, thread["id"])
        assert row is not None
        row.team_id = team["id"]  # routed after the event was queued
    batch = await subscription.next()
    subscription.close()
    assert batch is not None and batch[0].data["team_id"] == team["id"]
    assert batch[0].data["assignee_id"] is None
