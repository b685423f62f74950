"""Two `omniroute serve` processes on one PostgreSQL and one Redis, flooded with signed
API-channel messages from many customers at once: nobody over capacity, no case assigned
twice, one case per thread, and every queued case drains as agents resolve."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from connectors.api.signature import signed_headers
from router.db import create_engine, session_factory
from router.models import Agent, Case, CaseEvent, InboundEvent, Team, TeamMember, Thread
from tests.conftest import TEST_SECRET_KEY
from tests.omni import ADMIN_KEY
from tests.stores import truncate_pg

ROOT = Path(__file__).resolve().parents[3]
CAPACITY = 2
CUSTOMERS = 40  # per channel
MESSAGES = 2  # per customer


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _serve(env: dict[str, str], tmp_path: Path, name: str) -> Iterator[str]:
    port = _port()
    log = (tmp_path / f"{name}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                output = (tmp_path / f"{name}.log").read_text()
                raise RuntimeError(f"{name} did not start: {output}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
async def replicas(pg_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[list[str]]:
    await truncate_pg(pg_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIROUTE_")}
    env.update({
        "PYTHONPATH": str(ROOT), "OMNIROUTE_DATABASE_URL": pg_url,
        "OMNIROUTE_REDIS_URL": redis_url,
        "OMNIROUTE_REDIS_STREAM": f"omniroute:test:{secrets.token_hex(4)}",
        "OMNIROUTE_SECRET_KEY": TEST_SECRET_KEY, "OMNIROUTE_ADMIN_API_KEY": ADMIN_KEY,
        "OMNIROUTE_DATABASE_POOL_SIZE": "5", "OMNIROUTE_DATABASE_MAX_OVERFLOW": "5",
        "OMNIROUTE_LOG_LEVEL": "WARNING"})
    with _serve(env, tmp_path, "one") as one, _serve(env, tmp_path, "two") as two:
        yield [one, two]


async def _seed(url: str) -> tuple[list[int], list[int]]:
    """Two teams of three agents: round robin, least loaded."""
    engine = create_engine(url)
    try:
        async with session_factory(engine, write=True)() as session:
            agents = [Agent(name=f"agent{i}", email=f"agent{i}@example.com", presence="online",
                            capacity={"default": CAPACITY}, skills=[]) for i in range(6)]
            teams = [Team(name="round robin", strategy="round_robin", settings={}),
                     Team(name="least loaded", strategy="least_loaded", settings={})]
            session.add_all([*agents, *teams])
            await session.flush()
            for n, agent in enumerate(agents):
                session.add(TeamMember(team_id=teams[n // 3].id, agent_id=agent.id))
            await session.commit()
            return [a.id for a in agents], [t.id for t in teams]
    finally:
        await engine.dispose()


async def _state(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with session_factory(engine, write=False)() as session:
            waiting = await session.scalar(select(func.count()).select_from(InboundEvent)
                                           .where(InboundEvent.state != "processed"))
            rows = list(await session.scalars(select(Case)))
            assigned = dict((await session.execute(
                select(CaseEvent.case_id, func.count()).where(CaseEvent.type == "assigned")
                .group_by(CaseEvent.case_id))).all())
            threads = list(await session.scalars(select(Thread)))
    finally:
        await engine.dispose()
    held: dict[int, int] = {}
    for case in rows:
        if case.assignee_id is not None and case.status in ("open", "pending"):
            held[case.assignee_id] = held.get(case.assignee_id, 0) + 1
    return {"waiting": int(waiting or 0), "cases": rows, "assigned": assigned, "held": held,
            "threads": threads}


async def _post(client: httpx.AsyncClient, channel: str, secret: str, body: dict[str, Any]
                ) -> None:
    raw = json.dumps(body).encode()
    answer = await client.post(f"/v1/channels/{channel}/inbound", content=raw, headers={
        "Content-Type": "application/json", **signed_headers(secret, raw, now=time.time())})
    assert answer.status_code == 202, answer.text


def _check(state: dict[str, Any]) -> None:
    assert all(count <= CAPACITY for count in state["held"].values()), state["held"]
    assert all(count == 1 for count in state["assigned"].values()), state["assigned"]
    per_thread: dict[int, int] = {}
    for case in state["cases"]:
        per_thread[case.thread_id] = per_thread.get(case.thread_id, 0) + 1
        assert (case.assignee_id is None) == (case.queued_at is not None) or (
            case.status == "resolved")
    assert set(per_thread.values()) == {1}


async def test_two_replicas_flooded_never_overfill_nor_double_assign(
        pg_url: str, replicas: list[str]) -> None:
    agents, teams = await _seed(pg_url)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    clients = [httpx.AsyncClient(base_url=url, headers=headers, timeout=30) for url in replicas]
    try:
        channels = []
        for team in teams:
            created = await clients[0].post("/v1/channels", json={
                "type": "api", "name": f"bot {team}", "config": {"default_team_id": team}})
            assert created.status_code == 201, created.text
            channels.append((created.json()["id"], created.json()["generated_secrets"]["secret"]))
        gate = asyncio.Semaphore(24)

        async def send(n: int, round_: int, channel: tuple[str, str]) -> None:
            async with gate:
                await _post(clients[(n + round_) % 2], *channel,
                            {"external_user_id": f"u{n}", "external_message_id": f"m{n}-{round_}",
                             "text": f"message {round_} from {n}"})

        for round_ in range(MESSAGES):
            await asyncio.gather(*(send(n, round_, channel) for channel in channels
                                   for n in range(CUSTOMERS)))
        deadline = time.monotonic() + 90
        while True:
            state = await _state(pg_url)
            if state["waiting"] == 0 and len(state["cases"]) == 2 * CUSTOMERS:
                break
            assert time.monotonic() < deadline, (state["waiting"], len(state["cases"]))
            await asyncio.sleep(0.2)
        _check(state)
        assert sorted(state["held"].values()) == [CAPACITY] * len(agents)
        sample = (await clients[1].get(f"/v1/threads/{state['cases'][0].thread_id}")).json()
        assert sample["case"]["messages_in"] == MESSAGES

        # Agents resolve what they hold, on both replicas at once; each resolve hands the
        # agent the next queued case of their team, until nothing waits.
        for _ in range(2 * CUSTOMERS):
            held = [c for c in state["cases"] if c.assignee_id and c.status == "open"]
            if not held:
                break
            answers = await asyncio.gather(*(
                clients[i % 2].patch(f"/v1/threads/{case.thread_id}",
                                     json={"status": "resolved"})
                for i, case in enumerate(held)))
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
            state = await _state(pg_url)
            _check(state)
        assert all(c.status == "resolved" for c in state["cases"])
        assert all(c.queued_at is None for c in state["cases"])
        assert set(state["assigned"]) == {c.id for c in state["cases"]}
    finally:
        for client in clients:
            await client.aclose()
