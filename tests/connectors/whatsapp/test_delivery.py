"""Replies through the outbox to the fake Graph API, and Meta's status webhooks coming back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from router.models import InboundEvent
from tests.connectors.whatsapp.fake_graph import FakeGraph, graph_error
from tests.connectors.whatsapp.fixtures import fixture
from tests.connectors.whatsapp.flow import (
    create_channel,
    messages,
    only_thread,
    post_body,
    post_fixture,
)
from tests.omni import OmniServer

# The outbound wamid the status fixtures refer to.
FIXTURE_WAMID = b"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQ0QkE0RTc4QjE0MjE3MjcA"
FAILED_WAMID = b"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJEOUFBMjU4RTk5QkI1RTQ0MjcA"
CUSTOMER_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="


def status_for(name: str, wamid: str) -> bytes:
    body = fixture(name)
    return body.replace(FAILED_WAMID if name == "status__failed" else FIXTURE_WAMID,
                        wamid.encode())


async def customer_wrote(omni: OmniServer, config: dict[str, Any]) -> tuple[str, int]:
    channel_id = (await create_channel(omni, config))["id"]
    assert (await post_fixture(omni, channel_id, "text__basic", fresh=True)).status_code == 200
    await omni.settle()
    return channel_id, (await only_thread(omni))["id"]


async def reply(omni: OmniServer, thread_id: int, **body: Any) -> dict[str, Any]:
    response = await omni.client.post(f"/v1/threads/{thread_id}/messages", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def message(omni: OmniServer, thread_id: int, message_id: int) -> dict[str, Any]:
    return next(m for m in await messages(omni, thread_id) if m["id"] == message_id)


async def test_reply_goes_out_and_statuses_move_it_forward(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote(omni, wa_config)
    sent = await reply(omni, thread_id, text="Yes: blue and green.")
    await omni.settle()
    assert graph.sent == [{"messaging_product": "whatsapp", "recipient_type": "individual",
                           "to": "16505551234", "type": "text",
                           "text": {"preview_url": False, "body": "Yes: blue and green."}}]
    stored = await message(omni, thread_id, sent["id"])
    assert (stored["status"], stored["external_id"]) == ("sent", "wamid.FAKE0001")
    for name, expected in (("status__delivered", "delivered"), ("status__read", "read"),
                           ("status__sent", "read")):
        response = await post_body(omni, channel_id, status_for(name, "wamid.FAKE0001"))
        assert response.status_code == 200
        await omni.settle()
        assert (await message(omni, thread_id, sent["id"]))["status"] == expected


async def test_reply_quoting_the_customer_carries_the_context(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    _, thread_id = await customer_wrote(omni, wa_config)
    [inbound] = await messages(omni, thread_id)
    await reply(omni, thread_id, text="This one?", reply_to_message_id=inbound["id"])
    await omni.settle()
    assert graph.sent[0]["context"] == {"message_id": CUSTOMER_WAMID}


async def test_a_status_that_overtakes_the_send_call_still_lands(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote(omni, wa_config)

    async def read_before_answering(wamid: str) -> None:
        # Meta's "read" webhook is stored and processed before the send call returns.
        response = await post_body(omni, channel_id, status_for("status__read", wamid))
        assert response.status_code == 200

        async def processed() -> bool:
            async with omni.core.reads() as session:
                states = list(await session.scalars(select(InboundEvent.state)))
            return "received" not in states

        await omni.wait_for(processed)

    graph.before_answer = read_before_answering
    sent = await reply(omni, thread_id, text="On its way!")
    await omni.settle()
    stored = await message(omni, thread_id, sent["id"])
    assert (stored["status"], stored["external_id"]) == ("read", "wamid.FAKE0001")


async def test_failed_status_shows_metas_code_and_title(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote(omni, wa_config)
    sent = await reply(omni, thread_id, text="Hello?")
    await omni.settle()
    await post_body(omni, channel_id, status_for("status__failed", "wamid.FAKE0001"))
    await omni.settle()
    stored = await message(omni, thread_id, sent["id"])
    assert (stored["status"], stored["error"]) == ("failed", "131026 Message undeliverable")


async def test_rate_limit_is_retried_until_it_goes_through(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    _, thread_id = await customer_wrote(omni, wa_config)
    graph.fail_next(400, graph_error(130429, "(#130429) Rate limit hit"))
    graph.fail_next(500, graph_error(131000, "Something went wrong"))
    sent = await reply(omni, thread_id, text="Third time lucky")
    await omni.settle()
    attempts = [c for c in graph.calls if c.path.endswith("/messages")]
    assert len(attempts) == 3
    stored = await message(omni, thread_id, sent["id"])
    assert (stored["status"], stored["external_id"]) == ("sent", "wamid.FAKE0001")


async def test_window_closed_at_meta_fails_permanently_with_a_clear_reason(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote(omni, wa_config)
    graph.fail_next(400, graph_error(131047, "(#131047) Re-engagement message"))
    sent = await reply(omni, thread_id, text="Still there?", channel_id=channel_id)
    await omni.settle()
    stored = await message(omni, thread_id, sent["id"])
    assert stored["status"] == "failed"
    assert stored["error"].startswith("(131047) the 24-hour customer service window is closed")
    assert len([c for c in graph.calls if c.path.endswith("/messages")]) == 1


async def test_revoked_token_fails_and_marks_the_channel_unhealthy(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote(omni, wa_config)
    graph.fail_next(401, graph_error(190, "Error validating access token: The session has "
                                          "been invalidated because the user changed their "
                                          "password."))
    sent = await reply(omni, thread_id, text="Hello")
    await omni.settle()
    stored = await message(omni, thread_id, sent["id"])
    assert stored["status"] == "failed"
    channel = (await omni.client.get(f"/v1/channels/{channel_id}")).json()
    assert channel["health"] == "unhealthy"
    assert channel["health_reason"].startswith("(190) the access token was refused")


async def test_buttons_template_and_media_reach_the_graph_api(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    _, thread_id = await customer_wrote(omni, wa_config)
    await reply(omni, thread_id, text="How did we do?",
                buttons=[{"id": "csat-1", "title": "Bad"}, {"id": "csat-5", "title": "Great"}])
    await omni.settle()
    await reply(omni, thread_id, text="", attachments=[
        {"url": "https://files.example.com/manual.pdf", "mime_type": "application/pdf",
         "filename": "manual.pdf"}])
    await omni.settle()
    assert [m["type"] for m in graph.sent] == ["interactive", "document"]
    assert graph.sent[0]["interactive"]["action"]["buttons"][1] == {
        "type": "reply", "reply": {"id": "csat-5", "title": "Great"}}
    assert graph.sent[1]["document"] == {"link": "https://files.example.com/manual.pdf",
                                         "filename": "manual.pdf"}
