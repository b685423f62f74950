"""aiogram (~130 MB per worker) is imported only once a Telegram channel is used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Runs in a fresh interpreter: this test process has long imported aiogram for other tests.
START_WITHOUT_TELEGRAM = """
import asyncio, json, sys
from router.app import create_app
from router.migrate import upgrade
from router.settings import Settings

url = "sqlite+aiosqlite:///" + sys.argv[1]
upgrade(url)
app = create_app(Settings(database_url=url))

async def main() -> None:
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.2)

asyncio.run(main())
print(json.dumps({
    "connectors": sorted(app.state.core.connectors),
    "heavy": sorted({m.split(".")[0] for m in sys.modules} & {"aiogram", "playwright"}),
}))
"""

PARSE_AN_UPDATE = """
import json, sys
from datetime import UTC, datetime
from connectors.base import RawEvent
from connectors.registry import load_connectors

connector = load_connectors()["telegram"]
before = "aiogram" in sys.modules
raw = RawEvent(id=1, channel_id="c", external_event_id="1", content_type="application/json",
               received_at=datetime.now(UTC),
               payload=json.dumps({"update_id": 1, "message": {
                   "message_id": 5, "date": 1700000000, "text": "hi",
                   "chat": {"id": 7, "type": "private"},
                   "from": {"id": 7, "is_bot": False, "first_name": "Ann"}}}).encode())
items = connector.parse(raw)
print(json.dumps({"before": before, "after": "aiogram" in sys.modules, "items": len(items)}))
"""


def _run(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_the_app_starts_without_importing_aiogram(tmp_path: Path) -> None:
    answer = _run(START_WITHOUT_TELEGRAM, str(tmp_path / "omniroute.db"))
    assert "telegram" in answer["connectors"]  # type: ignore[operator]
    assert answer["heavy"] == []


def test_parsing_an_update_imports_aiogram_then() -> None:
    assert _run(PARSE_AN_UPDATE) == {"before": False, "after": True, "items": 1}
