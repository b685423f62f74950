"""A real mail with raw 8-bit bytes in its From display name (`J\\xf6rg`) used to fail to
process at all, and again on each retry; now it reads as the sender wrote it."""

from __future__ import annotations

from sqlalchemy import select

from router.models import InboundEvent
from tests.connectors.email.fixtures import fixture_bytes
from tests.connectors.email.flow import customer, email_channel, messages, post_mail, thread_of
from tests.connectors.email.smtp_server import SmtpServer
from tests.omni import OmniServer


async def test_an_eight_bit_from_reaches_the_thread_with_its_name(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server, ack_template="")
    raw = fixture_bytes("message__eight_bit_from")
    assert b"From: J\xf6rg M\xfcller" in raw
    response = await post_mail(omni, channel, raw)
    assert response.status_code == 200, response.text
    await omni.settle()
    async with omni.core.reads() as session:
        (event,) = await session.scalars(select(InboundEvent))
    assert (event.state, event.error) == ("processed", None)
    who = await customer(omni, "joerg.mueller@example.de")
    assert who["name"] == "J\u00f6rg M\u00fcller"
    thread = await thread_of(omni, "joerg.mueller@example.de")
    page = await omni.client.get(f"/v1/threads/{thread['id']}/messages")
    assert page.status_code == 200
    (message,) = page.json()["items"]
    assert message["meta"]["subject"] == "Bestellung 5521 \u00fcberf\u00e4llig"
    assert message["text"].startswith("Guten Tag,")
    assert await messages(omni, message["thread_id"]) == page.json()["items"]
