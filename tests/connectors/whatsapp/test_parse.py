"""Fixture in → exact items out, for every message type, status and field we know."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import (
    ActionEvent,
    Attachment,
    IdentityHint,
    InboundItem,
    InboundMessage,
    RawEvent,
    StatusUpdate,
    Unreadable,
)
from connectors.whatsapp.connector import WhatsAppConnector
from connectors.whatsapp.parse import UnsupportedWhatsAppEvent
from tests.connectors.whatsapp.fixtures import CHANNEL_ID, raw_event

SHEENA = "16505551234"
SHEENA_HINT = (IdentityHint("phone", "+16505551234", verified=True),)
OUR_MESSAGE = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQ0QkE0RTc4QjE0MjE3MjcA"


def at(hh: int, mm: int, ss: int) -> datetime:
    return datetime(2025, 6, 8, hh, mm, ss, tzinfo=UTC)


def parse(name: str) -> list[InboundItem]:
    return WhatsAppConnector().parse(raw_event(name))


def from_sheena(wamid: str, sent_at: datetime, text: str, meta: dict[str, Any],
                **fields: Any) -> InboundMessage:
    return InboundMessage(channel_id=CHANNEL_ID, external_user_id=SHEENA,
                          external_message_id=wamid, sent_at=sent_at, text=text,
                          name="Sheena Nelson", hints=SHEENA_HINT, user_verified=True,
                          meta=meta, **fields)


def test_text() -> None:
    assert parse("text__basic") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", at(20, 59, 43),
        "Does it come in another color?", {"type": "text"})]


def test_text_quoting_our_message() -> None:
    assert parse("text__reply_context") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQjZDNDQ5RUE5QkY3MEYwRjI0NQA=", at(21, 2, 0),
        "Yes, that one please", {"type": "text"}, reply_to_external_id=OUR_MESSAGE)]


def test_forwarded_text() -> None:
    assert parse("text__forwarded") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUZGNDQ0NEY5MjE0QTlEQjg0NgA=", at(21, 3, 20),
        "Look what my friend sent me", {"type": "text", "forwarded": True})]


def test_image_with_caption() -> None:
    assert parse("image__caption") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTg3QkE2NDlBNUM3Q0U5QjBEQwA=", at(20, 59, 43),
        "The scratch on the lid", {"type": "image"},
        attachments=(Attachment(kind="image", mime_type="image/jpeg",
                                provider_ref="1003383421387256",
                                meta={"sha256": "Q4wyzymk4Xk8HFBxqSTiCTNWvtGWrAq37XzdYqcS9Ow=",
                                      "caption": "The scratch on the lid"}),))]


def test_voice_note() -> None:
    assert parse("audio__voice") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUU5NjU3NEM5MTdBNUQ2QjMwMgA=", at(20, 59, 43), "",
        {"type": "audio"},
        attachments=(Attachment(kind="voice", mime_type="audio/ogg; codecs=opus",
                                provider_ref="1146484637173451",
                                meta={"sha256": "hsDVoaIv6n9ugrUrD2e6bBr8Y+bqzYxomrS6gYgQe2I="}),))]


def test_video() -> None:
    assert parse("video__basic") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUJDNEE3OTRDQTZDMzYwNDY1OAA=", at(20, 59, 43), "",
        {"type": "video"},
        attachments=(Attachment(kind="video", mime_type="video/mp4",
                                provider_ref="1184025886546321",
                                meta={"sha256": "ZyVr1w6sWQwXvyDdMMxbcqR+9j3Y0tqgXtq1iMqnrRc="}),))]


def test_document_keeps_its_filename() -> None:
    assert parse("document__pdf") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTZFQ0RDN0E5N0E4NEQ4RjY0NgA=", at(20, 59, 43),
        "My invoice", {"type": "document"},
        attachments=(Attachment(kind="document", mime_type="application/pdf",
                                filename="invoice-2025-0611.pdf",
                                provider_ref="1217355279335061",
                                meta={"sha256": "lWH4sdyx3/A0l8HdYHRyUXMkxBt2g3xoQ2O1ek3g8Lw=",
                                      "caption": "My invoice"}),))]


def test_animated_sticker() -> None:
    assert parse("sticker__animated") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTY0NjIzNzQ5M0I1MkFEQzlFOQA=", at(20, 59, 43), "",
        {"type": "sticker"},
        attachments=(Attachment(kind="sticker", mime_type="image/webp",
                                provider_ref="1228531782091683",
                                meta={"sha256": "PxI+nLgGzBkJpNJ3e5Ysy0HbN7cNG/f3VGxhhYNuuEY=",
                                      "animated": True}),))]


def test_location() -> None:
    assert parse("location__named") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTQ5MkZERjdGRDQxNDU1RTE0NQA=", at(20, 59, 43),
        "Main store, 1 Hacker Way, Menlo Park, CA 94025", {"type": "location"},
        attachments=(Attachment(kind="location", meta={
            "latitude": 37.483307, "longitude": -122.148981, "name": "Main store",
            "address": "1 Hacker Way, Menlo Park, CA 94025",
            "url": "https://www.example.com/stores/menlo-park"}),))]


def test_shared_contact_is_an_attachment_not_an_identity() -> None:
    assert parse("contacts__card") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTI1RjY5N0Y1NzQ5QzUyNzk1NQA=", at(20, 59, 43), "",
        {"type": "contacts"},
        attachments=(Attachment(kind="contact", meta={
            "name": {"formatted_name": "Barbara J. Johnson", "first_name": "Barbara",
                     "last_name": "Johnson"},
            "phones": [{"phone": "+1 (650) 555-1234", "wa_id": "16505551234", "type": "CELL"}],
            "emails": [{"email": "barbara.johnson@example.com", "type": "WORK"}]}),))]


def test_reply_button_is_a_message_and_an_action() -> None:
    quoted = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDNjA3RTg2NkYzQ0Q2OTY0NTIA"
    assert parse("interactive__button_reply") == [
        from_sheena("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTkyOEZDNUY3NDg1Rjc3QUM4RgA=",
                    at(21, 10, 0), "Very happy",
                    {"type": "interactive", "reply_id": "csat-5", "reply_kind": "button_reply"},
                    reply_to_external_id=quoted),
        ActionEvent(channel_id=CHANNEL_ID, external_user_id=SHEENA, action_id="csat-5",
                    data="Very happy", at=at(21, 10, 0), external_message_id=quoted),
    ]


def test_list_reply() -> None:
    quoted = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJGODNFQkNENkM2NjM2QkEyMzcA"
    assert parse("interactive__list_reply") == [
        from_sheena("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTVGM0YyRDNGOEI3MjhDRjBCQgA=",
                    at(21, 11, 40), "Tuesday 10:00",
                    {"type": "interactive", "reply_id": "slot-tue-10", "reply_kind": "list_reply",
                     "reply_description": "Pick-up at the main store"},
                    reply_to_external_id=quoted),
        ActionEvent(channel_id=CHANNEL_ID, external_user_id=SHEENA, action_id="slot-tue-10",
                    data="Tuesday 10:00", at=at(21, 11, 40), external_message_id=quoted),
    ]


def test_template_quick_reply_button() -> None:
    quoted = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJBQjM3RDYyOUY4NUQ5RDlCMDMA"
    assert parse("button__template_quick_reply") == [
        from_sheena("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUNGOTg2OTJGMzJBNkZDNDQwRgA=",
                    at(21, 13, 20), "Stop promotions",
                    {"type": "button", "reply_id": "STOP_PROMOTIONS",
                     "reply_kind": "template_button"},
                    reply_to_external_id=quoted),
        ActionEvent(channel_id=CHANNEL_ID, external_user_id=SHEENA, action_id="STOP_PROMOTIONS",
                    data="Stop promotions", at=at(21, 13, 20), external_message_id=quoted),
    ]


def test_reaction_refers_to_the_message_reacted_to() -> None:
    assert parse("reaction__added") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTFCRTlCRUIzNzM3NjQ3NDU4MQA=", at(21, 15, 0),
        "\N{THUMBS UP SIGN}",
        {"type": "reaction", "reaction": "\N{THUMBS UP SIGN}", "reaction_removed": False},
        reply_to_external_id=OUR_MESSAGE)]


def test_reaction_taken_back() -> None:
    assert parse("reaction__removed") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTNFNzM3NDQ0QjA1NjVDMTc2NAA=", at(21, 16, 0), "",
        {"type": "reaction", "reaction": "", "reaction_removed": True},
        reply_to_external_id=OUR_MESSAGE)]


def test_unsupported_message_is_kept_with_meta_error() -> None:
    assert parse("unsupported__unknown_type") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ1Q0FBODk4NjM1RkNFMjYyMQA=", at(21, 16, 40), "",
        {"type": "unsupported", "unsupported": True,
         "errors": [{"code": 131051, "title": "Message type unknown",
                     "message": "Message type unknown",
                     "error_data": {"details": "Message type is currently not supported."}}]})]


def test_changed_number_notice_is_automatic() -> None:
    assert parse("system__changed_number") == [from_sheena(
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUE1OEM4NjY5RkNGRkE2QjlDNQA=", at(21, 18, 20),
        "Sheena Nelson changed their phone number to a new number 16505559876",
        {"type": "system", "system": {
            "body": "Sheena Nelson changed their phone number to a new number 16505559876",
            "type": "user_changed_number", "new_wa_id": "16505559876"}},
        automatic=True)]


@pytest.mark.parametrize(("name", "status", "when"), [
    ("status__sent", "sent", at(21, 1, 40)),
    ("status__delivered", "delivered", at(21, 1, 42)),
    ("status__read", "read", at(21, 2, 10)),
])
def test_delivery_statuses(name: str, status: str, when: datetime) -> None:
    assert parse(name) == [StatusUpdate(channel_id=CHANNEL_ID, external_message_id=OUR_MESSAGE,
                                        status=status, at=when)]  # type: ignore[arg-type]


def test_failed_status_carries_metas_code_and_title() -> None:
    assert parse("status__failed") == [StatusUpdate(
        channel_id=CHANNEL_ID,
        external_message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJEOUFBMjU4RTk5QkI1RTQ0MjcA",
        status="failed", at=at(21, 5, 0), error="131026 Message undeliverable")]


def test_batch_of_entries_messages_and_statuses() -> None:
    assert parse("batch__multi_entry") == [
        from_sheena("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQkFUQ0gwMDAwMDAwMDAwMDAxAA==",
                    at(21, 26, 40), "Is my order on its way?", {"type": "text"}),
        InboundMessage(channel_id=CHANNEL_ID, external_user_id="233241234567",
                       external_message_id="wamid.HBgMMjMzMjQxMjM0NTY3FQIAEhgUM0JBVENIMDAwMDAwMDAwMDAwMgA=",
                       sent_at=at(21, 26, 41), text="Hello, do you deliver to Accra?",
                       name="Kofi Mensah",
                       hints=(IdentityHint("phone", "+233241234567", verified=True),),
                       meta={"type": "text"}),
        StatusUpdate(channel_id=CHANNEL_ID, external_message_id=OUR_MESSAGE, status="delivered",
                     at=at(21, 26, 42)),
    ]


@pytest.mark.parametrize("name", [
    "errors__system_level",          # account-level error: no customer to attach it to
    "template_status__approved",     # a field other than `messages`
    "request_welcome__first_open",   # the chat was opened, nothing written yet
    "text__other_number",            # another phone number of the same app
])
def test_produces_nothing(name: str) -> None:
    assert parse(name) == []


def test_unknown_message_type_is_refused_by_name() -> None:
    event = raw_event("text__basic")
    event = replace(event, payload=event.payload.replace(b'"type": "text"', b'"type": "order"'))
    with pytest.raises(UnsupportedWhatsAppEvent, match="message type 'order' is not supported"):
        WhatsAppConnector().parse(event)


def test_unknown_field_is_refused_by_name() -> None:
    event = raw_event("template_status__approved")
    event = replace(event, payload=event.payload.replace(b"message_template_status_update",
                                                         b"brand_new_field"))
    with pytest.raises(UnsupportedWhatsAppEvent, match="field 'brand_new_field' is not supported"):
        WhatsAppConnector().parse(event)


def _batch_with(bad_message: dict[str, Any], bad_status: dict[str, Any]) -> RawEvent:
    event = raw_event("batch__multi_entry")
    notification = json.loads(event.payload)
    notification["entry"][0]["changes"][0]["value"]["messages"].insert(1, bad_message)
    notification["entry"][1]["changes"][0]["value"]["statuses"].insert(0, bad_status)
    return replace(event, payload=json.dumps(notification).encode())


def test_one_bad_item_is_reported_and_the_others_of_the_notification_land() -> None:
    items = WhatsAppConnector().parse(_batch_with(
        {"from": SHEENA, "id": "wamid.BAD1", "timestamp": "1749418000", "type": "order",
         "order": {"catalog_id": "1"}},
        {"id": "wamid.BAD2", "status": "delivered"}))
    messages = [i for i in items if isinstance(i, InboundMessage)]
    assert [m.text for m in messages] == ["Is my order on its way?",
                                          "Hello, do you deliver to Accra?"]
    assert [i.status for i in items if isinstance(i, StatusUpdate)] == ["delivered"]
    assert [i.reason for i in items if isinstance(i, Unreadable)] == [
        "WhatsApp message wamid.BAD1: WhatsApp message type 'order' is not supported "
        "(message wamid.BAD1)",
        "WhatsApp status wamid.BAD2: timestamp (missing)"]


def test_a_notification_with_nothing_readable_still_fails_whole() -> None:
    event = raw_event("text__basic")
    event = replace(event, payload=event.payload.replace(b'"timestamp": "1749416383",', b""))
    with pytest.raises(ValueError, match=r"message wamid\..*: timestamp \(missing\)"):
        WhatsAppConnector().parse(event)
