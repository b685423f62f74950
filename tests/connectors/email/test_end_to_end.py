"""Through a running omniroute: mail in, acknowledgement and agent reply out over SMTP, the
customer's reply from their phone back into the same thread, auto-replies and bounces."""

from __future__ import annotations

from tests.connectors.email.fixtures import fixture_bytes
from tests.connectors.email.flow import (
    by_external_id,
    deliver,
    email_channel,
    fixture,
    messages,
    post_mail,
    thread_of,
    token_of,
)
from tests.connectors.email.smtp_server import SmtpServer
from tests.omni import OmniServer

JANE = "jane.doe@example.org"
JANE_FIRST = "<CAHx2dK1tq9Fv0r=fYq4m7sV3JxO0p9yLz5T8nQb1aW@mail.gmail.com>"


async def test_mail_ack_agent_reply_and_phone_reply_make_one_thread(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server)
    await deliver(omni, channel, fixture("message__gmail_new_request"))

    # The customer learns at once that the mail arrived, in the same conversation.
    (ack,) = smtp_server.received
    assert ack.rcpt_tos == [JANE]
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["Subject"] == "Re: Order #1234 has not arrived"
    assert ack.message["In-Reply-To"] == JANE_FIRST
    assert ack.message.get_body(("plain",)).get_content().strip() == \
        "We got your mail and answer within 4 hours."
    token = token_of(ack.message["Reply-To"])

    thread = await thread_of(omni, JANE)
    response = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                      json={"text": "Hello Jane,\n\nit leaves today."})
    assert response.status_code in (200, 201), response.text
    await omni.settle()
    agent = smtp_server.received[1].message
    assert agent["Auto-Submitted"] == "no"
    assert agent["In-Reply-To"] == JANE_FIRST
    assert agent["References"] == JANE_FIRST
    assert agent["Reply-To"] == f"Acme Support <support+t{token}@acme.example>"
    stored = await messages(omni, thread["id"])
    assert by_external_id(stored, agent["Message-ID"])["status"] == "sent"

    # Jane answers from her phone, quoting us; her mail app chains the headers.
    await deliver(omni, channel, fixture(
        "message__iphone_reply_with_quote",
        In_Reply_To=agent["Message-ID"],
        References=f"{JANE_FIRST} {agent['Message-ID']}",
        To=f"Acme Support <support+t{token}@acme.example>"))
    assert len(smtp_server.received) == 2  # the thread was open: no second acknowledgement
    assert (await thread_of(omni, JANE))["id"] == thread["id"]
    stored = await messages(omni, thread["id"])
    assert sorted((m["direction"], m["automatic"]) for m in stored) == [
        ("inbound", False), ("inbound", False), ("outbound", False), ("outbound", True)]
    phone = by_external_id(stored, "<5E0C2B7A-9D41-4F3B-A6E2-7C1D8B9F0A12@example.org>")
    assert phone["text"] == ("Great, thank you! Please send it to my office address "
                             "instead:\nHauptstra\u00dfe 5, 10115 Berlin.")
    raw = await omni.client.get(f"/v1/messages/{phone['id']}/raw")
    assert b"the parcel was returned to our warehouse" in raw.content

    # The next agent reply answers the phone mail and carries the whole chain.
    await omni.client.post(f"/v1/threads/{thread['id']}/messages", json={"text": "Done."})
    await omni.settle()
    last = smtp_server.received[2].message
    assert last["In-Reply-To"] == "<5E0C2B7A-9D41-4F3B-A6E2-7C1D8B9F0A12@example.org>"
    chain = last["References"].split()
    # The phone mail's own References, then (depending on which came first by the clock)
    # our acknowledgement, then the phone mail itself as the parent.
    assert chain[:2] == [JANE_FIRST, agent["Message-ID"]]
    assert chain[-1] == "<5E0C2B7A-9D41-4F3B-A6E2-7C1D8B9F0A12@example.org>"
    assert set(chain[2:-1]) <= {ack.message["Message-ID"]}


async def test_an_out_of_office_reply_to_our_acknowledgement_does_not_loop(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server, ack_interval_minutes=0)
    await deliver(omni, channel, fixture("message__outlook_html_only_reply",
                                         In_Reply_To="", References=""))
    (ack,) = smtp_server.received
    token = token_of(ack.message["Reply-To"])
    thread = await thread_of(omni, "k.meier@contoso.example")
    await omni.client.patch(f"/v1/threads/{thread['id']}", json={"status": "resolved"})

    await deliver(omni, channel, fixture(
        "auto_reply__exchange_out_of_office", In_Reply_To=ack.message["Message-ID"],
        References=ack.message["Message-ID"],
        To=f"Acme Support <support+t{token}@acme.example>"))
    assert len(smtp_server.received) == 1  # no acknowledgement of the acknowledgement
    assert (await thread_of(omni, "k.meier@contoso.example"))["status"] == "resolved"
    stored = await messages(omni, thread["id"])
    ooo = by_external_id(stored, "<b1c2d3e4f5a6478899aabbccddeeff00@AM6PR05MB6101.eurprd05"
                                 ".prod.outlook.com>")
    assert ooo["automatic"] is True
    assert ooo["text"].startswith("Ich bin bis 10. M\u00e4rz nicht im B\u00fcro")

    # A person writing again reopens the thread and, with no interval, is acknowledged again.
    await deliver(omni, channel, fixture(
        "message__outlook_html_only_reply", Message_ID="<second@contoso.example>",
        In_Reply_To="", References=""))
    assert (await thread_of(omni, "k.meier@contoso.example"))["status"] == "open"
    assert len(smtp_server.received) == 2


async def test_a_reply_from_another_address_joins_the_thread_as_a_suggestion(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server)
    await deliver(omni, channel, fixture("message__gmail_new_request"))
    token = token_of(smtp_server.received[0].message["Reply-To"])
    thread = await thread_of(omni, JANE)

    await deliver(omni, channel, fixture(
        "message__reply_from_other_address", In_Reply_To="", References="",
        To=f"Acme Support <support+t{token}@acme.example>"))
    stored = await messages(omni, thread["id"])
    reply = by_external_id(stored, "<a8e1c0d2-77f3-4b1c-8f2e-5d6c7b8a9e0f@example.net>")
    assert reply["text"] == "This is my work address, the parcel arrived here today. Thanks!"
    work = (await omni.client.get("/v1/customers", params={"q": "jdoe@example.net"})).json()
    (other,) = work["items"]
    suggestions = (await omni.client.get(f"/v1/customers/{other['id']}/suggestions")).json()
    assert suggestions  # an agent decides; nothing was linked on our own authority
    assert (await thread_of(omni, JANE))["customer_id"] != other["id"]


async def test_a_bounce_marks_our_mail_failed_and_creates_no_customer(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server, ack_template="")
    await deliver(omni, channel, fixture("message__gmail_new_request"))
    thread = await thread_of(omni, JANE)
    await omni.client.post(f"/v1/threads/{thread['id']}/messages", json={"text": "Hi Jane"})
    await omni.settle()
    (sent,) = smtp_server.received
    bounce = fixture_bytes("bounce__gmail_dsn_user_unknown").replace(
        b"<omniroute.31.9a8b7c6d5e4f3a2b@acme.example>", sent.message["Message-ID"].encode())
    await deliver(omni, channel, bounce)

    ours = by_external_id(await messages(omni, thread["id"]), sent.message["Message-ID"])
    assert ours["status"] == "failed"
    assert ours["error"] == ("no.such.user@example.org: 550-5.1.1 The email account "
                                   "that you tried to reach does not exist.")
    daemon = (await omni.client.get("/v1/customers",
                                    params={"q": "mailer-daemon@googlemail.com"})).json()
    assert daemon["items"] == []


async def test_the_webhook_refuses_without_the_channels_secret(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server)
    raw = fixture_bytes("message__gmail_new_request")
    missing = await omni.client.post(f"/webhooks/email/{channel['id']}", content=raw,
                                     headers={"Content-Type": "message/rfc822"})
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    wrong = await post_mail(omni, channel, raw, secret="not-the-secret")
    assert wrong.status_code == 401
    json_body = await post_mail(omni, channel, b'{"text": "hi"}', content_type="application/json")
    assert json_body.status_code == 415
    empty = await post_mail(omni, channel, b"   ")
    assert empty.status_code == 422
    unknown = await omni.client.post("/webhooks/email/ch_nope", content=raw,
                                     headers={"Authorization": "Bearer x"})
    assert unknown.status_code == 404


async def test_the_same_mail_twice_is_stored_once(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server)
    raw = fixture("message__koi8r_8bit")
    first = await post_mail(omni, channel, raw)
    again = await post_mail(omni, channel, raw)
    assert first.status_code == again.status_code == 200
    assert first.json()["external_event_id"] == "<2718281741072463@mail.example.ru>"
    await omni.settle()
    thread = await thread_of(omni, "ivan.petrov@example.ru")
    stored = await messages(omni, thread["id"])
    assert [m["direction"] for m in stored] == ["inbound", "outbound"]


async def test_secrets_are_write_only(omni: OmniServer, smtp_server: SmtpServer) -> None:
    smtp = {**smtp_server.config(), "password": "smtp-secret"}
    channel = await email_channel(omni, smtp_server, smtp=smtp)
    shown = (await omni.client.get(f"/v1/channels/{channel['id']}")).json()
    assert sorted(shown["secrets_set"]) == ["imap_password", "inbound_secret", "smtp_password"]
    assert "smtp-secret" not in str(shown)
    assert "password" not in shown["config"]["smtp"]


async def test_attachments_are_downloadable_and_oversized_ones_say_why(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server, max_attachment_bytes=100)
    await deliver(omni, channel, fixture("message__thunderbird_attachments"))
    thread = await thread_of(omni, "sam@example.com")
    (inbound,) = [m for m in await messages(omni, thread["id"]) if m["direction"] == "inbound"]
    image, invoice = inbound["attachments"]
    # The file is cut from the stored mail on request: the message carries no second copy.
    assert image["url"] is None and "base64" not in str(inbound)
    got = await omni.client.get(f"/v1/attachments/{image['id']}")
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/png"
    assert got.content.startswith(b"\x89PNG\r\n")
    assert len(got.content) == image["size"] == 70
    refused = await omni.client.get(f"/v1/attachments/{invoice['id']}")
    assert refused.status_code == 502
    assert "larger than the channel's 100-byte cap" in refused.json()["detail"]
