"""A headless Debian Chromium through Playwright, for the browser tests (console, widget)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALLED = CHROMIUM.exists()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Chromium, or a skip where it is missing (a failure under CI=true: it must be there)."""
    if not CHROMIUM_INSTALLED:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing under CI=true: apt-get install chromium")
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking"])
        try:
            yield launched
        finally:
            await launched.close()
