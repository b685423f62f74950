"""A Telegram message's content → our attachments (file handles stay at Telegram)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.types import Message

from connectors.base import Attachment


def _photo(message: Message) -> Attachment | None:
    if not message.photo:
        return None
    # Telegram lists the sizes smallest first; agents want the full picture.
    largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
    return Attachment(kind="image", mime_type="image/jpeg", size=largest.file_size,
                      provider_ref=largest.file_id,
                      meta={"file_unique_id": largest.file_unique_id, "width": largest.width,
                            "height": largest.height})


def _document(message: Message) -> Attachment | None:
    # An animation also carries a `document` copy for old clients; the animation wins.
    if message.document is None or message.animation is not None:
        return None
    doc = message.document
    return Attachment(kind="document", mime_type=doc.mime_type, filename=doc.file_name,
                      size=doc.file_size, provider_ref=doc.file_id,
                      meta={"file_unique_id": doc.file_unique_id})


def _audio(message: Message) -> Attachment | None:
    if message.audio is None:
        return None
    audio = message.audio
    meta: dict[str, Any] = {"file_unique_id": audio.file_unique_id, "duration": audio.duration}
    if audio.performer:
        meta["performer"] = audio.performer
    if audio.title:
        meta["title"] = audio.title
    return Attachment(kind="audio", mime_type=audio.mime_type, filename=audio.file_name,
                      size=audio.file_size, provider_ref=audio.file_id, meta=meta)


def _voice(message: Message) -> Attachment | None:
    if message.voice is None:
        return None
    voice = message.voice
    return Attachment(kind="voice", mime_type=voice.mime_type or "audio/ogg",
                      size=voice.file_size, provider_ref=voice.file_id,
                      meta={"file_unique_id": voice.file_unique_id, "duration": voice.duration})


def _video(message: Message) -> Attachment | None:
    if message.video is None:
        return None
    video = message.video
    return Attachment(kind="video", mime_type=video.mime_type, filename=video.file_name,
                      size=video.file_size, provider_ref=video.file_id,
                      meta={"file_unique_id": video.file_unique_id, "duration": video.duration,
                            "width": video.width, "height": video.height})


def _video_note(message: Message) -> Attachment | None:
    if message.video_note is None:
        return None
    note = message.video_note
    # Round video messages are always MPEG-4; Telegram does not repeat that per message.
    return Attachment(kind="video", mime_type="video/mp4", size=note.file_size,
                      provider_ref=note.file_id,
                      meta={"file_unique_id": note.file_unique_id, "duration": note.duration,
                            "length": note.length, "video_note": True})


def _sticker_mime(is_animated: bool, is_video: bool) -> str:
    if is_animated:
        return "application/x-tgsticker"
    return "video/webm" if is_video else "image/webp"


def _sticker(message: Message) -> Attachment | None:
    if message.sticker is None:
        return None
    sticker = message.sticker
    meta: dict[str, Any] = {"file_unique_id": sticker.file_unique_id}
    if sticker.emoji:
        meta["emoji"] = sticker.emoji
    if sticker.set_name:
        meta["set_name"] = sticker.set_name
    return Attachment(kind="sticker", mime_type=_sticker_mime(sticker.is_animated,
                                                              sticker.is_video),
                      size=sticker.file_size, provider_ref=sticker.file_id, meta=meta)


def _animation(message: Message) -> Attachment | None:
    if message.animation is None:
        return None
    anim = message.animation
    return Attachment(kind="animation", mime_type=anim.mime_type, filename=anim.file_name,
                      size=anim.file_size, provider_ref=anim.file_id,
                      meta={"file_unique_id": anim.file_unique_id, "duration": anim.duration,
                            "width": anim.width, "height": anim.height})


def _location(message: Message) -> Attachment | None:
    # A venue carries its own location too; the venue attachment already has it.
    if message.location is None or message.venue is not None:
        return None
    loc = message.location
    meta: dict[str, Any] = {"latitude": loc.latitude, "longitude": loc.longitude}
    if loc.horizontal_accuracy is not None:
        meta["horizontal_accuracy"] = loc.horizontal_accuracy
    if loc.live_period is not None:
        meta["live_period"] = loc.live_period
    return Attachment(kind="location", meta=meta)


def _venue(message: Message) -> Attachment | None:
    if message.venue is None:
        return None
    venue = message.venue
    meta: dict[str, Any] = {"latitude": venue.location.latitude,
                            "longitude": venue.location.longitude,
                            "title": venue.title, "address": venue.address}
    if venue.foursquare_id:
        meta["foursquare_id"] = venue.foursquare_id
    if venue.google_place_id:
        meta["google_place_id"] = venue.google_place_id
    return Attachment(kind="location", meta=meta)


def _contact(message: Message) -> Attachment | None:
    if message.contact is None:
        return None
    contact = message.contact
    meta: dict[str, Any] = {"phone_number": contact.phone_number,
                            "first_name": contact.first_name}
    if contact.last_name:
        meta["last_name"] = contact.last_name
    if contact.user_id is not None:
        meta["user_id"] = contact.user_id
    if contact.vcard:
        meta["vcard"] = contact.vcard
    return Attachment(kind="contact", meta=meta)


# Content kind → reader; a message yields the attachments of every reader that matches.
CONTENT_READERS: dict[str, Callable[[Message], Attachment | None]] = {
    "photo": _photo,
    "document": _document,
    "audio": _audio,
    "voice": _voice,
    "video": _video,
    "video_note": _video_note,
    "sticker": _sticker,
    "animation": _animation,
    "location": _location,
    "venue": _venue,
    "contact": _contact,
}


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    found = (reader(message) for reader in CONTENT_READERS.values())
    return tuple(a for a in found if a is not None)
