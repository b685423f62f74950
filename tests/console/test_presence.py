"""An agent's presence from the console: online on sign-in, away by choice, offline on leaving."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.console.test_live_whatsapp import sign_in
from tests.console.test_support_flow import created
from tests.omni import OmniServer


async def presence(omni: OmniServer, agent_id: int) -> str:
    value: str = (await omni.client.get(f"/v1/agents/{agent_id}")).json()["presence"]
    return value


async def test_presence_follows_the_agent(omni: OmniServer, browser: Browser) -> None:
    team = await created(omni, "/v1/teams", {"name": "Front line", "line": 1})
    ada = await created(omni, "/v1/agents", {"name": "Ada", "team_ids": [team["id"]]})
    key = (await created(omni, "/v1/keys", {"name": "ada", "agent_id": ada["id"]}))["key"]
    assert await presence(omni, ada["id"]) == "offline"
    page = await browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await sign_in(page, omni, key)
    await expect(page.get_by_text("Ada", exact=True)).to_be_visible()
    await expect(page.get_by_label("Presence")).to_have_value("online")
    assert await presence(omni, ada["id"]) == "online"

    await page.get_by_label("Presence").select_option("away")
    await omni.wait_for(lambda: _is(omni, ada["id"], "away"))
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("API key")).to_be_visible()
    assert await presence(omni, ada["id"]) == "offline"
    assert await page.evaluate("sessionStorage.getItem('omniroute.key')") is None
    assert problems == []


async def _is(omni: OmniServer, agent_id: int, want: str) -> bool:
    return await presence(omni, agent_id) == want


async def test_a_key_of_no_agent_has_no_mine_and_no_presence(
        omni: OmniServer, browser: Browser) -> None:
    key = (await created(omni, "/v1/keys", {"name": "bot", "role": "agent"}))["key"]
    page = await browser.new_page()
    await sign_in(page, omni, key)
    await expect(page.get_by_text("signed in (no agent profile)")).to_be_visible()
    await expect(page.get_by_label("Presence")).to_be_disabled()
    await expect(page.get_by_role("button", name="Mine")).to_be_disabled()
    await expect(page.get_by_role("button", name="All", exact=True)).to_have_attribute(
        "aria-pressed", "true")


async def test_a_refused_key_says_so(omni: OmniServer, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(f"{omni.url}/console")
    await page.get_by_label("API key").fill("omr_not_a_key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("That key was refused.")
    assert await page.evaluate("sessionStorage.getItem('omniroute.key')") is None
