"""A person at the console sees a WhatsApp message arrive, answers it and watches the ticks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.connectors.whatsapp.fake_graph import FakeGraph
from tests.console.whatsapp import customer_writes, provider_reports
from tests.omni import ADMIN_KEY, OmniServer

XSS = 'Where is my kettle? <img src=x onerror="window.__xss = 1">'


async def sign_in(page: Page, omni: OmniServer, key: str) -> None:
    await page.goto(f"{omni.url}/")
    await expect(page).to_have_url(f"{omni.url}/console")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("status").filter(has_text="live")).to_be_visible()


async def test_message_arrives_live_reply_ticks_and_resolve(
        omni: OmniServer, browser: Browser, graph: FakeGraph, wa_config: dict[str, Any],
        artifacts: Path) -> None:
    channel = await omni.create_channel("whatsapp", "WhatsApp support", wa_config)
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    await sign_in(page, omni, ADMIN_KEY)
    # The stream opened with a one-minute ticket; the key itself is in no URL.
    streams = [u for u in urls if "/v1/events?" in u]
    assert streams and all("ticket=omt1." in u for u in streams), streams
    assert not [u for u in urls if ADMIN_KEY in u or "access_token" in u]
    assert await page.evaluate("sessionStorage.getItem('omniroute.key')") == ADMIN_KEY
    await page.get_by_role("button", name="All", exact=True).click()
    await expect(page.get_by_text("No cases here.")).to_be_visible()

    # The customer writes on WhatsApp; the inbox shows it without a reload.
    await customer_writes(omni, channel["id"], XSS, "wamid.CUSTOMER0001")
    row = page.get_by_role("option").filter(has_text="Sheena Nelson")
    await expect(row).to_be_visible()
    await expect(row.get_by_text("WhatsApp")).to_be_visible()

    await page.keyboard.press("j")
    history = page.get_by_role("list", name="History")
    await expect(history.get_by_text(XSS, exact=True)).to_be_visible()
    assert await page.evaluate("window.__xss") is None
    await expect(page.get_by_text("WhatsApp window open until")).to_be_visible()
    await expect(page.get_by_label("Channel")).to_have_value(channel["id"])

    await page.keyboard.press("r")
    await expect(page.get_by_label("Message")).to_be_focused()
    await page.keyboard.type("It left the warehouse today.")
    await page.keyboard.press("Control+Enter")
    reply = history.get_by_role("listitem").filter(has_text="It left the warehouse today.")
    await expect(reply.get_by_label("sent")).to_be_visible()
    [call] = [c for c in graph.calls if c.path.endswith("/messages")]
    assert call.body["text"]["body"] == "It left the warehouse today."

    # Meta reports delivery, then the read: the tick changes in place.
    await provider_reports(omni, channel["id"], "wamid.FAKE0001", "delivered")
    await expect(reply.get_by_label("delivered")).to_be_visible()
    await provider_reports(omni, channel["id"], "wamid.FAKE0001", "read")
    await expect(reply.get_by_label("read")).to_be_visible()

    # The customer writes again while the agent is in the thread: it appears at the bottom.
    await customer_writes(omni, channel["id"], "Thanks!", "wamid.CUSTOMER0002")
    await expect(history.get_by_role("listitem").last).to_contain_text("Thanks!")
    await page.screenshot(path=str(artifacts / "thread-1280x800.png"))

    # Escape leaves the reply box (which keeps focus after sending, to write on), e resolves.
    await page.keyboard.press("Escape")
    await page.keyboard.press("e")
    await expect(page.get_by_role("status").filter(has_text="Resolved")).to_be_visible()
    [thread] = (await omni.client.get("/v1/threads")).json()["items"]
    assert thread["status"] == "resolved"
    assert errors == []
