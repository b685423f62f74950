"""Origins and per-visitor rate limits."""

from __future__ import annotations

import pytest

from connectors.webchat.guard import origin_allowed

OWN = "https://omniroute.example"


@pytest.mark.parametrize(("origin", "allowed", "expected"), [
    ("https://shop.example", ["https://shop.example"], True),
    ("HTTPS://Shop.Example/", ["https://shop.example"], True),
    ("https://evil.example", ["https://shop.example"], False),
    ("http://shop.example", ["https://shop.example"], False),
    ("https://shop.example:8443", ["https://shop.example"], False),
    ("https://omniroute.example", [], True),
    ("https://shop.example", [], False),
    ("https://anything.example", ["*"], True),
    ("null", ["https://shop.example"], False),
    (None, ["https://shop.example"], True),
])
def test_origin_allowed(origin: str | None, allowed: list[str], expected: bool) -> None:
    assert origin_allowed(origin, allowed, OWN) is expected
