"""The OpenAPI document, made from the app with settings that do not depend on the machine."""

from __future__ import annotations

from typing import Any

from router.app import create_app
from router.settings import Settings


def spec() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="openapi"))
    document: dict[str, Any] = app.openapi()
    return document
