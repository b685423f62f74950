"""openapi/openapi.json is what the app serves; every operation is documented."""

from __future__ import annotations

import json
from pathlib import Path

from router.openapi_spec import spec

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_committed_spec_matches_the_app() -> None:
    committed = json.loads(COMMITTED.read_text())
    assert committed == spec(), "regenerate: omniroute openapi > openapi/openapi.json"


def test_every_operation_has_a_summary_and_error_responses() -> None:
    document = spec()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            if path.startswith("/v1/"):
                codes = {int(c) for c in operation["responses"] if c.isdigit()}
                assert any(400 <= c < 500 for c in codes), f"{method.upper()} {path}: no 4xx"
