"""`omniroute serve` keeps the garbage collector off what start-up loaded."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from router.app import GC_YOUNG_THRESHOLD, create_app, settle_heap
from router.settings import Settings
create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
assert gc.get_freeze_count() == 0
settle_heap()
assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()
assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
print("ok")
"""


def test_settle_heap_freezes_what_start_up_loaded() -> None:
    # In a process of its own: frozen objects are never collected, which a test run holding
    # hundreds of apps must not inherit.
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
