"""A dry run reads a customer's tier and attributes: only of a customer the caller may see."""

from __future__ import annotations

from tests.omni import OmniServer
from tests.people import (
    api_channel,
    client_for,
    customer_thread,
    make_agent,
    make_key,
    make_team,
    route,
)


async def test_a_dry_run_of_another_teams_customer_is_404(omni: OmniServer) -> None:
    channel = await api_channel(omni)
    thread = await customer_thread(omni, channel, "u1", "My card was charged twice")
    a, b = await make_team(omni, "A"), await make_team(omni, "B")
    await route(omni, thread["id"], a["id"])
    lead = await make_agent(omni, "Lead of B", role="supervisor", team_ids=[b["id"]])
    body = {"channel_id": channel[0], "text": "refund", "customer_id": thread["customer_id"]}
    async with client_for(omni, await make_key(omni, "b", agent_id=lead["id"])) as client:
        assert (await client.post("/v1/rules/test", json=body)).status_code == 404
    assert (await omni.client.post("/v1/rules/test", json=body)).status_code == 200
