"""Per-thread tokens a connector embeds so a reply finds its thread (e-mail Reply-To)."""

from __future__ import annotations

import hashlib
import hmac

from router.crypto import derive_key

TOKEN_PREFIX = "token:"


def thread_token(secret_key: str, thread_id: int) -> str:
    mac = hmac.new(derive_key(secret_key, "thread-token"), str(thread_id).encode(),
                   hashlib.sha256).hexdigest()[:12]
    return f"{thread_id}x{mac}"


def thread_from_token(secret_key: str, token: str) -> int | None:
    """The thread id a token names, or None when it was not made by us."""
    head, _, _mac = token.lower().partition("x")
    if not head.isdigit():
        return None
    thread_id = int(head)
    expected = thread_token(secret_key, thread_id)
    return thread_id if hmac.compare_digest(expected, token.lower()) else None
