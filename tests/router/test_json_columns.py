"""JSON columns are written with orjson and fall back to the stdlib for what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from router.db import dump_json, load_json


@pytest.mark.parametrize("value", [
    {"channel_id": "ch_1", "rule_id": None, "team_id": 3, "tags": ["refund", "é", "日本"]},
    [], {}, "text", 1.5, True, None,
])
def test_what_orjson_writes_reads_back_equal(value: Any) -> None:
    assert load_json(dump_json(value)) == value == json.loads(dump_json(value))


@pytest.mark.parametrize(("value", "read"), [
    ({1: "integer key"}, {"1": "integer key"}),
    (2**70, 2**70),
    ("lone \ud800 surrogate", "lone \ufffd surrogate"),  # read back cleaned
])
def test_what_orjson_refuses_goes_through_the_stdlib(value: Any, read: Any) -> None:
    assert dump_json(value) == json.dumps(value)
    assert load_json(dump_json(value)) == read
