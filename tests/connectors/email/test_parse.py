# ruff: noqa: RUF001  (the fixtures are real Russian and Japanese mail)
"""Real mail in → exactly these items out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import Ignored, InboundItem, InboundMessage, StatusUpdate
from connectors.email.parse import (
    HANDLERS,
    IGNORED,
    MalformedEmail,
    UnsupportedEmailKind,
    parse_event,
)
from tests.connectors.email.fixtures import CONFIG, fixture_bytes, raw_event

OUR_REPLY = "<omniroute.12.7d1b0c3e5a9f2468@acme.example>"
JANE_FIRST = "<CAHx2dK1tq9Fv0r=fYq4m7sV3JxO0p9yLz5T8nQb1aW@mail.gmail.com>"
JANE_PHONE = "<5E0C2B7A-9D41-4F3B-A6E2-7C1D8B9F0A12@example.org>"
TOKEN_12 = "token:12x3f9a1c0d7e2b"


def summary(item: InboundItem) -> dict[str, Any]:
    """The fields a test pins down; attachments as (kind, type, name, size, part ref, meta)."""
    if isinstance(item, StatusUpdate):
        return {"status": item.status, "external_message_id": item.external_message_id,
                "error": item.error, "at": item.at.isoformat()}
    if isinstance(item, Ignored):
        return {"ignored": item.reason}
    assert isinstance(item, InboundMessage)
    return {
        "external_user_id": item.external_user_id, "name": item.name,
        "external_message_id": item.external_message_id, "sent_at": item.sent_at.isoformat(),
        "text": item.text, "user_verified": item.user_verified, "automatic": item.automatic,
        "thread_refs": item.thread_refs, "reply_to_external_id": item.reply_to_external_id,
        "subject": item.meta["subject"],
        "attachments": [(a.kind, a.mime_type, a.filename, a.size, a.provider_ref,
                         dict(a.meta)) for a in item.attachments],
    }


def message(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"user_verified": False, "automatic": False, "thread_refs": (),
                            "reply_to_external_id": None, "attachments": []}
    return {**base, **fields}


EXPECTED: dict[str, list[dict[str, Any]]] = {
    "message__gmail_new_request": [message(
        external_user_id="jane.doe@example.org", name="Jane Doe",
        external_message_id=JANE_FIRST, sent_at="2025-03-03T09:58:00+00:00",
        text="Hello,\n\nI ordered a kettle on 20 February (order #1234) and it still has not "
             "arrived. The tracking page says \u201cin transit\u201d since last week.\n\n"
             "Could you check what happened?",
        user_verified=True, subject="Order #1234 has not arrived")],
    "message__iphone_reply_with_quote": [message(
        external_user_id="jane.doe@example.org", name="Jane Doe",
        external_message_id=JANE_PHONE, sent_at="2025-03-03T11:39:48+00:00",
        text="Great, thank you! Please send it to my office address instead:\n"
             "Hauptstra\u00dfe 5, 10115 Berlin.",
        thread_refs=(TOKEN_12, OUR_REPLY, JANE_FIRST), reply_to_external_id=OUR_REPLY,
        subject="Re: Order #1234 has not arrived")],
    "message__outlook_html_only_reply": [message(
        external_user_id="k.meier@contoso.example", name="Meier, Klaus",
        external_message_id="<AM6PR05MB6101B3C0E0D8F4A2C1B7A9E3D4C12@AM6PR05MB6101.eurprd05"
                            ".prod.outlook.com>",
        sent_at="2025-03-03T12:15:40+00:00",
        text="I am Jane's colleague \u2013 the delivery address should be our office in "
             "M\u00fcnchen, please.",
        user_verified=True, thread_refs=(TOKEN_12, OUR_REPLY), reply_to_external_id=OUR_REPLY,
        subject="AW: Order #1234 has not arrived")],
    "message__gmail_html_only_reply": [message(
        external_user_id="jane.doe@example.org", name="Jane Doe",
        external_message_id="<CAHx2dK3mR8wZ0q=pL7nV4tY1cX9bA2sD6fG5hJ3kL0@mail.gmail.com>",
        sent_at="2025-03-04T09:30:00+00:00", text="Yes, Friday works for me.\n\nJane",
        user_verified=True,
        thread_refs=(TOKEN_12, "<omniroute.16.2b3c4d5e6f7a8b9c@acme.example>"),
        reply_to_external_id="<omniroute.16.2b3c4d5e6f7a8b9c@acme.example>",
        subject="Re: Delivery on Friday?")],
    "message__koi8r_8bit": [message(
        external_user_id="ivan.petrov@example.ru", name="Иван Петров",
        external_message_id="<2718281741072463@mail.example.ru>",
        sent_at="2025-03-04T07:21:03+00:00",
        text="Здравствуйте!\n\nЗаказ 5678 так и не доставили. Подскажите, пожалуйста, что "
             "случилось.\n\nС уважением,\nИван Петров",
        subject="Не работает доставка")],
    "message__eight_bit_from": [message(
        # Raw Latin-1 bytes in From and Subject, against RFC 5322 but common from old mailers.
        external_user_id="joerg.mueller@example.de", name="J\u00f6rg M\u00fcller",
        external_message_id="<000a01db4312$5c9e1f30$0201a8c0@werkstatt>",
        sent_at="2026-11-30T08:41:02+00:00",
        text="Guten Tag,\n\nmeine Bestellung 5521 ist seit zwei Wochen \u00fcberf\u00e4llig. "
             "Wo bleibt sie?",
        subject="Bestellung 5521 \u00fcberf\u00e4llig")],
    "message__windows1251_base64": [message(
        external_user_id="olga@example.ru", name="Ольга Смирнова",
        external_message_id="<000001db8cd2$6a1b2c30$3e518490$@example.ru>",
        sent_at="2025-03-04T08:02:50+00:00",
        text="Добрый день,\n\nхочу вернуть чайник, он протекает.\n\nОльга",
        subject="Возврат товара")],
    "message__iso2022jp": [message(
        external_user_id="taro.yamada@example.jp", name="山田 太郎",
        external_message_id="<20250304101522.8F3A.TARO@example.jp>",
        sent_at="2025-03-04T01:15:22+00:00",
        text="お世話になっております。\n注文番号9012の配送状況を教えてください。\n\n山田太郎",
        subject="注文について")],
    "message__mislabelled_latin1_utf8": [message(
        external_user_id="bjorn@example.se", name=None,
        external_message_id="<webmail.1741095838.41a7@example.se>",
        sent_at="2025-03-04T13:43:58+00:00",
        text="Hi,\n\nthe caf\u00e9 in Malm\u00f6 ordered 3 kettles, only 2 arrived. Can you "
             "send the missing one?\n\nBj\u00f6rn",
        subject="Missing kettle")],
    "message__unknown_charset": [message(
        external_user_id="kim@example.net", name="Kim Lee",
        external_message_id="<ABC123.kim@example.net>", sent_at="2025-03-05T09:01:07+00:00",
        text="Is the warranty 2 years for the kettle \u2014 or only 1?",
        subject="Warranty question")],
    "message__thunderbird_attachments": [message(
        external_user_id="sam@example.com", name="Sam Carter",
        external_message_id="<8d2c1f0e-3b7a-4c55-9e0f-1a2b3c4d5e6f@example.com>",
        sent_at="2025-03-05T15:30:31+00:00",
        text="Hello,\n\nthe lid of my kettle broke after a week, see the photo:\n\n"
             "The invoice is attached.\n\nSam",
        subject="Broken lid - photo and invoice attached",
        attachments=[
            ("image", "image/png", "lid.png", 70, "part:0",
             {"content_id": "<part1.Yz8xQw2e.Tg5rHj7k@example.com>", "inline": "true"}),
            ("document", "application/pdf", "invoice-1234.pdf", 125, "part:1",
             {"omitted": "larger than the channel's 100-byte cap"}),
        ])],
    "message__no_message_id": [message(
        external_user_id="frontdesk@example.com", name="Front Desk",
        external_message_id="sha256:a49126e0ccd87cceac6f379a63806b5b6e5545e0d85ef54791318cb63b385de4",
        sent_at="2025-03-06T08:00:00+00:00",
        text="Which kettle model fits the KX-200 base?", subject="Kettle model question")],
    "message__forged_auth_results": [message(
        external_user_id="jane.doe@example.org", name="Jane Doe",
        external_message_id="<forged.20250306101158@example.net>",
        sent_at="2025-03-06T10:11:58+00:00",
        text="Please send all my orders to 1 Fake Street from now on.",
        user_verified=False, subject="Change my delivery address")],
    "message__reply_from_other_address": [message(
        external_user_id="jdoe@example.net", name="Jane Doe",
        external_message_id="<a8e1c0d2-77f3-4b1c-8f2e-5d6c7b8a9e0f@example.net>",
        sent_at="2025-03-06T12:29:51+00:00",
        text="This is my work address, the parcel arrived here today. Thanks!",
        user_verified=True,
        thread_refs=(TOKEN_12, "<omniroute.15.0a9b8c7d6e5f4321@acme.example>", JANE_PHONE,
                     OUR_REPLY, JANE_FIRST),
        reply_to_external_id="<omniroute.15.0a9b8c7d6e5f4321@acme.example>",
        subject="Re: Order #1234 has not arrived")],
    "auto_reply__exchange_out_of_office": [message(
        external_user_id="k.meier@contoso.example", name="Meier, Klaus",
        external_message_id="<b1c2d3e4f5a6478899aabbccddeeff00@AM6PR05MB6101.eurprd05.prod"
                            ".outlook.com>",
        sent_at="2025-03-03T10:58:37+00:00",
        text="Ich bin bis 10. M\u00e4rz nicht im B\u00fcro und habe keinen Zugriff auf meine "
             "E-Mails. In dringenden F\u00e4llen wenden Sie sich bitte an office@contoso.example.",
        automatic=True,
        thread_refs=(TOKEN_12, "<omniroute.14.5c4b3a2918f7e6d5@acme.example>"),
        reply_to_external_id="<omniroute.14.5c4b3a2918f7e6d5@acme.example>",
        subject="Automatische Antwort: Order #1234 has not arrived")],
    "auto_reply__vacation_x_autoreply": [message(
        external_user_id="sam@example.com", name="Sam Carter",
        external_message_id="<vacation.1741338003.31337@example.com>",
        sent_at="2025-03-07T09:00:03+00:00",
        text="I am on holiday until Monday and will read your mail when I am back.",
        automatic=True,
        thread_refs=("token:21x9e8d7c6b5a41", "<omniroute.21.1f2e3d4c5b6a7980@acme.example>"),
        reply_to_external_id="<omniroute.21.1f2e3d4c5b6a7980@acme.example>",
        subject="Out of Office: Re: Broken lid - photo and invoice attached")],
    "auto_reply__mailing_list": [message(
        external_user_id="news@lists.example.org", name="Kettle Makers Newsletter",
        external_message_id="<digest.2025-03.kettle-makers@lists.example.org>",
        sent_at="2025-03-07T14:00:00+00:00", text="This month: three new induction bases.",
        automatic=True, subject="[kettle-makers] March digest")],
    "bounce__gmail_dsn_user_unknown": [{
        "status": "failed", "external_message_id": "<omniroute.31.9a8b7c6d5e4f3a2b@acme.example>",
        "error": "no.such.user@example.org: 550-5.1.1 The email account that you tried to "
                 "reach does not exist.",
        "at": "2025-03-03T11:02:09+00:00"}],
    "bounce__postfix_dsn_headers_only": [{
        "status": "failed", "external_message_id": "<omniroute.33.4e5f6a7b8c9d0e1f@acme.example>",
        "error": "ivan.petrov@example.ru: 552 5.2.2 Mailbox is full",
        "at": "2025-03-04T16:20:31+00:00"}],
    "bounce__qmail_classic": [{
        "status": "failed", "external_message_id": "<omniroute.35.6b7c8d9e0f1a2b3c@acme.example>",
        "error": "Sorry, no mailbox here by that name. (#5.1.1)",
        "at": "2025-03-05T12:00:19+00:00"}],
    "bounce__exim_classic": [{
        "status": "failed", "external_message_id": "<omniroute.36.7c8d9e0f1a2b3c4d@acme.example>",
        "error": "550 5.7.1 Recipient address rejected: Access denied",
        "at": "2025-03-05T17:45:03+00:00"}],
    "delivered__dsn_relayed": [{
        "status": "delivered",
        "external_message_id": "<omniroute.21.1f2e3d4c5b6a7980@acme.example>",
        "error": None, "at": "2025-03-06T17:00:02+00:00"}],
    "read_receipt__thunderbird_mdn": [{
        "status": "read", "external_message_id": "<omniroute.21.1f2e3d4c5b6a7980@acme.example>",
        "error": None, "at": "2025-03-07T08:14:08+00:00"}],
    "delivery_delay__postfix_dsn": [{"ignored": "a delivery delay report (not yet a failure)"}],
    "feedback_report__arf_abuse": [{"ignored": "an abuse/feedback report (for the postmaster)"}],
    "own_mail__copy_to_self": [{"ignored": "our own mail"}],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_to_exactly(name: str) -> None:
    items = parse_event(raw_event(fixture_bytes(name)))
    assert [summary(item) for item in items] == EXPECTED[name]


def test_every_item_belongs_to_the_channel_of_the_event() -> None:
    for name in EXPECTED:
        for item in parse_event(raw_event(fixture_bytes(name))):
            assert item.channel_id == "ch_email"


def test_meta_keeps_subject_ids_and_addresses() -> None:
    (item,) = parse_event(raw_event(fixture_bytes("message__reply_from_other_address")))
    assert isinstance(item, InboundMessage)
    assert dict(item.meta) == {
        "subject": "Re: Order #1234 has not arrived",
        "message_id": "<a8e1c0d2-77f3-4b1c-8f2e-5d6c7b8a9e0f@example.net>",
        "from": ["jdoe@example.net"],
        "to": ["support+t12x3f9a1c0d7e2b@acme.example"],
        "cc": [], "reply_to": [],
        "in_reply_to": ["<omniroute.15.0a9b8c7d6e5f4321@acme.example>"],
        "references": [JANE_FIRST, OUR_REPLY, JANE_PHONE,
                       "<omniroute.15.0a9b8c7d6e5f4321@acme.example>"],
        "html_only": False, "quote_stripped": True, "authenticated_by": ["dkim"],
    }


def test_automatic_mail_says_why_in_meta() -> None:
    (item,) = parse_event(raw_event(fixture_bytes("auto_reply__exchange_out_of_office")))
    assert isinstance(item, InboundMessage)
    assert item.meta["automatic_reason"] == "Auto-Submitted: auto-generated"


def test_verification_needs_the_channels_trusted_authserv_id() -> None:
    untrusting = {**CONFIG, "authserv_id": "mx.elsewhere.example"}
    (item,) = parse_event(raw_event(fixture_bytes("message__gmail_new_request"), untrusting))
    assert isinstance(item, InboundMessage)
    assert item.user_verified is False
    no_id = {**CONFIG, "authserv_id": ""}
    (item,) = parse_event(raw_event(fixture_bytes("message__gmail_new_request"), no_id))
    assert isinstance(item, InboundMessage)
    assert item.user_verified is False


def test_thread_token_only_counts_on_our_own_address() -> None:
    other_channel = {**CONFIG, "address": "help@acme.example"}
    (item,) = parse_event(raw_event(fixture_bytes("message__iphone_reply_with_quote"),
                                    other_channel))
    assert isinstance(item, InboundMessage)
    assert item.thread_refs == (OUR_REPLY, JANE_FIRST)


def test_a_report_of_an_unknown_type_is_refused_with_its_name() -> None:
    raw = fixture_bytes("feedback_report__arf_abuse").replace(
        b"report-type=feedback-report", b"report-type=x-vendor-stats")
    with pytest.raises(UnsupportedEmailKind, match="report:x-vendor-stats"):
        parse_event(raw_event(raw))


def test_a_mail_without_any_sender_is_malformed() -> None:
    raw = b"To: support@acme.example\r\nSubject: hello\r\nMessage-ID: <a@b.example>\r\n\r\nhi\r\n"
    with pytest.raises(MalformedEmail, match="names no sender"):
        parse_event(raw_event(raw))


def test_the_date_header_missing_falls_back_to_reception_time() -> None:
    raw = b"From: a@example.com\r\nTo: support@acme.example\r\nSubject: x\r\n\r\nhi\r\n"
    (item,) = parse_event(raw_event(raw))
    assert item.sent_at == datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def test_handled_and_ignored_kinds_do_not_overlap() -> None:
    assert not set(HANDLERS) & set(IGNORED)
