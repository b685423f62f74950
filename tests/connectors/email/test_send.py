"""Outbound through a real SMTP server on loopback: headers, threading, loop markers, errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from connectors.base import (
    Channel,
    DeliveryError,
    OutboundAttachment,
    OutboundMessage,
    Recipient,
    SendResult,
)
from connectors.email.connector import EmailConnector
from connectors.email.schemas import EmailChannelConfig
from connectors.fetch import FetchPolicy, GuardedFetcher
from tests.connectors.email.smtp_server import PASSWORD, USERNAME, SmtpServer
from tests.origin_server import OriginServer

JANE_FIRST = "<CAHx2dK1tq9Fv0r=fYq4m7sV3JxO0p9yLz5T8nQb1aW@mail.gmail.com>"
JANE_PHONE = "<5E0C2B7A-9D41-4F3B-A6E2-7C1D8B9F0A12@example.org>"
OUR_FIRST = "<omniroute.12.7d1b0c3e5a9f2468@acme.example>"


def channel(smtp: dict[str, Any], **extra: Any) -> Channel:
    config = EmailChannelConfig.model_validate({
        "address": "support@acme.example", "display_name": "Acme Support", "smtp": smtp,
        "inbound_secret": "inbound-secret-0123456789abcdef", **extra,
    }).model_dump(mode="json", exclude_none=True)
    return Channel(id="ch_email", type="email", name="Support mail", config=config)


def reply(**fields: Any) -> OutboundMessage:
    base: dict[str, Any] = {
        "message_id": 41, "thread_id": 12,
        "recipient": Recipient("jane.doe@example.org", "Jane Doe"),
        "text": "Hello Jane,\n\nthe parcel leaves today.\n\nAcme Support",
        "last_inbound_external_id": JANE_PHONE,
        "last_inbound_meta": {"subject": "Re: Order #1234 has not arrived",
                              "references": [JANE_FIRST, OUR_FIRST]},
        "history_external_ids": (JANE_FIRST, OUR_FIRST, JANE_PHONE),
        "thread_token": "12x3f9a1c0d7e2b",
    }
    return OutboundMessage(**{**base, **fields})


async def test_a_reply_carries_threading_headers_and_our_message_id(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    result = await connector.send(channel(smtp_server.config()), reply())

    assert result == SendResult(external_id=result.external_id, status="sent")
    (got,) = smtp_server.received
    mail = got.message
    assert got.mail_from == "support@acme.example"
    assert got.rcpt_tos == ["jane.doe@example.org"]
    assert mail["Message-ID"] == result.external_id
    assert result.external_id is not None
    assert result.external_id.startswith("<omniroute.41.")
    assert result.external_id.endswith("@acme.example>")
    assert mail["From"] == "Acme Support <support@acme.example>"
    assert mail["To"] == "Jane Doe <jane.doe@example.org>"
    assert mail["Reply-To"] == "Acme Support <support+t12x3f9a1c0d7e2b@acme.example>"
    assert mail["Subject"] == "Re: Order #1234 has not arrived"
    assert mail["In-Reply-To"] == JANE_PHONE
    assert mail["References"] == f"{JANE_FIRST} {OUR_FIRST} {JANE_PHONE}"
    assert mail["Auto-Submitted"] == "no"
    assert mail["X-Auto-Response-Suppress"] is None
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == \
        "Hello Jane,\n\nthe parcel leaves today.\n\nAcme Support\n"
    assert "<p>Hello Jane,</p>" in html.get_content()


async def test_the_same_message_keeps_its_message_id_on_retry(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    first = await connector.send(channel(smtp_server.config()), reply())
    again = await connector.send(channel(smtp_server.config()), reply())
    other = await connector.send(channel(smtp_server.config()), reply(message_id=42))
    assert first.external_id == again.external_id != other.external_id


async def test_an_automatic_message_says_so_for_loop_protection(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    await connector.send(channel(smtp_server.config()), reply(automatic=True))
    mail = smtp_server.received[0].message
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"


async def test_subject_prefixes_do_not_pile_up(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    meta = {"subject": "AW: Re: RE: Order #1234 has not arrived"}
    await connector.send(channel(smtp_server.config()), reply(last_inbound_meta=meta))
    assert smtp_server.received[0].message["Subject"] == "Re: Order #1234 has not arrived"


async def test_first_mail_to_a_customer_has_no_threading_headers(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    first = reply(last_inbound_external_id=None, last_inbound_meta={}, history_external_ids=())
    await connector.send(channel(smtp_server.config()), first)
    mail = smtp_server.received[0].message
    assert mail["In-Reply-To"] is None
    assert mail["References"] is None
    assert mail["Subject"] == "Message from Acme Support"


async def test_the_quoted_message_is_the_parent_when_the_agent_chose_one(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    await connector.send(channel(smtp_server.config()), reply(reply_to_external_id=JANE_FIRST))
    mail = smtp_server.received[0].message
    assert mail["In-Reply-To"] == JANE_FIRST
    assert mail["References"].split()[-1] == JANE_FIRST


async def test_attachments_are_attached(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    data = b"%PDF-1.4 label"
    url = "data:application/pdf;base64," + base64.b64encode(data).decode()
    message = reply(attachments=(OutboundAttachment(url=url, filename="label.pdf"),))
    await connector.send(channel(smtp_server.config()), message)
    mail = smtp_server.received[0].message
    (part,) = list(mail.iter_attachments())
    assert part.get_filename() == "label.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == data


async def test_smtp_login_with_the_channel_password(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    ch = channel(smtp_server.config(username=USERNAME), smtp_password=PASSWORD)
    await connector.send(ch, reply())
    assert len(smtp_server.received) == 1


async def test_a_refused_login_is_permanent_and_flags_the_channel(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    ch = channel(smtp_server.config(username=USERNAME), smtp_password="wrong")
    with pytest.raises(DeliveryError) as caught:
        await connector.send(ch, reply())
    assert caught.value.retryable is False
    assert caught.value.channel_unhealthy is True
    assert caught.value.reason.startswith("SMTP login failed: 535")


async def test_a_4xx_answer_is_retried(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    smtp_server.handler.refuse_rcpt = "451 4.7.1 Greylisted, please try again later"
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel(smtp_server.config()), reply())
    assert caught.value.retryable is True
    assert caught.value.recipient_unreachable is False
    assert caught.value.reason == \
        "recipient refused: 451 4.7.1 Greylisted, please try again later"


async def test_a_5xx_answer_is_permanent_with_the_servers_reply(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    smtp_server.handler.refuse_rcpt = "550 5.1.1 <jane.doe@example.org>: Recipient unknown"
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel(smtp_server.config()), reply())
    assert caught.value.retryable is False
    assert caught.value.recipient_unreachable is True
    assert caught.value.reason == \
        "recipient refused: 550 5.1.1 <jane.doe@example.org>: Recipient unknown"


async def test_a_5xx_after_data_is_permanent(
    connector: EmailConnector, smtp_server: SmtpServer,
) -> None:
    smtp_server.handler.refuse_data = "554 5.7.1 Message rejected as spam"
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel(smtp_server.config()), reply())
    assert caught.value.retryable is False
    assert caught.value.reason == "SMTP server answered 554 5.7.1 Message rejected as spam"


async def test_an_unreachable_server_is_retried(connector: EmailConnector) -> None:
    from tests.connectors.email.smtp_server import free_port

    smtp = {"host": "127.0.0.1", "port": free_port(), "security": "plain"}
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel(smtp), reply())
    assert caught.value.retryable is True
    assert caught.value.reason.startswith("SMTP server unreachable:")


async def test_an_attachment_url_on_an_internal_address_is_refused_for_good(
    connector: EmailConnector, smtp_server: SmtpServer, origin: OriginServer,
) -> None:
    message = reply(attachments=(OutboundAttachment(url=f"{origin.url}/files/meta",
                                                    filename="meta.txt"),))
    with pytest.raises(DeliveryError, match="loopback") as caught:
        await connector.send(channel(smtp_server.config()), message)
    assert caught.value.retryable is False
    assert origin.seen == []
    assert smtp_server.received == []


async def test_attachment_urls_are_fetched_guarded_and_counted_while_they_stream(
    connector: EmailConnector, smtp_server: SmtpServer, origin: OriginServer,
) -> None:
    connector.fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    origin.files["label"] = (b"%PDF-1.4 label", "application/pdf")
    fine = reply(attachments=(OutboundAttachment(url=f"{origin.url}/files/label"),))
    await connector.send(channel(smtp_server.config()), fine)
    (part,) = list(smtp_server.received[0].message.iter_attachments())
    assert (part.get_content_type(), part.get_content()) == ("application/pdf",
                                                             b"%PDF-1.4 label")
    # An endless body stops at the mail's attachment budget instead of filling memory.
    endless = reply(attachments=(OutboundAttachment(url=f"{origin.url}/stream"),))
    with pytest.raises(DeliveryError, match="attachments exceed") as caught:
        await connector.send(channel(smtp_server.config()), endless)
    assert caught.value.retryable is False
    assert connector.fetcher.open_clients == 0
    assert len(smtp_server.received) == 1


async def test_a_redirect_to_an_internal_address_is_not_followed(
    connector: EmailConnector, smtp_server: SmtpServer, origin: OriginServer,
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "files.example" else [host]

    connector.fetcher = GuardedFetcher(FetchPolicy.parse("files.example"), resolver=resolve)
    inside = f"http://127.0.0.1:{origin.port}/files/meta"
    message = reply(attachments=(OutboundAttachment(
        url=f"http://files.example:{origin.port}/redirect?to={inside}"),))
    with pytest.raises(DeliveryError, match="loopback"):
        await connector.send(channel(smtp_server.config()), message)
    assert origin.seen == [f"/redirect?to={inside}"]
