"""A message sent in parts (a Telegram album) folds into one message; replays stay no-ops."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from connectors.base import Attachment, InboundMessage
from router.ingest.apply import apply_message
from tests.omni import OmniServer


def _part(n: int, text: str = "") -> InboundMessage:
    return InboundMessage(
        channel_id="", external_user_id="album-user", external_message_id=f"p{n}",
        sent_at=datetime(2026, 11, 1, 12, 0, n, tzinfo=UTC), text=text,
        attachments=(Attachment(kind="image", provider_ref=f"file-{n}"),), part_of="group-1")


async def test_album_parts_fold_into_one_message(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    channel = await omni.core.gateway.channel(created["id"], "api")
    connector = omni.core.connector("api")
    parts = [_part(1, "our holiday"), _part(2), _part(3), _part(2)]
    for part in parts:
        async with omni.core.unit() as session:
            await apply_message(omni.core, session, channel, connector,
                                dataclasses.replace(part, channel_id=channel.id), raw_id=0)
    thread = (await omni.client.get("/v1/threads")).json()["items"][0]
    messages = (await omni.client.get(f"/v1/threads/{thread['id']}/messages")).json()["items"]
    assert len(messages) == 1
    assert messages[0]["text"] == "our holiday"
    assert [a["provider_ref"] for a in messages[0]["attachments"]] == ["file-1", "file-2",
                                                                      "file-3"]
