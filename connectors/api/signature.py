"""HMAC-SHA256 request signing, used in both directions of the API channel."""

from __future__ import annotations

import hashlib
import hmac
import time

MAX_AGE_SECONDS = 300
TIMESTAMP_HEADER = "X-Omniroute-Timestamp"
SIGNATURE_HEADER = "X-Omniroute-Signature"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def check(secret: str, timestamp: str | None, given: str | None, body: bytes,
          now: float | None = None) -> str | None:
    """None when the request is authentic and fresh, else the reason it is not."""
    if not timestamp or not given:
        return f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required"
    if not timestamp.isdigit():
        return f"{TIMESTAMP_HEADER} must be unix seconds"
    age = (now if now is not None else time.time()) - int(timestamp)
    if abs(age) > MAX_AGE_SECONDS:
        return "the request is older than 5 minutes (or from the future); sign it again"
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), given.encode()):
        return "the signature does not match the body"
    return None
