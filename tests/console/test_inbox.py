"""The inbox on known cases: the API's SLA order kept, time left ticking, red once breached.

The thread list is answered in the browser with case objects shaped as GET /v1/threads gives
them, and the page's clock is Playwright's, so a case can be watched running out of time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import Browser, Route, expect

from tests.console.test_live_whatsapp import sign_in
from tests.omni import ADMIN_KEY, OmniServer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def thread(id_: int, *, due_in: float | None, breached: bool = False, paused: bool = False,
           priority: str = "normal", queue_position: int | None = None,
           messages_in: int = 1) -> dict[str, Any]:
    due = iso(NOW + timedelta(minutes=due_in)) if due_in is not None else None
    breaches = [{"metric": "first_response", "due_at": due, "at": due}] if breached else []
    case = {"id": 100 + id_, "thread_id": id_, "status": "pending" if paused else "open",
            "opened_at": iso(NOW - timedelta(hours=1)), "first_response_at": None,
            "channel_type": ["whatsapp", "email", "telegram"][id_ % 3], "team_id": None,
            "assignee_id": None, "priority": priority, "tags": [], "messages_in": messages_in,
            "agent_replies": 0, "sla": {"policy_id": 1, "first_response_due_at": due,
                                        "next_response_due_at": None,
                                        "resolution_due_at": None, "paused": paused,
                                        "breaches": breaches},
            "experiment": None, "csat": None}
    return {"id": id_, "customer_id": id_, "status": case["status"], "assignee": None,
            "team": None, "team_id": None, "assignee_id": None, "case_id": case["id"],
            "case": case, "queue_position": queue_position, "priority": priority,
            "tags": ["refund"] if id_ == 1 else [], "last_message_at": iso(NOW),
            "last_inbound_at": iso(NOW), "last_inbound_channel_id": None,
            "first_response_at": None, "created_at": iso(NOW), "updated_at": iso(NOW),
            "reply_windows": []}


# As the API sorts them with sort=sla_due: the overdue one first, the paused one last.
THREADS = [thread(1, due_in=-5, breached=True, priority="urgent", queue_position=1,
                  messages_in=3),
           thread(2, due_in=12), thread(3, due_in=90, priority="high"),
           thread(4, due_in=None, paused=True)]


async def test_rows_show_time_left_and_turn_red_when_breached(
        omni: OmniServer, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.clock.install(time=NOW - timedelta(seconds=1))
    await page.clock.pause_at(NOW)
    asked: list[str] = []

    async def threads(route: Route) -> None:
        asked.append(route.request.url)
        await route.fulfill(status=200, content_type="application/json",
                            body=json.dumps({"items": THREADS, "next_cursor": None}))

    await page.route("**/v1/threads?*", threads)
    await sign_in(page, omni, ADMIN_KEY)
    await page.get_by_role("button", name="All", exact=True).click()
    rows = page.get_by_role("listbox", name="Cases").get_by_role("option")
    await expect(rows).to_have_count(4)
    assert "sort=sla_due" in asked[-1]
    assert [await rows.nth(i).get_attribute("data-id") for i in range(4)] == ["1", "2", "3", "4"]

    await expect(rows.nth(0).locator("[data-sla]")).to_have_text("overdue 5m")
    await expect(rows.nth(0)).to_have_class("case breached")
    await expect(rows.nth(0).get_by_label("3 unread")).to_be_visible()
    await expect(rows.nth(0).get_by_text("urgent")).to_be_visible()
    await expect(rows.nth(0).get_by_text("#1 in queue")).to_be_visible()
    await expect(rows.nth(0).get_by_text("Web chat").or_(rows.nth(0).get_by_text("E-mail"))
                 ).to_be_visible()
    await expect(rows.nth(1).locator("[data-sla]")).to_have_text("12m left")
    await expect(rows.nth(1)).to_have_class("case")
    await expect(rows.nth(2).locator("[data-sla]")).to_have_text("1h 30m left")
    await expect(rows.nth(3).locator("[data-sla]")).to_have_text("paused")

    # Thirteen minutes later, without a reload, the second case has run out of time.
    await page.clock.run_for(13 * 60 * 1000)
    await expect(rows.nth(1).locator("[data-sla]")).to_have_text("overdue 1m")
    await expect(rows.nth(1)).to_have_class("case breached")
    await expect(rows.nth(3).locator("[data-sla]")).to_have_text("paused")

    # Filters ask the API, they do not filter in the page.
    async with page.expect_request(lambda r: "assignee_id=none" in r.url):
        await page.get_by_role("button", name="Unassigned", exact=True).click()
    async with page.expect_request(lambda r: "breached=true" in r.url):
        await page.get_by_label("Breached").check()
    async with page.expect_request(lambda r: "status=pending" in r.url):
        await page.get_by_label("Status").select_option("pending")
