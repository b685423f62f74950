"""What a visitor reads back after an agent merged its customer with someone else."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.webchat.tokens import identity_hash
from tests.apichannel import inbound, post_inbound
from tests.connectors.webchat.visitor import PAGE_ORIGIN, ScriptedVisitor
from tests.omni import OmniServer, messages

SECRET = "site-identity-secret-0123456789"


async def _history(omni: OmniServer, channel_id: str, visitor: ScriptedVisitor) -> list[str]:
    answer = await omni.client.get(f"/webchat/{channel_id}/history",
                                   headers={"Authorization": f"Bearer {visitor.token}",
                                            "Origin": PAGE_ORIGIN})
    assert answer.status_code == 200, answer.text
    return [i["text"] for i in answer.json()["items"]]


@pytest.mark.parametrize("visitor_is_target", [True, False])
async def test_a_visitor_who_typed_someones_email_never_reads_their_mail(
        omni: OmniServer, visitor_is_target: bool) -> None:
    bot = await omni.create_channel("api", "mail bridge", {})
    await post_inbound(omni.client, bot["id"], bot["generated_secrets"]["secret"], inbound(
        "victim", "v-1", "My card ends 4242, ship to 1 Main St", email="victim@example.com"))
    chat = await omni.create_channel("webchat", "Site chat", {"allowed_origins": [PAGE_ORIGIN]})
    visitor = await ScriptedVisitor.start(omni.url, chat["id"])
    await visitor.connect()
    await visitor.say("Where is my order?", {"email": "victim@example.com"})
    await omni.settle()

    customers = (await omni.client.get("/v1/customers")).json()["items"]
    mine, theirs = customers[0]["id"], customers[1]["id"]  # newest first: the visitor's
    suggestions = (await omni.client.get(f"/v1/customers/{mine}/suggestions")).json()
    assert [s["other_customer_id"] for s in suggestions] == [theirs]
    target, source = (mine, theirs) if visitor_is_target else (theirs, mine)
    merged = await omni.client.post(f"/v1/customers/{target}/merge",
                                    json={"other_customer_id": source})
    assert merged.status_code == 201, merged.text
    thread_id = merged.json()["target_customer_id"]
    thread = (await omni.client.get(f"/v1/customers/{thread_id}")).json()["thread_id"]
    reply = await omni.client.post(f"/v1/threads/{thread}/messages",
                                   json={"text": "It ships today."})
    assert reply.status_code == 201, reply.text
    await visitor.next("message")
    await omni.settle()

    # The agent sees everything in one thread; the visitor only its own chat.
    assert [m["text"] for m in await messages(omni, thread)] == [
        "My card ends 4242, ship to 1 Main St", "Where is my order?", "It ships today."]
    assert await _history(omni, chat["id"], visitor) == ["Where is my order?",
                                                         "It ships today."]
    await visitor.close()


async def test_a_verified_visitor_reads_the_customers_verified_conversation(
        omni: OmniServer) -> None:
    trusted = await omni.create_channel("api", "trusted bot", {"trusted": True})
    await post_inbound(omni.client, trusted["id"], trusted["generated_secrets"]["secret"],
                       inbound("bot-user", "t-1", "Sent from the app", email="ada@example.com"))
    untrusted = await omni.create_channel("api", "other bot", {})
    await post_inbound(omni.client, untrusted["id"], untrusted["generated_secrets"]["secret"],
                       inbound("someone", "u-1", "Unproven claim", email="ada@example.com"))
    chat = await omni.create_channel("webchat", "Site chat", {"allowed_origins": [PAGE_ORIGIN],
                                                              "identity_secret": SECRET})
    await omni.settle()
    user: dict[str, Any] = {"user_id": "42", "email": "ada@example.com",
                            "identity_hash": identity_hash(SECRET, "42")}
    visitor = await ScriptedVisitor.start(omni.url, chat["id"], user)
    await visitor.connect()
    await visitor.say("Logged in now")
    await omni.settle()
    customers = (await omni.client.get("/v1/customers")).json()["items"]
    assert len(customers) == 2  # the proven ones linked; the unproven claim is a suggestion
    proven = next(c for c in customers if len(c["identities"]) > 1)
    other = next(c for c in customers if c["id"] != proven["id"])
    merged = await omni.client.post(f"/v1/customers/{proven['id']}/merge",
                                    json={"other_customer_id": other["id"]})
    assert merged.status_code == 201, merged.text
    assert await _history(omni, chat["id"], visitor) == ["Sent from the app", "Logged in now"]
    await visitor.close()
