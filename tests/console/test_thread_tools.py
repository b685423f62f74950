"""The thread's tools in Chromium: attachments, notes, a closed WhatsApp window, merges."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.apichannel import inbound, post_inbound
from tests.connectors.whatsapp.fake_graph import FakeGraph
from tests.connectors.whatsapp.fixtures import fixture
from tests.connectors.whatsapp.flow import post_body
from tests.connectors.whatsapp.test_window import close_window
from tests.console.test_live_whatsapp import sign_in
from tests.console.whatsapp import customer_writes
from tests.omni import ADMIN_KEY, OmniServer


async def open_only_case(browser: Browser, omni: OmniServer) -> Page:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await sign_in(page, omni, ADMIN_KEY)
    await page.get_by_role("button", name="All", exact=True).click()
    await expect(page.get_by_role("listbox", name="Cases").get_by_role("option")).to_have_count(1)
    await page.keyboard.press("j")
    return page


async def test_attachment_note_and_template_outside_the_window(
        omni: OmniServer, browser: Browser, graph: FakeGraph,
        wa_config: dict[str, Any]) -> None:
    channel = await omni.create_channel("whatsapp", "WhatsApp support", wa_config)
    await customer_writes(omni, channel["id"], "Here is the broken lid:", "wamid.TOOLS01")
    assert (await post_body(omni, channel["id"], fixture("image__caption"))).status_code == 200
    await omni.settle()
    await close_window(omni)
    page = await open_only_case(browser, omni)
    history = page.get_by_role("list", name="History")

    # The photo is a link that downloads through the API with the key (no key in the link).
    link = history.get_by_role("link", name="image/jpeg", exact=False)
    assert await link.get_attribute("href") == "#"
    async with page.expect_download() as download:
        await link.click()
    assert (await download.value).suggested_filename

    # The window closed a day ago: the reply box says a template is needed and offers them.
    await expect(page.get_by_text("WhatsApp 24-hour window closed: a template is required")
                 ).to_be_visible()
    picker = page.get_by_label("Template")
    await expect(picker.locator("option", has_text="order_update (en_US)")).to_be_attached()
    await picker.select_option(label="order_update (en_US)")
    await page.get_by_role("button", name="Send").click()
    await expect(history.get_by_role("listitem").last.get_by_label("sent")).to_be_visible()
    [call] = [c for c in graph.calls if c.path.endswith("/messages")]
    assert isinstance(call.body, dict) and call.body["type"] == "template"
    assert call.body["template"]["name"] == "order_update"

    # n writes an internal note: shown apart, never sent to the customer.
    await page.keyboard.press("n")
    await expect(page.get_by_text("Internal note: the customer will not see it")).to_be_visible()
    await page.keyboard.type("Customer sent a photo; replacement lid approved.")
    await page.keyboard.press("Control+Enter")
    note = history.get_by_role("listitem").last
    await expect(note).to_contain_text("Note · bootstrap-admin")
    await expect(note).to_contain_text("replacement lid approved")
    assert len([c for c in graph.calls if c.path.endswith("/messages")]) == 1


async def test_merge_suggestion_accept_undo_and_dismiss_undo(
        omni: OmniServer, browser: Browser) -> None:
    created = await omni.create_channel("api", "untrusted bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    await post_inbound(omni.client, ch, secret, inbound(
        "alice", "a1", "first from alice", email="Alice@Example.com", name="Alice"))
    await post_inbound(omni.client, ch, secret, inbound(
        "alice-2", "b1", "from my other account", email="alice@example.com", name="Alice B"))
    await omni.settle()
    newer, older = (await omni.client.get("/v1/customers")).json()["items"]
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await sign_in(page, omni, ADMIN_KEY)
    await page.get_by_role("button", name="All", exact=True).click()
    await page.get_by_role("option").filter(has_text="Alice").filter(
        has_not_text="Alice B").click()
    suggestions = page.get_by_role("complementary", name="Customer").locator("#suggestions")
    suggestion = suggestions.get_by_role("listitem").filter(has_text="Alice B")
    await expect(suggestion).to_be_visible()

    await suggestion.get_by_role("button", name="Dismiss").click()
    await expect(suggestion).to_be_hidden()
    await page.get_by_role("status").get_by_role("button", name="Undo").click()
    await expect(suggestion).to_be_visible()

    await suggestion.get_by_role("button", name="Merge").click()
    history = page.get_by_role("list", name="History")
    await expect(history.get_by_text("from my other account")).to_be_visible()
    [merge] = (await omni.client.get(f"/v1/customers/{older['id']}/merges")).json()
    assert merge["source_customer_id"] == newer["id"] and merge["undone_at"] is None
    await page.get_by_role("status").get_by_role("button", name="Undo").click()
    await expect(page.get_by_role("status").filter(has_text="Merge undone")).to_be_visible()
    await expect(history.get_by_text("from my other account")).to_be_hidden()
    [merge] = (await omni.client.get(f"/v1/customers/{older['id']}/merges")).json()
    assert merge["undone_at"] is not None
