"""Libraries only some deployments use are imported on first use, not when a worker starts.

Every module a worker imports stays in its memory for good (issue 7: 10k live streams per
worker under 200 MB), so httpx (outbound HTTP, with click and pygments from its CLI module),
aioimaplib and aiosmtplib (e-mail channels that poll or send), phonenumbers (normalising a
phone number), redis (only with OMNIROUTE_REDIS_URL), holidays (a calendar naming a country),
scipy and numpy (the experiment report) and babel (the e-mail acknowledgement's words) wait
until they are needed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from router.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
LAZY = ["aioimaplib", "aiosmtplib", "babel", "click", "holidays", "httpx", "numpy",
        "phonenumbers", "pygments", "redis", "scipy"]

# A fresh interpreter: this test process has long imported all of them for other tests. The
# schema is made here, not there: Alembic brings pygments (via mako), and `omniroute serve`
# keeps Alembic out of the worker the same way (it migrates in a child process).
START_AND_SERVE = """
import asyncio, json, sys
from router.app import create_app
from router.settings import Settings

url = sys.argv[1]
lazy = set(json.loads(sys.argv[2]))
app = create_app(Settings(database_url=url))

async def main() -> None:
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.2)
    started = sorted({m.split(".")[0] for m in sys.modules} & lazy)
    from router.customers.normalize import normalize_phone
    phone = normalize_phone("0044 20 7946 0958")
    print(json.dumps({"started": started, "phone": phone,
                      "after": sorted({m.split(".")[0] for m in sys.modules} & lazy)}))

asyncio.run(main())
"""


def test_a_started_worker_has_not_imported_what_it_has_not_used(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'omniroute.db'}"
    upgrade(url)
    done = subprocess.run(
        [sys.executable, "-c", START_AND_SERVE, url, json.dumps(LAZY)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["started"] == []
    # The first phone number brings phonenumbers in, and only that.
    assert answer["phone"] == "+442079460958"
    assert answer["after"] == ["phonenumbers"]
