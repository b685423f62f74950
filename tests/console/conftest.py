"""A real Chromium for the console tests, and where their screenshots go.

The browser tests run on SQLite only: the console is a client of the public API, which is
tested on both stores under tests/router/; a second store would double a slow browser run
without reaching any code these tests are about.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.chromium import chromium

ARTIFACTS_ENV = "OMNIROUTE_TEST_ARTIFACTS"


@pytest.fixture
def store() -> str:
    return "sqlite"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots: under $OMNIROUTE_TEST_ARTIFACTS when set (CI uploads it), else pytest's tmp."""
    chosen = os.environ.get(ARTIFACTS_ENV)
    folder = Path(chosen) / "console" if chosen else tmp_path_factory.mktemp("console-shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# The fake Graph API and a WhatsApp channel config pointing at it.
from tests.connectors.whatsapp.conftest import graph, wa_config  # noqa: E402, F401
