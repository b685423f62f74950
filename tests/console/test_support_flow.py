"""The whole support flow in Chromium, as an agent and their lead would live it.

An agent of line 1 signs in and goes online; a customer writes on WhatsApp; the case lands in
the agent's inbox live with its SLA clock; the agent answers and sees the ticks, hands the case
to line 2 with a reason, and it ends resolved. The lead's dashboard, open all along, redraws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.connectors.whatsapp.fake_graph import FakeGraph
from tests.console.test_live_whatsapp import sign_in
from tests.console.whatsapp import customer_writes, provider_reports
from tests.omni import OmniServer


async def created(omni: OmniServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await omni.client.post(path, json=body)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


async def support_desk(omni: OmniServer, wa_config: dict[str, Any]) -> dict[str, Any]:
    """Two lines with one agent each, their lead, keys for all three, a WhatsApp channel.

    Both teams carry an SLA policy; the inbox's SLA display is checked on known case objects
    in test_inbox.py (the clock itself is tested under tests/router/sla)."""
    policy = await created(omni, "/v1/sla-policies", {"name": "Chat", "targets": [
        {"first_response_seconds": 900, "resolution_seconds": 86_400}]})
    line1 = await created(omni, "/v1/teams", {"name": "Front line", "line": 1,
                                              "strategy": "round_robin",
                                              "sla_policy_id": policy["id"]})
    line2 = await created(omni, "/v1/teams", {"name": "Specialists", "line": 2,
                                              "strategy": "manual",
                                              "sla_policy_id": policy["id"]})
    ada = await created(omni, "/v1/agents", {"name": "Ada", "team_ids": [line1["id"]],
                                             "capacity": {"default": 5}})
    boris = await created(omni, "/v1/agents", {"name": "Boris", "team_ids": [line2["id"]],
                                               "capacity": {"default": 5}})
    # The lead sees both teams' reports and takes no cases herself.
    lena = await created(omni, "/v1/agents", {"name": "Lena", "role": "supervisor",
                                              "team_ids": [line1["id"], line2["id"]],
                                              "capacity": {"default": 0}})
    keys = {name: (await created(omni, "/v1/keys", {"name": name, "agent_id": agent["id"]}))
            ["key"] for name, agent in (("ada", ada), ("boris", boris), ("lena", lena))}
    channel = await omni.create_channel("whatsapp", "WhatsApp support",
                                        {**wa_config, "default_team_id": line1["id"]})
    return {"line1": line1, "line2": line2, "ada": ada, "boris": boris, "keys": keys,
            "channel": channel}


async def open_dashboard(browser: Browser, omni: OmniServer, key: str) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await sign_in(page, omni, key)
    await page.goto(f"{omni.url}/console/dashboard")
    await page.wait_for_function("() => Number(document.body.dataset.refreshed || 0) >= 1")
    return page


async def refreshes(page: Page) -> int:
    return int(await page.evaluate("Number(document.body.dataset.refreshed || 0)"))


async def test_agent_works_a_whatsapp_case_to_line_2_and_the_dashboard_follows(
        omni: OmniServer, browser: Browser, graph: FakeGraph, wa_config: dict[str, Any],
        artifacts: Path) -> None:
    desk = await support_desk(omni, wa_config)
    dashboard = await open_dashboard(browser, omni, desk["keys"]["lena"])
    errors: list[str] = []
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, omni, desk["keys"]["ada"])
    await expect(page.get_by_text("Ada", exact=True)).to_be_visible()
    # Signing in with a live stream open puts the agent online, so round robin can pick her.
    await expect(page.get_by_label("Presence")).to_have_value("online")
    agent = (await omni.client.get(f"/v1/agents/{desk['ada']['id']}")).json()
    assert agent["presence"] == "online"
    await expect(page.get_by_role("button", name="Mine")).to_have_attribute("aria-pressed", "true")
    inbox = page.get_by_role("listbox", name="Cases")

    await customer_writes(omni, desk["channel"]["id"], "My refund never came.", "wamid.FLOW01")
    row = inbox.get_by_role("option").filter(has_text="Sheena Nelson")
    await expect(row).to_be_visible()
    await expect(row.get_by_text("WhatsApp")).to_be_visible()
    await expect(row.get_by_label("1 unread")).to_be_visible()
    await expect(row.get_by_text("Front line")).to_be_visible()
    await page.screenshot(path=str(artifacts / "inbox-1280x800.png"))

    await page.keyboard.press("j")
    history = page.get_by_role("list", name="History")
    await expect(history.get_by_text("My refund never came.")).to_be_visible()
    await expect(row.get_by_label("1 unread")).to_be_hidden()
    await page.keyboard.press("r")
    await page.keyboard.type("Sorry about that: I am checking with our payments team.")
    await page.keyboard.press("Control+Enter")
    reply = history.get_by_role("listitem").filter(has_text="checking with our payments")
    await expect(reply.get_by_label("sent")).to_be_visible()
    await provider_reports(omni, desk["channel"]["id"], "wamid.FAKE0001", "delivered")
    await expect(reply.get_by_label("delivered")).to_be_visible()
    await page.screenshot(path=str(artifacts / "thread-1280x800.png"))

    # Line 1 cannot refund: hand it to line 2 with the reason, from the keyboard.
    await page.keyboard.press("Escape")
    await page.keyboard.press("t")
    dialog = page.get_by_role("dialog", name="Assign or transfer")
    await dialog.get_by_label("Team or line").select_option(label="Line 2 · Specialists")
    await dialog.get_by_label("Reason").fill("Refunds are line 2's")
    await dialog.get_by_role("button", name="Transfer").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status").filter(
        has_text="Transferred to Line 2 · Specialists")).to_be_visible()
    await expect(row).to_be_hidden()  # no longer Ada's
    [thread] = (await omni.client.get("/v1/threads")).json()["items"]
    assert thread["team_id"] == desk["line2"]["id"] and thread["assignee_id"] is None

    # Boris on line 2 finds it first in his team's queue, takes it and sees why it came.
    specialist = await browser.new_page(viewport={"width": 1280, "height": 800})
    specialist.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(specialist, omni, desk["keys"]["boris"])
    await specialist.get_by_role("button", name="Queue", exact=True).click()
    queued = specialist.get_by_role("listbox", name="Cases").get_by_role("option")
    await expect(queued.filter(has_text="Sheena Nelson")).to_contain_text("#1 in queue")
    await specialist.get_by_role("button", name="Next case").click()
    boris_history = specialist.get_by_role("list", name="History")
    await expect(boris_history.get_by_text("Refunds are line 2's", exact=False)).to_be_visible()
    await expect(boris_history.get_by_text("My refund never came.")).to_be_visible()
    await expect(specialist.get_by_text("Line 2 · Specialists · me", exact=False)
                 ).to_be_visible()

    # Boris solved it and closes the case with e; the lead's dashboard redraws.
    before = await refreshes(dashboard)
    await specialist.keyboard.press("e")
    await expect(specialist.get_by_role("status").filter(has_text="Resolved")).to_be_visible()
    [thread] = (await omni.client.get("/v1/threads")).json()["items"]
    assert thread["status"] == "resolved"
    await dashboard.wait_for_function(
        f"() => Number(document.body.dataset.refreshed || 0) > {before}")
    await expect(dashboard.locator("#fig-volume .chart-note")).to_have_text("1 case")
    volume = await dashboard.evaluate(
        "Chart.getChart(document.getElementById('chart-volume')).data.datasets"
        ".map(d => [d.label, d.data.reduce((a, b) => a + b, 0)])")
    assert volume == [["WhatsApp", 1]]
    frt = await dashboard.evaluate(
        "Chart.getChart(document.getElementById('chart-frt')).data.datasets[0].data")
    assert [v for v in frt if v is not None]
    await dashboard.screenshot(path=str(artifacts / "dashboard-1280x800.png"), full_page=True)
    await dashboard.set_viewport_size({"width": 375, "height": 812})
    await dashboard.wait_for_function("() => document.documentElement.scrollWidth <= 375")
    await dashboard.screenshot(path=str(artifacts / "dashboard-375x812.png"), full_page=True)
    assert errors == []
