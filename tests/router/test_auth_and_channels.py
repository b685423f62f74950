"""API keys and roles; channel CRUD with write-only secrets."""

from __future__ import annotations

import httpx

from tests.omni import OmniServer


async def test_keys_roles_and_revocation(omni: OmniServer) -> None:
    created = await omni.client.post("/v1/keys", json={"name": "sam", "role": "agent"})
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("omr_")
    listed = (await omni.client.get("/v1/keys")).json()
    assert all("key" not in k for k in listed)
    agent = httpx.AsyncClient(base_url=omni.url, headers={"Authorization": f"Bearer {key}"})
    try:
        assert (await agent.get("/v1/threads")).status_code == 200
        forbidden = await agent.post("/v1/channels", json={"type": "api", "name": "x"})
        assert forbidden.status_code == 403
        assert "admin role" in forbidden.json()["detail"]
        assert (await agent.get("/v1/inbound-events")).status_code == 403
        revoked = await omni.client.delete(f"/v1/keys/{created.json()['id']}")
        assert revoked.status_code == 204
        omni.app.state.key_cache._hits.clear()  # skip the 10 s grace a replica allows
        assert (await agent.get("/v1/threads")).status_code == 401
    finally:
        await agent.aclose()
    anonymous = await omni.client.get("/v1/threads", headers={"Authorization": ""})
    assert anonymous.status_code == 401


async def test_channel_secrets_are_write_only(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {"callback_url": "https://bot.example/cb"})
    secret = created["generated_secrets"]["secret"]
    assert created["config"]["secret"] == secret  # shown once, in the create response
    assert created["webhook_url"] == f"{omni.url}/v1/channels/{created['id']}/inbound"
    fetched = (await omni.client.get(f"/v1/channels/{created['id']}")).json()
    assert "secret" not in fetched["config"]
    assert fetched["secrets_set"] == ["secret"]
    assert secret not in (await omni.client.get("/v1/channels")).text

    renamed = await omni.client.patch(f"/v1/channels/{created['id']}",
                                      json={"name": "renamed", "config": {"trusted": True}})
    assert renamed.status_code == 200
    assert renamed.json()["config"] == {"callback_url": "https://bot.example/cb",
                                        "trusted": True}
    channel = await omni.core.gateway.channel(created["id"], "api")
    assert channel.config["secret"] == secret  # kept when left out of the update

    async with omni.core.reads() as session:
        from router.models import ChannelRow

        row = await session.get(ChannelRow, created["id"])
        assert row is not None and row.secrets_sealed is not None
        assert secret not in row.secrets_sealed and secret not in str(row.config)

    assert (await omni.client.delete(f"/v1/channels/{created['id']}")).status_code == 204
    assert (await omni.client.get(f"/v1/channels/{created['id']}")).status_code == 404
