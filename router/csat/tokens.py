"""Signed CSAT tokens: a button's id (case + score) and an e-mail link's token (case).

Both carry an expiry and an HMAC over what they say, so a forged or altered score is refused
and nothing needs to be stored to check them. Button ids stay within Telegram's 64-byte
`callback_data` limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

BUTTON_PREFIX = "csat:"


def _sign(secret_key: str, message: str) -> str:
    digest = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode().rstrip("=")


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def expiry(ttl_seconds: float, now: float | None = None) -> int:
    return int((now if now is not None else time.time()) + ttl_seconds)


def button_id(secret_key: str, case_id: int, score: int, expires: int) -> str:
    body = f"{case_id}:{score}:{_b36(expires)}"
    return f"{BUTTON_PREFIX}{body}:{_sign(secret_key, 'button:' + body)}"


def looks_like_button(value: str) -> bool:
    """Shaped like our survey button (case:score:expiry:signature); an agent's own button id
    that merely starts with "csat:" stays an ordinary action."""
    return value.startswith(BUTTON_PREFIX) and value.count(":") == 4


def read_button(secret_key: str, value: str, now: float | None = None) -> tuple[int, int] | None:
    """(case id, score) of a genuine, unexpired button id; None for anything else."""
    if not value.startswith(BUTTON_PREFIX):
        return None
    parts = value[len(BUTTON_PREFIX):].split(":")
    if len(parts) != 4:
        return None
    case, score, expires, signature = parts
    body = f"{case}:{score}:{expires}"
    if not hmac.compare_digest(signature, _sign(secret_key, "button:" + body)):
        return None
    try:
        case_id, score_value, until = int(case), int(score), int(expires, 36)
    except ValueError:
        return None
    if until < (now if now is not None else time.time()) or not 1 <= score_value <= 5:
        return None
    return case_id, score_value


def link_token(secret_key: str, case_id: int, expires: int) -> str:
    body = f"{case_id}.{_b36(expires)}"
    return f"{body}.{_sign(secret_key, 'link:' + body)}"


class Expired(Exception):
    """A genuine token whose time is up."""


def read_link(secret_key: str, token: str, now: float | None = None) -> int | None:
    """The case id of a genuine link token (Expired if its time is up); None if forged."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    case, expires, signature = parts
    if not hmac.compare_digest(signature, _sign(secret_key, f"link:{case}.{expires}")):
        return None
    try:
        case_id, until = int(case), int(expires, 36)
    except ValueError:
        return None
    if until < (now if now is not None else time.time()):
        raise Expired(f"this rating link expired at {until}")
    return case_id
