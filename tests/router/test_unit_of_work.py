"""A request's write transaction commits before its answer leaves, or the answer is an error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.omni import OmniServer


async def test_the_answer_leaves_only_after_the_commit(
    omni: OmniServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = AsyncSession.commit
    committed_at: list[float] = []

    async def slow_commit(self: AsyncSession) -> None:
        await asyncio.sleep(0.2)
        await commit(self)
        committed_at.append(time.monotonic())

    monkeypatch.setattr(AsyncSession, "commit", slow_commit)
    created = await omni.client.post("/v1/keys", json={"name": "sam", "role": "agent"})
    answered_at = time.monotonic()
    assert created.status_code == 201
    assert committed_at and committed_at[0] <= answered_at


async def test_a_failed_commit_is_an_error_not_a_created(
    omni: OmniServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_commit(self: AsyncSession, *_: Any) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    created = await omni.client.post("/v1/keys", json={"name": "sam", "role": "agent"})
    assert created.status_code >= 500
    assert created.headers["content-type"].startswith("application/problem+json")
    monkeypatch.undo()
    assert (await omni.client.get("/v1/keys")).json() == []
