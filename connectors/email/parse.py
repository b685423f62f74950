"""One stored RFC 5322 message → InboundMessage, or a StatusUpdate for a bounce/receipt.

Handlers are keyed by the kind `classify` gives a mail; known kinds we deliberately drop are
listed in IGNORED; a kind nobody handles raises UnsupportedEmailKind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from typing import Any

from connectors.base import (
    DeliveryStatus,
    Ignored,
    InboundItem,
    InboundMessage,
    RawEvent,
    StatusUpdate,
)
from connectors.email.auth_results import passing_methods
from connectors.email.classify import Report, automatic_reason, daemon_sender, report
from connectors.email.mime import (
    addresses,
    attachments,
    header,
    headers,
    message_ids,
    parse_bytes,
    shown_body,
)
from connectors.email.quotes import strip_quoted
from connectors.email.tokens import THREAD_REF_PREFIX, tokens_in

DEFAULT_MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
# Where a reply to our plus-addressed Reply-To may show the address it was sent to.
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


class UnsupportedEmailKind(ValueError):
    """A mail of a kind this connector has no handler for."""


class MalformedEmail(ValueError):
    """A mail that cannot become a message (no sender at all); kept by the core as failed."""


def event_id(raw: bytes) -> str:
    """The dedupe key of a raw mail: its Message-ID, else a hash of the bytes."""
    parsed = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    ids = message_ids(str(parsed.get("Message-ID", "")))
    return ids[0] if ids else content_id(raw)


def content_id(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class Mail:
    """A parsed mail with the channel facts its reading depends on."""

    def __init__(self, raw: RawEvent) -> None:
        self.raw = raw
        self.message: EmailMessage = parse_bytes(raw.payload)
        self.config: Mapping[str, Any] = raw.channel_config
        self.own_address = str(self.config.get("address", "")).lower()
        self.report: Report | None = None

    @property
    def external_id(self) -> str:
        ids = message_ids(header(self.message, "Message-ID"))
        return ids[0] if ids else content_id(self.raw.payload)

    def sender(self) -> tuple[str, str]:
        for name in ("From", "Sender", "Reply-To", "Return-Path"):
            found = addresses(self.message, name)
            if found:
                return found[0]
        raise MalformedEmail("the mail names no sender (no usable From, Sender or Return-Path)")

    def sent_at(self) -> datetime:
        try:
            when = parsedate_to_datetime(header(self.message, "Date"))
        except (TypeError, ValueError, IndexError):
            return self.raw.received_at
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC)


def kind_of(mail: Mail) -> str:
    mail.report = report(mail.message)
    if mail.report is not None:
        return mail.report.kind
    own_local, _, own_domain = mail.own_address.partition("@")
    sender = addresses(mail.message, "From")
    if sender:
        local, _, domain = sender[0][1].partition("@")
        if domain == own_domain and local.split("+")[0] == own_local:
            return "own_mail"
    if daemon_sender(mail.message) is not None:
        return "system_mail"
    return "auto_reply" if automatic_reason(mail.message) else "message"


def _thread_refs(mail: Mail) -> tuple[str, ...]:
    """Thread tokens from our plus-addresses first (signed by the core), then the Message-IDs
    this mail answers, nearest first: In-Reply-To, then References from newest to oldest."""
    refs: list[str] = []
    recipients = [addr for _n, addr in addresses(mail.message, *RECIPIENT_HEADERS)]
    for token in tokens_in(recipients, mail.own_address):
        refs.append(THREAD_REF_PREFIX + token)
    refs.extend(message_ids(header(mail.message, "In-Reply-To")))
    refs.extend(reversed(message_ids(header(mail.message, "References"))))
    return tuple(dict.fromkeys(refs))


def _meta(mail: Mail, extra: dict[str, Any]) -> dict[str, Any]:
    msg = mail.message
    return {
        "subject": header(msg, "Subject"),
        "message_id": header(msg, "Message-ID"),
        "from": [a for _n, a in addresses(msg, "From")],
        "to": [a for _n, a in addresses(msg, "To")],
        "cc": [a for _n, a in addresses(msg, "Cc")],
        "reply_to": [a for _n, a in addresses(msg, "Reply-To")],
        "in_reply_to": message_ids(header(msg, "In-Reply-To")),
        "references": message_ids(header(msg, "References")),
        **extra,
    }


def _inbound(mail: Mail, automatic: str | None) -> list[InboundItem]:
    name, address = mail.sender()
    body = shown_body(mail.message)
    text, stripped = strip_quoted(body.text)
    methods = passing_methods(headers(mail.message, "Authentication-Results"),
                              str(mail.config.get("authserv_id", "")), address)
    cap = int(mail.config.get("max_attachment_bytes", DEFAULT_MAX_ATTACHMENT_BYTES))
    in_reply_to = message_ids(header(mail.message, "In-Reply-To"))
    extra: dict[str, Any] = {"html_only": body.html, "quote_stripped": stripped,
                             "authenticated_by": methods}
    if automatic:
        extra["automatic_reason"] = automatic
    return [InboundMessage(
        channel_id=mail.raw.channel_id,
        external_user_id=address,
        external_message_id=mail.external_id,
        sent_at=mail.sent_at(),
        text=text,
        attachments=attachments(mail.message, cap),
        reply_to_external_id=in_reply_to[0] if in_reply_to else None,
        name=name.strip() or None,
        user_verified=bool(methods),
        automatic=automatic is not None,
        # A machine's mail is shown to a customer's agents, never the start of a customer.
        creates_customer=automatic is None,
        thread_refs=_thread_refs(mail),
        meta=_meta(mail, extra),
    )]


def _customer_message(mail: Mail) -> list[InboundItem]:
    return _inbound(mail, None)


def _automatic_message(mail: Mail) -> list[InboundItem]:
    return _inbound(mail, automatic_reason(mail.message))


def _status(status: DeliveryStatus) -> Callable[[Mail], list[InboundItem]]:
    def handle(mail: Mail) -> list[InboundItem]:
        assert mail.report is not None
        if mail.report.original_message_id is None:
            # A report about mail we cannot identify changes nothing; it never becomes a
            # customer. It is kept, marked ignored, saying so.
            return [Ignored(mail.raw.channel_id, f"{mail.report.kind} about mail this "
                                                 "channel cannot identify")]
        return [StatusUpdate(
            channel_id=mail.raw.channel_id,
            external_message_id=mail.report.original_message_id,
            status=status,
            at=mail.sent_at(),
            error=mail.report.reason if status == "failed" else None,
        )]
    return handle


HANDLERS: dict[str, Callable[[Mail], list[InboundItem]]] = {
    "message": _customer_message,
    "auto_reply": _automatic_message,
    "bounce": _status("failed"),
    "delivered": _status("delivered"),
    "read_receipt": _status("read"),
}
# Known kinds that change nothing: a delay is not yet a failure, an abuse report is for the
# postmaster, our own mail coming back (Cc to ourselves, a copy in the inbox) is no customer,
# and neither is a mail system writing (mailer-daemon, postmaster) about anything else.
IGNORED = {
    "delivery_delay": "a delivery delay report (not yet a failure)",
    "feedback_report": "an abuse/feedback report (for the postmaster)",
    "own_mail": "our own mail",
    "system_mail": "mail from a mail system, not a person",
}


def parse_event(raw: RawEvent) -> list[InboundItem]:
    mail = Mail(raw)
    kind = kind_of(mail)
    if kind in IGNORED:
        reason = IGNORED[kind]
        if kind == "system_mail":
            reason = f"{reason} ({daemon_sender(mail.message)})"
        return [Ignored(raw.channel_id, reason)]
    handler = HANDLERS.get(kind)
    if handler is None:
        raise UnsupportedEmailKind(f"no handler for e-mail kind {kind!r}")
    return handler(mail)
