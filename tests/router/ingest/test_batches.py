"""A batch shares its lookups and writes (router/ingest/batch.py); the outcome must be exactly
what applying its events one at a time gives, on both the known-sender path and the general
one, and a batch of known senders must cost a fixed number of statements, not a few each."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update

from connectors.base import Channel, Connector, InboundMessage
from router.ingest.batch import Batch
from router.ingest.worker import Pace, process_batch
from router.models import Customer, Identity, MergeSuggestion, Message, Thread
from tests.apichannel import inbound
from tests.conftest import MakeOmni
from tests.omni import OmniServer
from tests.stores import sqlite_copy, truncate_pg

Snapshot = dict[str, Any]
# Bodies carry times on 2026-11-01; anything later came from the clock during the run.
NOW_ISH = datetime(2026, 11, 2, tzinfo=UTC)


async def _store(omni: OmniServer, channel: Channel, event_id: str, body: dict[str, Any]) -> None:
    await omni.core.gateway.accept(channel, event_id, json.dumps(body).encode(),
                                   "application/json")


async def _drain(omni: OmniServer) -> list[int]:
    """Process until nothing is waiting; the size of every batch."""
    pace, sizes = Pace(), []
    while handled := await process_batch(omni.core, pace):
        sizes.append(handled)
    return sizes


def _published(omni: OmniServer) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    bus = omni.core.bus
    publish = bus.publish

    async def recording(events: list[tuple[str, dict[str, Any]]]) -> None:
        seen.extend(events)
        await publish(events)

    bus.publish = recording  # type: ignore[method-assign]
    return seen


async def _scenario(omni: OmniServer) -> Snapshot:
    trusted = await omni.create_channel("api", "trusted", {"trusted": True})
    weak = await omni.create_channel("api", "weak", {})
    ch = await omni.core.gateway.channel(trusted["id"], "api")
    wk = await omni.core.gateway.channel(weak["id"], "api")
    # Known before the batch: one sender whose thread is resolved, one with a verified phone,
    # one on the untrusted channel.
    await _store(omni, ch, "e1", inbound("known", "k1", "first", name="Kim",
                                         email="kim@example.com",
                                         sent_at="2026-11-01T08:00:00Z"))
    await _store(omni, ch, "e2", inbound("other", "o1", "phone owner", phone="+4930901820",
                                         sent_at="2026-11-01T08:01:00Z"))
    await _store(omni, wk, "e3", inbound("weak", "w1", "unverified",
                                         sent_at="2026-11-01T08:02:00Z"))
    await _drain(omni)
    async with omni.core.unit() as session:
        known = await session.scalar(select(Identity).where(Identity.value.like("%known")))
        assert known is not None
        await session.execute(update(Thread).where(Thread.customer_id == known.customer_id)
                              .values(status="resolved"))
    events = _published(omni)

    batch = [
        (ch, "b1", inbound("known", "k2", "reopens", sent_at="2026-11-01T09:00:00Z")),
        (ch, "b2", inbound("known", "k2", "same message, another event")),
        (ch, "b3", inbound("new", "n1", "hello", name="Nia", sent_at="2026-11-01T09:01:00Z")),
        (ch, "b4", inbound("new", "n2", "again", sent_at="2026-11-01T09:02:00Z")),
        (ch, "b5", inbound("known", "k3", "quoting", reply_to_external_message_id="n1",
                           sent_at="2026-11-01T09:03:00Z")),
        (ch, "b6", inbound("known", "k4", "older", email="kim@example.com",
                           sent_at="2026-11-01T07:00:00Z")),
        (wk, "b7", inbound("weak", "w2", "claims it", phone="+49 30 901820",
                           sent_at="2026-11-01T09:04:00Z")),
        (ch, "b8", inbound("new", "n3", "my mail", email="nia@example.com",
                           sent_at="2026-11-01T09:05:00Z")),
        (ch, "b9", inbound("new", "n4", "same mail", email="NIA@example.com",
                           sent_at="2026-11-01T09:06:00Z")),
        (wk, "b9w", inbound("weak", "w3", "claims the mail too", email="nia@example.com",
                            sent_at="2026-11-01T09:06:30Z")),
        (ch, "b10", inbound("known", "k5", "verified phone", phone="+4930901820",
                            sent_at="2026-11-01T09:07:00Z")),
        (ch, "b11", inbound("other", "o2", "after the merge", sent_at="2026-11-01T09:08:00Z")),
        (ch, "b12", inbound("known", "k6", "own mail again", email="Kim@example.com",
                            sent_at="2026-11-01T09:09:00Z")),
    ]
    for channel, event_id, body in batch:
        await _store(omni, channel, event_id, body)
    sizes = await _drain(omni)
    names = {ch.id: "trusted", wk.id: "weak"}
    snapshot: Snapshot = _clean({"sizes": sizes, "events": events, **await _rows(omni)}, names)
    return snapshot


def _clean(value: Any, names: dict[str, str]) -> Any:
    """Without what differs between two runs: channel ids, and times taken from the clock
    (the bodies' own times are in the past and stay)."""
    if isinstance(value, dict):
        return {k: _clean(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v, names) for v in value)
    if isinstance(value, str):
        if value[:4].isdigit() and value > "2026-11-02":
            return "now"
        for channel_id, name in names.items():
            value = value.replace(channel_id, name)
        return value
    if isinstance(value, datetime) and value > NOW_ISH:
        return "now"
    return value


async def _rows(omni: OmniServer) -> Snapshot:
    async with omni.core.reads() as session:
        messages = [(m.id, m.thread_id, m.direction, m.text, m.identity_id, m.external_id,
                     m.reply_to_message_id, m.sent_at)
                    for m in await session.scalars(select(Message).order_by(Message.id))]
        threads = [(t.id, t.customer_id, t.status, t.hidden, t.last_message_at,
                    t.last_inbound_at, t.last_inbound_channel_id)
                   for t in await session.scalars(select(Thread).order_by(Thread.id))]
        customers = [(c.id, c.name, c.merged_into_id)
                     for c in await session.scalars(select(Customer).order_by(Customer.id))]
        identities = [(i.id, i.customer_id, i.kind, i.value, i.verified, i.name, i.reachable,
                       i.last_inbound_channel_id)
                      for i in await session.scalars(select(Identity).order_by(Identity.id))]
        suggestions = [(s.customer_id, s.other_customer_id, s.reason)
                       for s in await session.scalars(select(MergeSuggestion))]
    return {"messages": messages, "threads": threads, "customers": customers,
            "identities": identities, "suggestions": suggestions}


async def _fresh_url(store: str, url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if store == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template_path")
        return sqlite_copy(template, tmp_path)
    await truncate_pg(url)
    return url


async def test_one_batch_gives_what_one_event_at_a_time_gives(
    make_omni: MakeOmni, store: str, database_url: str, request: pytest.FixtureRequest,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    single = await make_omni(run_workers=False, ingest_batch_size=1)
    expected = await _scenario(single)
    await single.stop()

    url = await _fresh_url(store, database_url, request, tmp_path)
    together = await make_omni(run_workers=False, database_url=url, ingest_batch_seconds=60.0)
    fast: list[str] = []
    resolve = Batch.resolve

    def recording(self: Batch, channel: Channel, connector: Connector,
                  msg: InboundMessage) -> Any:
        found = resolve(self, channel, connector, msg)
        if found is not None:
            fast.append(msg.external_message_id)
        return found

    monkeypatch.setattr(Batch, "resolve", recording)
    got = await _scenario(together)

    assert expected["sizes"] == [1] * 13
    assert got["sizes"] == [13]
    for key in ("messages", "threads", "customers", "identities", "suggestions", "events"):
        assert got[key] == expected[key], key
    # The scenario reaches every branch it means to: the reopen, the replay, the quote, the
    # auto-link (a merge), the suggestion, the new e-mail identity.
    texts = [m[3] for m in got["messages"]]
    assert texts.count("reopens") == 1 and "same message, another event" not in texts
    assert any(m[6] is not None for m in got["messages"])
    assert any(c[2] is not None for c in got["customers"])
    assert got["suggestions"]
    assert any(i[2] == "email" for i in got["identities"])
    assert all(t[2] == "open" for t in got["threads"])
    # Known before the batch, or learnt in it (n2), without a hint that is not theirs yet;
    # after the merge (k5) every sender takes the general path again.
    assert fast == ["k2", "n2", "k3", "k4"]


async def test_known_senders_cost_a_fixed_number_of_statements(make_omni: MakeOmni) -> None:
    omni = await make_omni(run_workers=False, ingest_batch_seconds=60.0)
    created = await omni.create_channel("api", "bot", {})
    channel = await omni.core.gateway.channel(created["id"], "api")
    for user in range(5):
        await _store(omni, channel, f"w{user}", inbound(f"u{user}", f"w{user}", "hi"))
    await _drain(omni)
    for i in range(40):
        await _store(omni, channel, f"m{i}", inbound(f"u{i % 5}", f"m{i}", f"message {i}"))
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]).split()[0])

    event.listen(omni.core.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await _drain(omni) == [40]
    finally:
        event.remove(omni.core.engine.sync_engine, "before_cursor_execute", count)
    # Claim, stored ids, senders, one INSERT of the messages, identity and thread updates
    # (executemany), the events' state, and the empty claim that ends the drain.
    assert len(statements) <= 12, " | ".join(statements)
    threads = (await omni.client.get("/v1/threads")).json()["items"]
    assert len(threads) == 5
    messages = (await omni.client.get(f"/v1/threads/{threads[0]['id']}/messages")).json()
    assert len(messages["items"]) == 9
