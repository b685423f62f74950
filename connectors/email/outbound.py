"""Compose the MIME message of one reply: threading headers, Reply-To token, loop markers."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from connectors.base import OutboundMessage
from connectors.email.mime import message_ids
from connectors.email.tokens import reply_address

SUBJECT_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|fw|fwd|wg|tr|ref|antw)\s*(\[\d+\])?\s*:\s*)+",
                            re.IGNORECASE)
# Mail clients and MTAs cut References that grow without end; keep the root and the newest.
MAX_REFERENCES = 20


def our_message_id(channel_id: str, message_id: int, domain: str) -> str:
    """Our Message-ID for an outbound message: the same on every retry of one message, so a
    send that reached the server before a timeout is a duplicate the recipient's client folds."""
    digest = hashlib.sha256(f"{channel_id}:{message_id}".encode()).hexdigest()[:16]
    return f"<omniroute.{message_id}.{digest}@{domain}>"


def reply_subject(last_inbound_meta: Mapping[str, Any], fallback: str) -> str:
    subject = str(last_inbound_meta.get("subject") or "").strip()
    if not subject:
        return fallback
    return "Re: " + SUBJECT_PREFIX.sub("", subject).strip()


def references(msg: OutboundMessage, parent: str | None) -> list[str]:
    """The chain RFC 5322 asks for: the parent's References, then the parent. Our thread's
    earlier ids from before the parent fill gaps; later ones (our own acknowledgement sent
    after it) are not ancestors of this reply and stay out."""
    history: list[str] = []
    for external_id in msg.history_external_ids:
        history.extend(message_ids(external_id))
    if parent in history:
        history = history[:history.index(parent)]
    chain: list[str] = []
    for value in msg.last_inbound_meta.get("references") or []:
        chain.extend(message_ids(str(value)))
    chain.extend(history)
    unique = [i for i in dict.fromkeys(chain) if i != parent]
    if parent:
        unique.append(parent)
    if len(unique) > MAX_REFERENCES:
        unique = [unique[0], *unique[-(MAX_REFERENCES - 1):]]
    return unique


def text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "".join("<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>"
            f"<body>\n{body}</body></html>\n")


def _first_id(*candidates: str | None) -> str | None:
    for candidate in candidates:
        ids = message_ids(candidate or "")
        if ids:
            return ids[0]
    return None


def compose(
    msg: OutboundMessage, *, channel_id: str, address: str, display_name: str,
    files: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """The reply as a MIME message; `files` are (filename, mime type, bytes) to attach."""
    domain = address.rpartition("@")[2]
    mail = EmailMessage()
    mail["From"] = formataddr((display_name, address)) if display_name else address
    local, _, rdomain = msg.recipient.external_user_id.rpartition("@")
    mail["To"] = Address(display_name=msg.recipient.name or "", username=local, domain=rdomain)
    reply_to = reply_address(address, msg.thread_token)
    mail["Reply-To"] = formataddr((display_name, reply_to)) if display_name else reply_to
    mail["Subject"] = reply_subject(msg.last_inbound_meta,
                                    f"Message from {display_name or address}")
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = our_message_id(channel_id, msg.message_id, domain)
    parent = _first_id(msg.reply_to_external_id, msg.last_inbound_external_id)
    if parent:
        mail["In-Reply-To"] = parent
    chain = references(msg, parent)
    if chain:
        mail["References"] = " ".join(chain)
    # RFC 3834: tell responders what we are, so out-of-office replies to us do not loop.
    mail["Auto-Submitted"] = "auto-replied" if msg.automatic else "no"
    if msg.automatic:
        mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(msg.text)
    mail.add_alternative(text_to_html(msg.text), subtype="html")
    for filename, mime_type, data in files:
        maintype, _, subtype = mime_type.partition("/")
        mail.add_attachment(data, maintype=maintype or "application",
                            subtype=subtype or "octet-stream", filename=filename)
    return mail
