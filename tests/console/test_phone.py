"""The console on a phone (375x812): one pane at a time, the inbox, then the thread and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Browser, expect

from tests.connectors.whatsapp.fake_graph import FakeGraph
from tests.console.test_live_whatsapp import sign_in
from tests.console.whatsapp import customer_writes
from tests.omni import ADMIN_KEY, OmniServer

LONG = ("Hello, I ordered the blue kettle last week and it still has not arrived. The tracking "
        "page says 'label created' since Monday. Can you check with the courier? Order 58213.")


async def test_phone_shows_inbox_then_thread(
        omni: OmniServer, browser: Browser, graph: FakeGraph, wa_config: dict[str, Any],
        artifacts: Path) -> None:
    channel = await omni.create_channel("whatsapp", "WhatsApp support", wa_config)
    await customer_writes(omni, channel["id"], LONG, "wamid.PHONE0001")
    await omni.settle()
    context = await browser.new_context(viewport={"width": 375, "height": 812},
                                        device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await sign_in(page, omni, ADMIN_KEY)
    await page.get_by_role("button", name="All", exact=True).click()
    row = page.get_by_role("option").filter(has_text="Sheena Nelson")
    await expect(row).to_be_visible()
    conversation = page.get_by_role("region", name="Conversation")
    await expect(conversation).to_be_hidden()
    await page.screenshot(path=str(artifacts / "inbox-375x812.png"))

    await row.tap()
    await expect(conversation.get_by_text(LONG)).to_be_visible()
    await expect(page.get_by_role("region", name="Inbox")).to_be_hidden()
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await expect(page.get_by_role("button", name="Resolve")).to_be_in_viewport()
    await expect(page.get_by_label("Message")).to_be_in_viewport()
    await page.screenshot(path=str(artifacts / "thread-375x812.png"))

    await page.get_by_role("button", name="Back to the inbox").tap()
    await expect(row).to_be_visible()
    await context.close()
