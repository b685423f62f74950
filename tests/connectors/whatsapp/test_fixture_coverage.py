"""Every handled message type and status has a real payload, and every payload is tested."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.whatsapp.parse import (
    IGNORED_MESSAGE_TYPES,
    IGNORED_STATUSES,
    MESSAGE_HANDLERS,
    STATUS_MAP,
)
from tests.connectors.whatsapp.fixtures import FIXTURES

TESTS = Path(__file__).parent


def _kinds_in(path: Path) -> set[str]:
    """`<message type>` and `status:<status>` for everything a fixture carries."""
    kinds: set[str] = set()
    for entry in json.loads(path.read_text())["entry"]:
        for change in entry["changes"]:
            if change["field"] != "messages":
                continue
            value = change["value"]
            kinds |= {m["type"] for m in value.get("messages", [])}
            kinds |= {f"status:{s['status']}" for s in value.get("statuses", [])}
            if value.get("errors"):
                kinds.add("errors")
    return kinds


def test_every_handled_kind_has_a_fixture() -> None:
    covered: set[str] = set()
    for path in FIXTURES.glob("*.json"):
        covered |= _kinds_in(path)
    handled = (set(MESSAGE_HANDLERS) | set(IGNORED_MESSAGE_TYPES) | {"errors"}
               | {f"status:{s}" for s in STATUS_MAP})
    assert sorted(handled - covered) == []
    # Statuses we deliberately ignore need no fixture, but nothing unknown may hide in one.
    known = handled | {f"status:{s}" for s in IGNORED_STATUSES}
    assert sorted(covered - known) == []


def test_every_fixture_is_used_by_a_test() -> None:
    sources = "".join(p.read_text() for p in TESTS.glob("test_*.py")
                      if p.name != Path(__file__).name)
    unused = sorted(p.stem for p in FIXTURES.glob("*.json") if f'"{p.stem}"' not in sources)
    assert unused == []


def test_fixture_names_are_event__variant() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.json") if "__" not in p.stem) == []
