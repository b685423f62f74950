"""The connector boundary: text no encoder accepts becomes U+FFFD, clean items pass untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.base import Attachment, IdentityHint, Ignored, InboundMessage, StatusUpdate
from router.ingest.clean import clean_items
from router.text import clean_text, clean_value

RECEIVED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _message(**fields: object) -> InboundMessage:
    base: dict[str, object] = {
        "channel_id": "ch", "external_user_id": "42", "external_message_id": "m1",
        "sent_at": RECEIVED - timedelta(minutes=5), "text": "Grüße, where is order 7?",
        "name": "Jörg", "meta": {"entities": [{"type": "url"}], "subject": "Bestellung"}}
    base.update(fields)
    return InboundMessage(**base)  # type: ignore[arg-type]


def test_clean_items_are_passed_on_as_they_are() -> None:
    items = [_message(), StatusUpdate("ch", "m0", "read", RECEIVED), Ignored("ch", "bounce")]
    cleaned = clean_items(items, RECEIVED)
    assert all(new is old for new, old in zip(cleaned, items, strict=True))


def test_every_text_of_a_message_is_repaired() -> None:
    dirty = _message(
        text="hi\ud800 there\x00", name="J\udcf6rg",
        attachments=(Attachment(kind="document", filename="inv\udcfcice.pdf",
                                meta={"caption": "\udfff"}),),
        hints=(IdentityHint("email", "a\ud800@example.org", verified=False),),
        thread_refs=("<x\ud800@y>",), meta={"entities": [{"type": "u\ud800rl"}],
                                             "k\ud800": ("v",)})
    (item,) = clean_items([dirty], RECEIVED)
    assert isinstance(item, InboundMessage)
    assert (item.text, item.name) == ("hi\ufffd there\ufffd", "J\ufffdrg")
    assert item.attachments[0].filename == "inv\ufffdice.pdf"
    assert item.attachments[0].meta == {"caption": "\ufffd"}
    assert item.hints[0].value == "a\ufffd@example.org"
    assert item.thread_refs == ("<x\ufffd@y>",)
    assert item.meta == {"entities": [{"type": "u\ufffdrl"}], "k\ufffd": ("v",)}
    assert item.external_message_id == "m1"


def test_a_surrogate_pair_written_in_halves_is_one_character() -> None:
    assert clean_text("ok \ud83d\ude00 \ud83d") == "ok \U0001f600 \ufffd"
    assert clean_text("plain") == "plain"
    assert clean_value({"a": ["b", 1, None, True]}) == {"a": ["b", 1, None, True]}


def test_a_message_is_never_later_than_its_receipt() -> None:
    (item,) = clean_items([_message(sent_at=RECEIVED + timedelta(hours=3))], RECEIVED)
    assert isinstance(item, InboundMessage)
    assert item.sent_at == RECEIVED
