"""Captured Telegram updates in → exactly these items out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import (
    ActionEvent,
    Attachment,
    IdentityHint,
    InboundItem,
    InboundMessage,
    MessageEdit,
    RawEvent,
    ReachabilityChange,
    Unreadable,
)
from connectors.telegram.connector import TelegramConnector
from connectors.telegram.parse import UnsupportedUpdateKind
from tests.connectors.telegram.fixtures import fixture_bytes

CHANNEL = "ch_tg"
USER = "5120934412"
RECEIVED = datetime(2025, 11, 22, 12, 0, tzinfo=UTC)
PROFILE = {"username": "amelia_k", "language_code": "en"}


def raw(payload: bytes) -> RawEvent:
    return RawEvent(id=1, channel_id=CHANNEL, external_event_id="1", payload=payload,
                    content_type="application/json", received_at=RECEIVED)


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def msg(message_id: int, ts: int, content: str, text: str = "",
        attachments: tuple[Attachment, ...] = (), **extra: Any) -> InboundMessage:
    meta = {"content_type": content, **PROFILE, **extra.pop("meta", {})}
    return InboundMessage(
        channel_id=CHANNEL, external_user_id=USER, external_message_id=f"{USER}:{message_id}",
        sent_at=at(ts), text=text, attachments=attachments, name="Amelia Kovač",
        user_verified=True, meta=meta, **extra)


PHOTO_ID = "AgACAgIAAxkBAAIEEGdAbc1xYz9aQk1sZs3pN0b7vTqWAAJX4DEbmzcISqkd9b7QyxUVAQADAgADeQADNgQ"
ALBUM_1 = "AgACAgIAAxkBAAIEJGdAcH8Yc2lCaZ1t3W7OFBd5Zp8uAAKc4DEbmzcISpM2ZxGiT1oyAQADAgADeQADNgQ"
ALBUM_2 = "AgACAgIAAxkBAAIEJWdAcH-BbQk1eG1kJgABZ7b0fXJqEwACneAxG5s3CEoXc5Uu1tTQ8gEAAwIAA3kAAzYE"
GROUP = "13845526470418265"

EXPECTED: dict[str, list[InboundItem]] = {
    "message__start_command": [msg(1020, 1763805590, "text", "/start", meta={
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]})],
    "message__text": [msg(
        1021, 1763805600, "text",
        "Hi! My order #48213 hasn't arrived. Tracking: https://track.example.com/48213",
        meta={"entities": [{"type": "url", "offset": 46, "length": 31}]})],
    "message__reply": [msg(1030, 1763806200, "text", "Sure, one moment",
                           reply_to_external_id=f"{USER}:1027")],
    "message__forwarded": [msg(
        1031, 1763806260, "text", "Your parcel is at the depot, pick up after 5pm",
        meta={"forward_origin": {"type": "user", "date": 1763790000, "sender_user": {
            "id": 6233001122, "is_bot": False, "first_name": "Marko",
            "username": "marko_courier"}}})],
    "message__forwarded_hidden_user": [msg(
        1032, 1763806270, "text", "Closed on Sundays",
        meta={"forward_origin": {"type": "hidden_user", "date": 1763791000,
                                 "sender_user_name": "Depot Nord"}})],
    "message__photo": [msg(
        1040, 1763806500, "photo", "The label is torn, see the bottom left",
        (Attachment(kind="image", mime_type="image/jpeg", size=104533, provider_ref=PHOTO_ID,
                    meta={"file_unique_id": "AQADV-AxG5s3CEp-", "width": 1280,
                          "height": 960}),),
        meta={"entities": [{"type": "bold", "offset": 27, "length": 11}]})],
    "message__document": [msg(1041, 1763806560, "document", "", (Attachment(
        kind="document", mime_type="application/pdf", filename="invoice-48213.pdf", size=48211,
        provider_ref="BQACAgIAAxkBAAIEEWdAbc4PHFpNsWFieXE-adpyR_JHAALtXAACmzcISm9z2fEMd2zdNgQ",
        meta={"file_unique_id": "AgAD7VwAApsnCEo"}),))],
    "message__audio": [msg(1042, 1763806620, "audio", "", (Attachment(
        kind="audio", mime_type="audio/mpeg", filename="hold-music.mp3", size=2991840,
        provider_ref="CQACAgIAAxkBAAIEEmdAbdBGWz8vXl0dUQb1R9RoVdE0AAL0XAACmzcISnrq0e9Tb8wZNgQ",
        meta={"file_unique_id": "AgAD9FwAApsnCEo", "duration": 187,
              "performer": "Acme Call Centre", "title": "Hold Music"}),))],
    "message__voice": [msg(1043, 1763806680, "voice", "", (Attachment(
        kind="voice", mime_type="audio/ogg", size=24377,
        provider_ref="AwACAgIAAxkBAAIEE2dAbdKy0Rm0wI3fI2h1c7lBqfcSAAL2XAACmzcISlpC2gABRhmXXjYE",
        meta={"file_unique_id": "AgAD9lwAApsnCEo", "duration": 6}),))],
    "message__video": [msg(1044, 1763806740, "video", "It rattles", (Attachment(
        kind="video", mime_type="video/mp4", filename="unboxing.mp4", size=3145211,
        provider_ref="BAACAgIAAxkBAAIEFGdAbdWScR40tJEOJR1KTnCd69LxAAL3XAACmzcISqkAAQ6eZuXYNgQ",
        meta={"file_unique_id": "AgAD91wAApsnCEo", "duration": 14, "width": 720,
              "height": 1280}),))],
    "message__video_note": [msg(1045, 1763806800, "video_note", "", (Attachment(
        kind="video", mime_type="video/mp4", size=611238,
        provider_ref="DQACAgIAAxkBAAIEFWdAbdhnCtnu1DJ6lnPMxdx77dYyAAL4XAACmzcISifLjkO69mb0NgQ",
        meta={"file_unique_id": "AgAD-FwAApsnCEo", "duration": 9, "length": 384,
              "video_note": True}),))],
    "message__sticker": [msg(1046, 1763806860, "sticker", "", (Attachment(
        kind="sticker", mime_type="application/x-tgsticker", size=7290,
        provider_ref="CAACAgIAAxkBAAIEFmdAbdyumtBeW9ctLWZNnAAB7HPUOQACBQADwDZPE_lqX5qCa011NgQ",
        meta={"file_unique_id": "AgADBQADwDZPEw", "emoji": "👍",
              "set_name": "HotCherry"}),))],
    "message__animation": [msg(1047, 1763806920, "animation", "", (Attachment(
        kind="animation", mime_type="video/mp4", filename="waiting.gif.mp4", size=119863,
        provider_ref="CgACAgQAAxkBAAIEF2dAbeCdM3tYkEjD8rQzOgRWcDvHAAKXAwACs5m0UuY3dmx1nEg9NgQ",
        meta={"file_unique_id": "AgADlwMAArOZtFI", "duration": 3, "width": 320,
              "height": 240}),))],
    "message__location": [msg(1048, 1763806980, "location", "", (Attachment(
        kind="location", meta={"latitude": 45.813177, "longitude": 15.977048,
                               "horizontal_accuracy": 14.2}),))],
    "message__venue": [msg(1049, 1763807040, "venue", "", (Attachment(
        kind="location", meta={"latitude": 45.804521, "longitude": 15.978713,
                               "title": "Glavni kolodvor",
                               "address": "Trg kralja Tomislava 12, Zagreb",
                               "google_place_id": "ChIJ-8d5Yk7WZUcR2Aq1bKxq0zE"}),))],
    "message__contact_own": [msg(
        1050, 1763807100, "contact", "",
        (Attachment(kind="contact", meta={"phone_number": "385912345678",
                                          "first_name": "Amelia", "last_name": "Kovač",
                                          "user_id": 5120934412}),),
        hints=(IdentityHint(kind="phone", value="385912345678", verified=True),))],
    "message__contact_other": [msg(1051, 1763807160, "contact", "", (Attachment(
        kind="contact", meta={
            "phone_number": "+385 1 4800 555", "first_name": "Marko", "last_name": "Horvat",
            "vcard": "BEGIN:VCARD\nVERSION:3.0\nN:Horvat;Marko;;;\nFN:Marko Horvat\n"
                     "TEL;TYPE=CELL:+385 1 4800 555\nEND:VCARD"}),))],
    "message__album_first": [msg(
        1060, 1763807400, "photo", "Both sides of the box",
        (Attachment(kind="image", mime_type="image/jpeg", size=98144, provider_ref=ALBUM_1,
                    meta={"file_unique_id": "AQADnOAxG5s3CEp-", "width": 1280,
                          "height": 959}),),
        part_of=GROUP, meta={"media_group_id": GROUP})],
    "message__album_second": [msg(
        1061, 1763807400, "photo", "",
        (Attachment(kind="image", mime_type="image/jpeg", size=101376, provider_ref=ALBUM_2,
                    meta={"file_unique_id": "AQADneAxG5s3CEp-", "width": 1280,
                          "height": 959}),),
        part_of=GROUP, meta={"media_group_id": GROUP})],
    "message__dice": [msg(1062, 1763807520, "dice", "[Telegram dice: not shown here]")],
    "message__pinned_service": [],
    "message__group_chat": [],
    "edited_message__text": [MessageEdit(
        channel_id=CHANNEL, external_message_id=f"{USER}:1021",
        text="Hi! My order #48214 hasn't arrived. Tracking: https://track.example.com/48214",
        edited_at=at(1763805720))],
    "edited_message__caption": [MessageEdit(
        channel_id=CHANNEL, external_message_id=f"{USER}:1040",
        text="The label is torn, see the top right", edited_at=at(1763806610))],
    "edited_message__live_location": [],
    "callback_query__button": [ActionEvent(
        channel_id=CHANNEL, external_user_id=USER, action_id="2199501776433410151",
        data="csat:5", at=RECEIVED, external_message_id=f"{USER}:1070")],
    "my_chat_member__kicked": [ReachabilityChange(
        channel_id=CHANNEL, external_user_id=USER, reachable=False, at=at(1763808600))],
    "my_chat_member__member": [ReachabilityChange(
        channel_id=CHANNEL, external_user_id=USER, reachable=True, at=at(1763809200))],
    "my_chat_member__group_added": [],
    "channel_post__text": [],
    # Older or newer Bot API shapes aiogram's strict model refuses: read leniently.
    "message__sticker_without_file_unique_id": [
        msg(1070, 1763808300, "sticker", "[sticker \u2014 could not be read]",
            meta={"unreadable": ["sticker"]}),
        Unreadable(CHANNEL, "Telegram message read leniently; invalid: "
                            "message.sticker.file_unique_id (missing), "
                            "message.sticker.is_video (missing), message.sticker.type (missing)")],
    "message__poll_without_new_fields": [
        msg(1071, 1763808360, "poll", "[poll \u2014 could not be read]",
            meta={"unreadable": ["poll"]}),
        Unreadable(CHANNEL, "Telegram message read leniently; invalid: "
                            "message.poll.allows_revoting (missing), "
                            "message.poll.members_only (missing), "
                            "message.poll.options.0.persistent_id (missing), "
                            "message.poll.options.1.persistent_id (missing), "
                            "message.poll.options.2.persistent_id (missing)")],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_to_exactly(name: str) -> None:
    assert TelegramConnector().parse(raw(fixture_bytes(name))) == EXPECTED[name]


def test_unknown_update_kind_is_a_typed_error() -> None:
    payload = json.dumps({"update_id": 9, "guest_query": {"id": "1"}}).encode()
    with pytest.raises(UnsupportedUpdateKind, match="'guest_query'"):
        TelegramConnector().parse(raw(payload))


@pytest.mark.parametrize("payload, error", [
    (b"not json", "must be JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"update_id": 1}', "exactly one kind"),
    (b'{"update_id": 1, "message": {"message_id": "x"}}', "invalid Telegram message update"),
])
def test_malformed_updates_are_value_errors(payload: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        TelegramConnector().parse(raw(payload))


def test_a_caption_survives_beside_the_placeholder_and_the_reply_is_kept() -> None:
    update = json.loads(fixture_bytes("message__sticker_without_file_unique_id"))
    body = update["message"]
    body["caption"] = "this is how I feel about the delay"
    # A quoted message the model refuses as well: the quote is still linked.
    body["reply_to_message"] = {"message_id": 1069, "date": 1763808200, "chat": body["chat"],
                                "sticker": {"file_id": "x"}}
    del body["from"]["is_bot"]
    (message, report) = TelegramConnector().parse(raw(json.dumps(update).encode()))
    assert isinstance(message, InboundMessage) and isinstance(report, Unreadable)
    assert message.text == ("this is how I feel about the delay\n"
                            "[sticker \u2014 could not be read]")
    assert message.reply_to_external_id == f"{USER}:1069"
    assert (message.external_user_id, message.name) == (USER, "Amelia Kova\u010d")
    assert "message.from.is_bot (missing)" in report.reason


def test_when_not_even_the_sender_can_be_read_the_error_names_the_fields() -> None:
    update = json.loads(fixture_bytes("message__sticker_without_file_unique_id"))
    del update["message"]["from"]["id"]
    with pytest.raises(ValueError) as refused:
        TelegramConnector().parse(raw(json.dumps(update).encode()))
    assert str(refused.value) == (
        "invalid Telegram message update: message.from.id (missing), "
        "message.sticker.file_unique_id (missing), message.sticker.is_video (missing), "
        "message.sticker.type (missing)")

