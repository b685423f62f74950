"""The messages the bench sends: signed API-channel requests, as wrk lines or for a client."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from connectors.api.signature import signed_headers


@dataclass(frozen=True)
class Target:
    """Where one webhook lives and how to sign for it."""

    kind: str  # "api" (signed) | "telegram" (secret token) | "baseline" (API body, unsigned)
    channel_id: str
    secret: str

    @property
    def path(self) -> str:
        if self.kind == "telegram":
            return f"/webhooks/telegram/{self.channel_id}"
        return f"/v1/channels/{self.channel_id}/inbound"


def message_key(tag: str, i: int) -> str:
    """The first word of message i's text: how a client finds it on the event stream."""
    return f"{tag}-m{i}"


def message_body(tag: str, i: int, users: int) -> bytes:
    """Message i of a run from one of `users` senders, the same senders in every run on a
    channel: after the warm-up, messages go to customers and threads that exist."""
    user = i % users
    return json.dumps({
        "external_user_id": f"u{user}", "external_message_id": message_key(tag, i),
        "name": f"Customer {user}", "text": f"{message_key(tag, i)} Hello, about order {user}.",
    }, separators=(",", ":")).encode()


def telegram_update(tag: str, i: int, users: int) -> bytes:
    """The same message as a Telegram update (private chat; the same senders in every run)."""
    base = int(hashlib.sha256(tag.encode()).hexdigest()[:5], 16) * 1_000_000
    user = 10_000_000 + i % users
    return json.dumps({
        "update_id": base + i,
        "message": {
            "message_id": base + i, "date": int(time.time()),
            "from": {"id": user, "is_bot": False, "first_name": f"Customer {i % users}"},
            "chat": {"id": user, "type": "private", "first_name": f"Customer {i % users}"},
            "text": f"{message_key(tag, i)} Hello, about order {i % users}.",
        },
    }, separators=(",", ":")).encode()


def request(target: Target, tag: str, i: int, users: int,
            now: float | None = None) -> tuple[dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if target.kind == "telegram":
        headers["X-Telegram-Bot-Api-Secret-Token"] = target.secret
        return headers, telegram_update(tag, i, users)
    body = message_body(tag, i, users)
    if target.kind == "api":
        headers.update(signed_headers(target.secret, body, now))
    return headers, body


def write_wrk_lines(path: Path, target: Target, tag: str, count: int, users: int) -> None:
    """Pre-signed requests for wrk (signatures stay valid for 5 minutes)."""
    now = time.time()
    with path.open("w") as out:
        for i in range(count):
            headers, body = request(target, tag, i, users, now)
            fields = [f"{k}: {v}" for k, v in headers.items() if k != "Content-Type"]
            out.write("\t".join([*fields, body.decode()]) + "\n")
