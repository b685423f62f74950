"""FastAPI's native OpenTelemetry is off unless the operator asks for it."""

from __future__ import annotations

import inspect

import pytest
from fastapi import FastAPI

from router.app import create_app
from router.settings import Settings

pytestmark = pytest.mark.skipif("telemetry" not in inspect.signature(FastAPI).parameters,
                                reason="this FastAPI has no native telemetry")


def test_native_telemetry_is_off_by_default() -> None:
    app = create_app(Settings())
    config = app._telemetry  # type: ignore[attr-defined]
    assert (config["tracing"], config["metrics"], config["logs"]) == (False, False, False)


def test_native_telemetry_is_left_on_when_asked_for() -> None:
    app = create_app(Settings(opentelemetry=True))
    config = app._telemetry  # type: ignore[attr-defined]
    assert (config["tracing"], config["metrics"], config["logs"]) == (True, True, True)
