"""load_rules: the cached set while nothing changed, recompiled after a change on any replica."""

from __future__ import annotations

from sqlalchemy import event

from router.rules.engine import CompiledRules, load_rules
from tests.conftest import MakeOmni
from tests.omni import OmniServer
from tests.router.rules.helpers import cond, rule


async def _load(server: OmniServer) -> CompiledRules:
    async with server.core.reads() as session:
        return await load_rules(session)


async def test_a_change_on_one_replica_reaches_the_other(make_omni: MakeOmni) -> None:
    first = await make_omni()
    second = await make_omni()  # another app, engine and cache on the same database
    channel = await first.create_channel("api", "bot", {})
    before = await _load(second)
    assert len(before) == 0
    assert await _load(second) is before  # nothing changed: the very same compiled set

    created = (await first.client.post("/v1/rules", json=rule(
        "refunds", {"all": [cond("message.text", "contains", "refund")]},
        [{"action": "set_priority", "value": "high"}]))).json()
    after = await _load(second)
    assert after is not before and after.rule_ids == (created["id"],)
    dry = {"channel_id": channel["id"], "text": "refund please"}
    assert (await second.client.post("/v1/rules/test", json=dry)).json()["rule_id"] == \
        created["id"]

    await first.client.patch(f"/v1/rules/{created['id']}", json={"enabled": False})
    assert (await _load(second)).rule_ids == ()
    await first.client.patch(f"/v1/rules/{created['id']}", json={"enabled": True})
    assert (await _load(second)).rule_ids == (created["id"],)
    await first.client.delete(f"/v1/rules/{created['id']}")
    assert (await _load(second)).rule_ids == ()
    assert (await second.client.post("/v1/rules/test", json=dry)).json()["rule_id"] is None


async def test_an_unchanged_set_costs_one_primary_key_read(omni: OmniServer) -> None:
    await omni.client.post("/v1/rules", json=rule("all", {"all": []},
                                                   [{"action": "add_tags", "value": ["x"]}]))
    await _load(omni)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    sync_engine = omni.core.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        await _load(omni)
        await _load(omni)
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
    rule_reads = [s for s in statements if "config_versions" in s or "rules" in s]
    assert len(rule_reads) == 2
    assert all("config_versions" in s for s in rule_reads)
