"""Visitor tokens cannot be forged, altered or reused on another channel; identity hashes."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from connectors.webchat.schemas import StoredUser
from connectors.webchat.tokens import (
    MAX_TOKEN_AGE_SECONDS,
    InvalidToken,
    Visitor,
    identity_hash,
    identity_hash_valid,
    issue,
    verify,
)

KEY = hashlib.sha256(b"test key").digest()
NOW = 1_795_000_000


def test_a_token_names_its_visitor_on_its_channel() -> None:
    token = issue(KEY, Visitor("chan-a", "v_abc", NOW))
    assert verify(KEY, token, "chan-a", now=NOW + 60) == Visitor("chan-a", "v_abc", NOW)


def test_a_verified_users_token_carries_the_user() -> None:
    user = StoredUser(user_id="42", identity_hash="ab" * 32, email="ada@example.com")
    token = issue(KEY, Visitor("chan-a", "u:chan-a:42", NOW, user))
    visitor = verify(KEY, token, "chan-a", now=NOW)
    assert visitor.user == user
    assert visitor.verified is True


def test_a_token_of_one_channel_is_refused_on_another() -> None:
    token = issue(KEY, Visitor("chan-a", "v_abc", NOW))
    with pytest.raises(InvalidToken, match="belongs to another channel"):
        verify(KEY, token, "chan-b", now=NOW)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = issue(hashlib.sha256(b"other key").digest(), Visitor("chan-a", "v_abc", NOW))
    with pytest.raises(InvalidToken, match="signature does not match"):
        verify(KEY, token, "chan-a", now=NOW)


def test_an_altered_payload_is_refused() -> None:
    version, payload, mac = issue(KEY, Visitor("chan-a", "v_abc", NOW)).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["v"] = "v_someone_else"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature does not match"):
        verify(KEY, f"{version}.{forged}.{mac}", "chan-a", now=NOW)


@pytest.mark.parametrize("token", ["", "v1", "v1..", "v2.e30.e30", "garbage.with.dots"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify(KEY, token, "chan-a", now=NOW)


def test_an_old_token_has_expired() -> None:
    token = issue(KEY, Visitor("chan-a", "v_abc", NOW))
    verify(KEY, token, "chan-a", now=NOW + MAX_TOKEN_AGE_SECONDS)
    with pytest.raises(InvalidToken, match="expired"):
        verify(KEY, token, "chan-a", now=NOW + MAX_TOKEN_AGE_SECONDS + 1)


def test_identity_hash_is_hex_hmac_sha256_of_the_user_id() -> None:
    # Computed independently: printf 42 | openssl dgst -sha256 -hmac <secret>
    expected = "1c78a6905c787861d049d066a172c3a3444c7059142cb5ee3f5cc62454d85f55"
    assert identity_hash("site-identity-secret-0123456789", "42") == expected


@pytest.mark.parametrize(("user_id", "given", "valid"), [
    ("42", "1c78a6905c787861d049d066a172c3a3444c7059142cb5ee3f5cc62454d85f55", True),
    ("42", "1C78A6905C787861D049D066A172C3A3444C7059142CB5EE3F5CC62454D85F55", True),
    ("43", "1c78a6905c787861d049d066a172c3a3444c7059142cb5ee3f5cc62454d85f55", False),
    ("42", "1c78a6905c787861d049d066a172c3a3444c7059142cb5ee3f5cc62454d85f5", False),
    ("42", "", False),
])
def test_identity_hash_check(user_id: str, given: str, valid: bool) -> None:
    assert identity_hash_valid("site-identity-secret-0123456789", user_id, given) is valid
