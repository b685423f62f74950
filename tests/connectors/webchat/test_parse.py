"""Stored web-chat events in → exact items out; every handled kind has a fixture."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import (
    ActionEvent,
    Attachment,
    IdentityHint,
    InboundItem,
    InboundMessage,
    RawEvent,
    StatusUpdate,
)
from connectors.webchat.connector import WebchatConnector
from connectors.webchat.parse import HANDLERS, IGNORED, UnsupportedEventKind

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webchat"
CHANNEL = "wc-chan-1"
CONFIG = {"allowed_origins": ["https://shop.example"],
          "identity_secret": "site-identity-secret-0123456789", "email_channel_id": None}
RECEIVED = datetime(2026, 11, 22, 18, 20, tzinfo=UTC)
VISITOR = "v_Qm9iIGlzIGEgdmlzaXRvcg"


def raw(payload: bytes, config: dict[str, object] | None = None) -> RawEvent:
    return RawEvent(id=1, channel_id=CHANNEL, external_event_id="e-1", payload=payload,
                    content_type="application/json", received_at=RECEIVED,
                    channel_config=CONFIG if config is None else config)


def parse_fixture(name: str, config: dict[str, object] | None = None) -> list[InboundItem]:
    return WebchatConnector().parse(raw((FIXTURES / f"{name}.json").read_bytes(), config))


EXPECTED: dict[str, list[InboundItem]] = {
    "choice__survey_star": [ActionEvent(
        channel_id=CHANNEL, external_user_id=VISITOR,
        action_id="csat:17:4:1a2b3c4:Jx0Lr3nQm2Vd8cYp",
        data="csat:17:4:1a2b3c4:Jx0Lr3nQm2Vd8cYp",
        at=datetime(2026, 11, 22, 18, 16, 30, tzinfo=UTC))],
    "message__anonymous": [InboundMessage(
        channel_id=CHANNEL, external_user_id=VISITOR,
        external_message_id=f"{VISITOR}/c_5f2b9a0e1d3c4b7a8e6f",
        sent_at=datetime(2026, 11, 22, 18, 4, 5, 123000, tzinfo=UTC),
        text="Hi! Is the blue kettle back in stock?", user_verified=False,
        meta={"client_message_id": "c_5f2b9a0e1d3c4b7a8e6f"})],
    "message__prechat_email": [InboundMessage(
        channel_id=CHANNEL, external_user_id=VISITOR,
        external_message_id=f"{VISITOR}/c_77aa01b2c3d4e5f60718",
        sent_at=datetime(2026, 11, 22, 18, 6, 40, tzinfo=UTC),
        text="No rush, you can answer by mail.", name="Ada Lovelace",
        hints=(IdentityHint("email", "Ada@Example.com", verified=False),),
        user_verified=False, meta={"client_message_id": "c_77aa01b2c3d4e5f60718"})],
    "message__verified_user": [InboundMessage(
        channel_id=CHANNEL, external_user_id="u:wc-chan-1:42",
        external_message_id="u:wc-chan-1:42/c_0a1b2c3d4e5f60718293",
        sent_at=datetime(2026, 11, 22, 18, 10, tzinfo=UTC),
        text="Where is my order #1009?", name="Ada Lovelace",
        hints=(IdentityHint("email", "ada@example.com", verified=True),),
        user_verified=True, meta={"client_message_id": "c_0a1b2c3d4e5f60718293"})],
    "message__forged_hash": [InboundMessage(
        channel_id=CHANNEL, external_user_id="u:wc-chan-1:42",
        external_message_id="u:wc-chan-1:42/c_ffffeeeeddddccccbbbb",
        sent_at=datetime(2026, 11, 22, 18, 11, tzinfo=UTC),
        text="I am totally user 42.", name="Mallory",
        hints=(IdentityHint("email", "ada@example.com", verified=False),),
        user_verified=False, meta={"client_message_id": "c_ffffeeeeddddccccbbbb"})],
    "message__with_attachment": [InboundMessage(
        channel_id=CHANNEL, external_user_id=VISITOR,
        external_message_id=f"{VISITOR}/c_9988776655443322aabb",
        sent_at=datetime(2026, 11, 22, 18, 12, 30, tzinfo=UTC), text="",
        attachments=(Attachment(
            kind="image", mime_type="image/png", filename="error.png", size=48213,
            url="https://chat.shop.example/webchat/wc-chan-1/files/"
                "f_c2NyZWVuc2hvdC1vZi10aGUtZXJyb3I",
            provider_ref="f_c2NyZWVuc2hvdC1vZi10aGUtZXJyb3I"),),
        user_verified=False, meta={"client_message_id": "c_9988776655443322aabb"})],
    "read__two_replies": [
        StatusUpdate(channel_id=CHANNEL, external_message_id="wc-1041", status="read",
                     at=datetime(2026, 11, 22, 18, 15, 2, tzinfo=UTC)),
        StatusUpdate(channel_id=CHANNEL, external_message_id="wc-1043", status="read",
                     at=datetime(2026, 11, 22, 18, 15, 2, tzinfo=UTC))],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_to_exact_items(name: str) -> None:
    assert parse_fixture(name) == EXPECTED[name]


def test_verified_user_is_unverified_when_the_channel_secret_changed() -> None:
    [message] = parse_fixture("message__verified_user",
                              {**CONFIG, "identity_secret": "rotated-secret-abcdefghijkl"})
    assert isinstance(message, InboundMessage)
    assert message.user_verified is False
    assert message.hints == (IdentityHint("email", "ada@example.com", verified=False),)


def test_unknown_kind_is_a_typed_error() -> None:
    with pytest.raises(UnsupportedEventKind, match="unknown web-chat event kind 'poke'"):
        WebchatConnector().parse(raw(b'{"kind": "poke", "visitor_id": "v_x"}'))


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"no": "kind"}',
                                     b'{"kind": "message", "visitor_id": "v_x"}'])
def test_malformed_event_is_a_value_error(payload: bytes) -> None:
    with pytest.raises(ValueError):
        WebchatConnector().parse(raw(payload))


def test_every_kind_has_a_fixture_and_every_fixture_is_used() -> None:
    fixtures = {p.stem for p in FIXTURES.glob("*.json")}
    assert fixtures == set(EXPECTED), "a fixture without a test, or a test without a fixture"
    kinds_with_fixtures = {name.split("__", 1)[0] for name in fixtures}
    assert set(HANDLERS) | IGNORED <= kinds_with_fixtures
