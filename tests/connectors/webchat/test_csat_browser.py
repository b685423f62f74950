"""CSAT in the widget, in a real Chromium: five stars under the survey, keyboard-reachable;
one tap records the score."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.connectors.webchat.test_browser import (  # noqa: F401  (fixtures)
    ShopPage,
    browser,
    embed,
    open_chat,
    shop,
    thread_messages,
)
from tests.omni import OmniServer
from tests.router.csat.cases import resolve_with_survey


async def test_stars_under_the_survey_record_one_tap(
        omni: OmniServer, browser: Browser, shop: ShopPage) -> None:  # noqa: F811
    channel = await omni.create_channel("webchat", "Shop chat", {"allowed_origins": [shop.url]})
    shop.html = embed(omni, channel["id"])
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(shop.url)
    await open_chat(page)
    await page.get_by_role("button", name="Start chat").click()
    message = page.get_by_label("Your message")
    await message.fill("Is the blue kettle back?")
    await message.press("Enter")
    await expect(page.get_by_role("log").get_by_text("Sent")).to_be_visible()
    await omni.settle()
    thread, _ = await thread_messages(omni)

    case_id = await resolve_with_survey(omni, thread["id"], channel["id"])
    rating = page.get_by_role("group", name="How would you rate the help you got?", exact=False)
    await expect(rating).to_be_visible()
    four = rating.get_by_role("button", name="Rate 4 of 5")
    await four.focus()
    await four.press("Enter")
    await expect(page.get_by_text("Thank you for your rating!")).to_be_visible()
    await omni.settle()
    answers = (await omni.client.get("/v1/csat")).json()["items"]
    assert [(a["case_id"], a["score"], a["channel_type"]) for a in answers] == [
        (case_id, 4, "webchat")]
    assert errors == []
