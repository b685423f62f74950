"""Visitor tokens and the site's identity hash.

A visitor token is `v1.<payload>.<mac>` (base64url): the payload names the channel and the
visitor, the MAC is HMAC-SHA256 under `gateway.signing_key("webchat-visitor")`. The channel id
is inside the MAC, so a token minted for one channel is refused by every other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from connectors.webchat.schemas import StoredUser

TOKEN_VERSION = "v1"
SIGNING_PURPOSE = "webchat-visitor"
# A visitor coming back after a year is still the same visitor; older tokens start afresh.
MAX_TOKEN_AGE_SECONDS = 400 * 24 * 3600


class InvalidToken(ValueError):
    """The token is malformed, forged, expired or minted for another channel."""


@dataclass(frozen=True, slots=True)
class Visitor:
    channel_id: str
    visitor_id: str
    issued_at: int
    # Present only when the site's identity hash checked out when the token was issued.
    user: StoredUser | None = None

    @property
    def verified(self) -> bool:
        return self.user is not None


def new_visitor_id() -> str:
    """Ours and random, so one id is one visitor across every channel."""
    return "v_" + secrets.token_urlsafe(18)


def verified_visitor_id(channel_id: str, user_id: str) -> str:
    """A site's user ids are only unique on that site, hence scoped by the channel."""
    return f"u:{channel_id}:{user_id}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, f"{TOKEN_VERSION}.{payload}".encode(), hashlib.sha256).digest())


def issue(key: bytes, visitor: Visitor) -> str:
    body: dict[str, object] = {"c": visitor.channel_id, "v": visitor.visitor_id,
                               "iat": visitor.issued_at}
    if visitor.user is not None:
        body["u"] = visitor.user.model_dump(exclude_none=True)
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{TOKEN_VERSION}.{payload}.{_mac(key, payload)}"


def verify(key: bytes, token: str, channel_id: str, now: float | None = None) -> Visitor:
    """The visitor the token names, or InvalidToken saying why not."""
    version, _, rest = token.partition(".")
    payload, _, mac = rest.partition(".")
    if version != TOKEN_VERSION or not payload or not mac:
        raise InvalidToken("not a web-chat visitor token")
    if not hmac.compare_digest(_mac(key, payload).encode(), mac.encode()):
        raise InvalidToken("the token's signature does not match")
    try:
        body = json.loads(_unb64(payload))
        visitor = Visitor(channel_id=str(body["c"]), visitor_id=str(body["v"]),
                          issued_at=int(body["iat"]),
                          user=StoredUser.model_validate(body["u"]) if "u" in body else None)
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken("the token's payload is unreadable") from exc
    if visitor.channel_id != channel_id:
        raise InvalidToken("the token belongs to another channel")
    current = time.time() if now is None else now
    if current - visitor.issued_at > MAX_TOKEN_AGE_SECONDS:
        raise InvalidToken("the token has expired")
    return visitor


def identity_hash(identity_secret: str, user_id: str) -> str:
    """What the site's backend computes: hex HMAC-SHA256(identity secret, user_id)."""
    return hmac.new(identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def identity_hash_valid(identity_secret: str, user_id: str, given: str) -> bool:
    expected = identity_hash(identity_secret, user_id)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())
