"""The console's weight and speed in the test's Chromium.

    .venv/bin/python -m bench.console [--cases 200]

Prints the first-load bytes of /console and /console/dashboard as transferred (gzip, an empty
cache) and as sent uncompressed, and how long the inbox takes to render N cases: the console
measures performance.now() around building the list (`inbox-render` entries) and this reads them.
Data comes in as real WhatsApp webhooks from N customers, one case each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, async_playwright

from router.console.endpoints import ASSETS
from router.settings import Settings
from tests.connectors.whatsapp.fake_graph import VERSION, FakeGraph
from tests.connectors.whatsapp.fixtures import (
    ACCESS_TOKEN,
    APP_SECRET,
    BUSINESS_ACCOUNT_ID,
    PHONE_NUMBER_ID,
    signed,
)
from tests.console.whatsapp import customer_text
from tests.omni import ADMIN_KEY, OmniServer, start_server
from tests.stores import sqlite_copy, sqlite_template

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RENDERS = 10


async def first_load(browser: Browser, omni: OmniServer, path: str,
                     signed_in: bool) -> dict[str, int]:
    """Bytes on the wire for one page and what it loads, from an empty cache."""
    context = await browser.new_context()
    page = await context.new_page()
    if signed_in:
        await page.goto(f"{omni.url}/console")
        await page.evaluate(f"sessionStorage.setItem('omniroute.key', {json.dumps(ADMIN_KEY)})")
        await context.clear_cookies()
    sizes: dict[str, int] = {}
    client = await context.new_cdp_session(page)
    await client.send("Network.enable")
    await client.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls: dict[str, str] = {}
    client.on("Network.responseReceived",
              lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]))
    client.on("Network.loadingFinished",
              lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    await page.goto(f"{omni.url}{path}", wait_until="load")
    if signed_in:  # the dashboard: every chart drawn once (its live stream never goes idle)
        await page.wait_for_function(
            "() => Number(document.body.dataset.refreshed || 0) >= 1")
    await page.wait_for_timeout(500)
    await context.close()
    static = sum(size for rid, size in sizes.items() if "/console" in urls.get(rid, ""))
    api = sum(size for rid, size in sizes.items() if "/v1/" in urls.get(rid, ""))
    return {"console_files": static, "api": api, "requests": len(sizes)}


def uncompressed(names: list[str]) -> int:
    return sum(len(ASSETS.files[n].body) for n in names)


async def inbox_render(browser: Browser, omni: OmniServer, cases: int) -> list[float]:
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await page.goto(f"{omni.url}/console")
    await page.get_by_label("API key").fill(ADMIN_KEY)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="All", exact=True).click()
    await page.wait_for_function(
        f"() => document.querySelectorAll('#inbox li').length >= {cases}")
    await page.evaluate("performance.clearMeasures('inbox-render')")
    for _ in range(RENDERS):
        # Switching filters away and back refetches and redraws the whole list.
        await page.get_by_role("button", name="Unassigned", exact=True).click()
        await page.get_by_role("button", name="All", exact=True).click()
        await page.wait_for_timeout(300)
    entries: list[dict[str, Any]] = await page.evaluate(
        "performance.getEntriesByName('inbox-render').map(e => ({ms: e.duration, "
        "rows: e.detail.rows}))")
    await page.close()
    return [e["ms"] for e in entries if e["rows"] >= cases]


async def seed(omni: OmniServer, channel_id: str, cases: int) -> None:
    for i in range(cases):
        body = customer_text(f"Order {i} has not arrived", f"wamid.BENCH{i:05d}",
                             wa_id=f"1555000{i:04d}", name=f"Customer {i:03d}")
        response = await omni.client.post(f"/webhooks/whatsapp/{channel_id}", content=body,
                                          headers=signed(body))
        assert response.status_code == 200, response.text
    await omni.settle(timeout=120)


async def main(cases: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-console-"))
    (work / "template").mkdir()
    url = sqlite_copy(sqlite_template(work / "template"), work)
    graph = FakeGraph()
    await graph.start()
    omni = await start_server(Settings(database_url=url, admin_api_key=ADMIN_KEY,
                                       secret_key="bench-console-secret-key-0123456789"))
    try:
        channel = await omni.create_channel("whatsapp", "WhatsApp", {
            "phone_number_id": PHONE_NUMBER_ID, "business_account_id": BUSINESS_ACCOUNT_ID,
            "access_token": ACCESS_TOKEN, "app_secret": APP_SECRET,
            "graph_base_url": graph.url, "graph_version": VERSION})
        await seed(omni, channel["id"], cases)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            console = await first_load(browser, omni, "/console", signed_in=False)
            dashboard = await first_load(browser, omni, "/console/dashboard", signed_in=True)
            renders = await inbox_render(browser, omni, cases)
            await browser.close()
    finally:
        await omni.stop()
        await graph.stop()
    js = [n for n in ASSETS.files if n.startswith("js/") and n != "js/dashboard.js"]
    print(f"first load /console (sign-in page): {console['console_files'] / 1024:.1f} KB "
          f"transferred gzip in {console['requests']} requests "
          f"({uncompressed([*js, 'css/console.css']) / 1024:.1f} KB of files uncompressed)")
    print(f"first load /console/dashboard: {dashboard['console_files'] / 1024:.1f} KB "
          f"transferred gzip (Chart.js "
          f"{len(ASSETS.files['vendor/chart.umd.min.js'].gzipped) / 1024:.1f} KB of it) "
          f"+ {dashboard['api'] / 1024:.1f} KB of report answers")
    if renders:
        print(f"inbox of {cases} cases rendered {len(renders)} times: median "
              f"{statistics.median(renders):.1f} ms, max {max(renders):.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    asyncio.run(main(parser.parse_args().cases))
