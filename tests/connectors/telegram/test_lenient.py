"""An update aiogram's model refuses still brings the customer's message into the thread."""

from __future__ import annotations

from sqlalchemy import select

from router.models import InboundEvent
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.fixtures import fixture_bytes
from tests.connectors.telegram.flow import create_channel, messages, only_thread, post_update
from tests.omni import OmniServer


async def test_a_refused_sticker_and_poll_reach_the_thread_and_the_event_says_why(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    for name in ("message__text", "message__sticker_without_file_unique_id",
                 "message__poll_without_new_fields"):
        response = await post_update(omni, channel_id, secret, fixture_bytes(name))
        assert response.status_code == 200, response.text
    await omni.settle()
    thread = await only_thread(omni)
    shown = [(m["text"], m["meta"].get("unreadable")) for m in await messages(omni, thread["id"])]
    assert shown[1:] == [("[sticker \u2014 could not be read]", ["sticker"]),
                         ("[poll \u2014 could not be read]", ["poll"])]
    async with omni.core.reads() as session:
        events = list(await session.scalars(select(InboundEvent).order_by(InboundEvent.id)))
    assert [e.state for e in events] == ["processed", "partial", "partial"]
    assert events[1].error is not None
    assert "message.sticker.file_unique_id (missing)" in events[1].error
    listed = (await omni.client.get("/v1/inbound-events", params={"state": "partial"})).json()
    assert [item["id"] for item in listed["items"]] == [events[2].id, events[1].id]
    # Replaying a partial event changes nothing twice.
    retried = await omni.client.post(f"/v1/inbound-events/{events[1].id}/retry")
    assert retried.status_code == 200, retried.text
    await omni.settle()
    assert len(await messages(omni, thread["id"])) == 3
