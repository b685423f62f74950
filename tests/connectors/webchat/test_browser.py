"""The widget in a real Chromium: a shop page on loopback embeds it and talks to the core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from connectors.webchat.connector import WebchatConnector
from tests.chromium import chromium
from tests.omni import OmniServer

XSS = '<img src=x onerror="window.__xss = 1">'


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


class ShopPage:
    """A site on its own origin embedding the widget with the one documented script tag."""

    def __init__(self) -> None:
        self.html = ""
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()

        async def index(_: web.Request) -> web.Response:
            return web.Response(text=self.html, content_type="text/html")

        app.router.add_get("/", index)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def shop() -> AsyncIterator[ShopPage]:
    page = ShopPage()
    await page.start()
    yield page
    await page.stop()


def embed(omni: OmniServer, channel_id: str) -> str:
    return ("<!doctype html><html lang='en'><head><title>Shop</title></head><body>"
            "<h1>Kettles</h1>"
            f'<script src="{omni.url}/webchat/widget.js" data-channel="{channel_id}" async>'
            "</script></body></html>")


async def thread_messages(omni: OmniServer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    [thread] = (await omni.client.get("/v1/threads")).json()["items"]
    page = (await omni.client.get(f"/v1/threads/{thread['id']}/messages")).json()
    return thread, page["items"]


async def open_chat(page: Page) -> None:
    await page.get_by_role("button", name="Open chat").click()
    await expect(page.get_by_role("dialog", name="Chat with us")).to_be_visible()


async def test_visitor_and_agent_in_a_real_browser(
        omni: OmniServer, browser: Browser, shop: ShopPage) -> None:
    channel = await omni.create_channel("webchat", "Shop chat",
                                        {"allowed_origins": [shop.url]})
    shop.html = embed(omni, channel["id"])
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(shop.url)
    await open_chat(page)

    # No agent is connected to the event stream: the pre-chat form asks for an e-mail.
    prechat = page.get_by_role("form", name="Before we start")
    await expect(prechat.get_by_text("No agent is online right now. Leave your e-mail and we "
                                     "will answer by mail.")).to_be_visible()
    await expect(page.get_by_role("form", name="Get the answer by e-mail")).to_be_hidden()
    await page.get_by_label("Your name (optional)").fill("Ada")
    await page.get_by_label("Your e-mail (optional)").fill("ada@example.com")
    await page.get_by_role("button", name="Start chat").click()

    message = page.get_by_label("Your message")
    await expect(message).to_be_focused()
    await message.fill(XSS)
    await message.press("Enter")
    await expect(page.get_by_role("log").get_by_text("Sent")).to_be_visible()
    await omni.settle()

    thread, items = await thread_messages(omni)
    assert [(m["direction"], m["text"]) for m in items] == [("inbound", XSS)]
    customer = (await omni.client.get(f"/v1/customers/{thread['customer_id']}")).json()
    assert customer["name"] == "Ada"
    assert sorted((i["kind"], i["verified"]) for i in customer["identities"]) == [
        ("email", False), ("webchat", False)]

    typing = await omni.client.post(f"/v1/threads/{thread['id']}/typing")
    assert typing.status_code == 204
    await expect(page.get_by_text("Agent is typing…")).to_be_visible()

    # The panel is closed when the reply comes: the launcher counts it as unread.
    await page.get_by_role("button", name="Close chat").click()
    reply = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                   json={"text": "Hi Ada <b>not bold</b>, kettles are back!"})
    assert reply.status_code == 201
    await expect(page.get_by_role("button", name="Open chat, 1 unread")).to_be_visible()
    await page.get_by_role("button", name="Open chat, 1 unread").click()
    await expect(page.get_by_text("Hi Ada <b>not bold</b>, kettles are back!")).to_be_visible()
    await expect(page.get_by_role("button", name="Open chat", exact=True)).to_have_attribute(
        "aria-expanded", "true")
    await omni.settle()
    _, items = await thread_messages(omni)
    assert [(m["direction"], m["status"]) for m in items] == [
        ("inbound", "received"), ("outbound", "read")]

    await page.reload()
    await open_chat(page)
    log = page.get_by_role("log")
    await expect(log.get_by_text(XSS)).to_be_visible()
    await expect(log.get_by_text("Hi Ada <b>not bold</b>, kettles are back!")).to_be_visible()
    await expect(page.get_by_role("button", name="Start chat")).to_be_hidden()

    # Shown as text, never run: no element came out of the strings, no handler fired.
    assert await page.evaluate("window.__xss") is None
    counts = await page.evaluate("""() => {
        const root = document.getElementById('omniroute-webchat').shadowRoot;
        return [root.querySelectorAll('img').length, root.querySelectorAll('b').length,
                document.querySelectorAll('img').length];
    }""")
    assert counts == [0, 0, 0]
    assert errors == []
    await page.close()


async def test_a_page_on_a_foreign_origin_cannot_chat(
        omni: OmniServer, browser: Browser, shop: ShopPage) -> None:
    channel = await omni.create_channel("webchat", "Other site",
                                        {"allowed_origins": ["https://elsewhere.example"]})
    shop.html = embed(omni, channel["id"])
    page = await browser.new_page()
    await page.goto(shop.url)
    await expect(page.get_by_role("button", name="Open chat")).to_be_visible()
    api = f"{omni.url}/webchat/{channel['id']}"
    outcome = await page.evaluate("""async (api) => {
        let session;
        try {
            await fetch(api + "/session", {method: "POST", body: "{}",
                                           headers: {"Content-Type": "application/json"}});
            session = "answered";
        } catch (e) { session = "blocked"; }
        const socket = await new Promise((resolve) => {
            const ws = new WebSocket(api.replace("http", "ws") + "/ws");
            ws.onopen = () => resolve("open");
            ws.onclose = () => resolve("refused");
        });
        return [session, socket];
    }""", api)
    assert outcome == ["blocked", "refused"]
    await page.close()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d4944415478da63f8cfc0f01f0005000201a5f3b1d80000000049454e44"
                    "ae426082")


async def test_on_a_phone_it_attaches_reconnects_and_closes_by_keyboard(
        omni: OmniServer, browser: Browser, shop: ShopPage) -> None:
    channel = await omni.create_channel("webchat", "Shop chat",
                                        {"allowed_origins": [shop.url]})
    shop.html = embed(omni, channel["id"])
    page = await browser.new_page(viewport={"width": 375, "height": 667})
    await page.goto(shop.url)
    await open_chat(page)
    box = await page.get_by_role("dialog", name="Chat with us").bounding_box()
    assert box is not None and (box["width"], box["height"]) == (375, 667)
    await page.get_by_role("button", name="Start chat").click()
    # No e-mail given and no agent online: the panel asks for one so the answer can be mailed.
    offline = page.get_by_role("form", name="Get the answer by e-mail")
    await expect(offline).to_be_visible()
    await offline.get_by_label("Your e-mail").fill("grace@example.com")
    await offline.get_by_role("button", name="Save").click()
    await expect(offline).to_be_hidden()

    await page.locator("input[type=file]").set_input_files(
        {"name": "dot.png", "mimeType": "image/png", "buffer": PNG})
    log = page.get_by_role("log")
    await expect(log.get_by_text("Sent")).to_be_visible()
    await omni.settle()
    thread, items = await thread_messages(omni)
    assert [(a["filename"], a["size"]) for a in items[0]["attachments"]] == [("dot.png", len(PNG))]
    customer = (await omni.client.get(f"/v1/customers/{thread['customer_id']}")).json()
    assert sorted((i["kind"], i["value"]) for i in customer["identities"])[0] == (
        "email", "grace@example.com")
    await expect(log.get_by_role("link", name="📎 dot.png")).to_be_visible()

    # The server drops the connection (a deploy, say): the widget comes back on its own and
    # the next reply is pushed live again ("delivered" only happens on a live push).
    visitor_id = await page.evaluate(
        f"JSON.parse(localStorage.getItem('omniroute-webchat:{channel['id']}')).visitor")
    connector = omni.core.connector("webchat")
    assert isinstance(connector, WebchatConnector)
    live = connector.runtime.live
    assert await live.close_channel(channel["id"], 1012, "restart") == 1

    async def reconnected() -> bool:
        return live.connected(channel["id"], visitor_id)
    await omni.wait_for(reconnected, timeout=20)
    await omni.client.post(f"/v1/threads/{thread['id']}/messages", json={"text": "Got it!"})
    await expect(log.get_by_text("Got it!")).to_be_visible()
    await omni.settle()
    _, items = await thread_messages(omni)
    assert items[-1]["status"] in ("delivered", "read")

    await page.get_by_label("Your message").press("Escape")
    await expect(page.get_by_role("dialog", name="Chat with us")).to_be_hidden()
    await expect(page.get_by_role("button", name="Open chat")).to_be_focused()
    await page.close()
