"""Reading real-world MIME without crashing: headers, charsets, the shown body, attachments."""

from __future__ import annotations

import codecs
import email
import email.header
import email.utils
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from typing import Literal

from connectors.base import Attachment

# Charsets mail clients declare that Python does not know by that name.
CHARSET_ALIASES = {
    "x-unknown": "utf-8", "unknown-8bit": "utf-8", "x-user-defined": "windows-1252",
    "ansi_x3.4-1968": "ascii", "ks_c_5601-1987": "cp949", "x-mac-cyrillic": "mac-cyrillic",
    "gb2312": "gb18030", "gbk": "gb18030", "iso-8859-8-i": "iso-8859-8",
    "utf8": "utf-8", "cp-850": "cp850", "windows-874": "cp874",
}
# Labels so often put on UTF-8 bytes by careless senders that valid UTF-8 wins over them.
MISLABEL_PRONE = {"ascii", "us-ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252",
                  "cp1252"}


def parse_bytes(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def header(message: Message, name: str) -> str:
    """One header as readable text; malformed encoded-words fall back to the raw value, and
    raw 8-bit bytes (against RFC 5322, yet common: `From: J\xf6rg`) are read as text."""
    raw = _raw_header(message, name)
    if raw is not None and _has_eight_bit(raw):
        return " ".join(_decode_words(_eight_bit(raw, message)).split())
    try:
        value = message.get(name)
    except Exception:  # the default policy's header parsers raise on some broken headers
        value = _decode_words(raw) if raw is not None else None
    if value is None:
        return ""
    return " ".join(str(value).split())


def headers(message: Message, name: str) -> list[str]:
    """Every occurrence of a header, as readable text."""
    out: list[str] = []
    for key, raw_value in message.raw_items():
        if key.lower() == name.lower():
            if _has_eight_bit(raw_value):
                raw_value = _eight_bit(raw_value, message)
            out.append(" ".join(_decode_words(raw_value).split()))
    return out


def _raw_header(message: Message, name: str) -> str | None:
    lowered = name.lower()
    for key, raw_value in message.raw_items():
        if key.lower() == lowered:
            return raw_value
    return None


def _has_eight_bit(value: str) -> bool:
    # The parser keeps each byte it could not decode as a surrogate escape (U+DC80-U+DCFF).
    return not value.isascii() and any("\udc80" <= char <= "\udcff" for char in value)


def _eight_bit(value: str, message: Message) -> str:
    """A header's raw 8-bit bytes as text: UTF-8 when they are, else the charset the body
    declares, else Windows-1252 (what such senders nearly always mean)."""
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return decode_text(data, _body_charset(message) or "windows-1252")


def _body_charset(message: Message) -> str | None:
    for part in leaf_parts(message):
        charset = part.get_content_charset()
        if charset and charset.lower() not in {"us-ascii", "ascii", "utf-8", "utf8"}:
            return str(charset)
    return None


def _decode_words(value: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:  # undecodable encoded-words: show them as they are
        return value


def addresses(message: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs from address headers, malformed ones skipped."""
    values = [v for name in names for v in headers(message, name)]
    pairs = email.utils.getaddresses(values)
    return [(n, a.strip().lower()) for n, a in pairs if "@" in a]


def message_ids(value: str) -> list[str]:
    """The `<id>` tokens of a Message-ID / In-Reply-To / References value, in order."""
    out: list[str] = []
    for token in value.replace(">", "> ").split():
        token = token.strip(",;")
        if token.startswith("<") and token.endswith(">") and len(token) > 2 and "@" in token:
            out.append(token)
    return out


def decode_text(payload: bytes, declared: str | None) -> str:
    """Bytes of a text part as str under any declared, unknown or wrong charset; never raises."""
    label = (declared or "us-ascii").strip().strip('"').lower()
    label = CHARSET_ALIASES.get(label, label)
    if label in MISLABEL_PRONE:
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("windows-1252", errors="replace")
    try:
        codecs.lookup(label)
        return payload.decode(label)
    except (LookupError, UnicodeDecodeError):
        pass
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("windows-1252", errors="replace")


def part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    return decode_text(payload, part.get_content_charset())


def html_to_text(html: str) -> str:
    # Imported on first use: inscriptis brings lxml (~4 MB per worker), which a deployment
    # without e-mail channels never needs.
    from inscriptis import get_text

    text: str = get_text(html)
    return text.strip()


@dataclass(frozen=True, slots=True)
class Body:
    text: str
    html: bool


def shown_body(message: EmailMessage) -> Body:
    """The text the sender wrote: the plain part, else the HTML part made readable."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        if message.get_content_maintype() == "text":
            part = message
        else:
            return Body("", html=False)
    text = part_text(part)
    if part.get_content_subtype() == "html":
        return Body(html_to_text(text), html=True)
    return Body(text.replace("\r\n", "\n").strip(), html=False)


AttachmentKind = Literal["image", "audio", "video", "document"]
KIND_BY_MAINTYPE: dict[str, AttachmentKind] = {"image": "image", "audio": "audio", "video": "video"}


# An attachment's place among the mail's attachment parts: the file is cut from the stored
# original when an agent asks for it, so the bytes are kept once (in the raw event), not twice.
PART_REF = "part:"


def attachments(message: EmailMessage, max_bytes: int) -> tuple[Attachment, ...]:
    """Attachments and inline images; those over `max_bytes` are listed but not served."""
    out: list[Attachment] = []
    for part in attachment_parts(message):
        out.append(_attachment(part, max_bytes, f"{PART_REF}{len(out)}"))
    return tuple(out)


def attachment_parts(message: EmailMessage) -> list[Message]:
    """The parts `attachments()` describes, in the same order."""
    body_parts: set[int] = set()
    try:
        for pref in (("plain",), ("html",)):
            body = message.get_body(preferencelist=pref)
            if body is not None:
                body_parts.add(id(body))
    except Exception:
        pass
    out: list[Message] = []
    for part in leaf_parts(message):
        if id(part) in body_parts:
            continue
        if part.get_content_type() in {"text/plain", "text/html"} and not part.get_filename() \
                and part.get_content_disposition() != "attachment":
            continue
        out.append(part)
    return out


def attachment_bytes(raw: bytes, ref: str) -> tuple[Message, bytes] | None:
    """The part an attachment's `provider_ref` names in the original mail, with its bytes."""
    if not ref.startswith(PART_REF) or not ref[len(PART_REF):].isdigit():
        return None
    index = int(ref[len(PART_REF):])
    parts = attachment_parts(parse_bytes(raw))
    if index >= len(parts):
        return None
    return parts[index], _part_bytes(parts[index])


def leaf_parts(message: Message) -> list[Message]:
    """Non-multipart parts in order; an attached message/* stays one part, not opened up."""
    if message.get_content_maintype() == "message" or not message.is_multipart():
        return [message]
    out: list[Message] = []
    payload = message.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, Message):
            out.extend(leaf_parts(sub))
    return out


def _part_bytes(part: Message) -> bytes:
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0].as_bytes(policy=policy.SMTP)
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _attachment(part: Message, max_bytes: int, ref: str) -> Attachment:
    mime_type = part.get_content_type()
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    data = _part_bytes(part)
    kind = KIND_BY_MAINTYPE.get(part.get_content_maintype(), "document")
    meta: dict[str, str] = {}
    content_id = part.get("Content-ID")
    if content_id:
        meta["content_id"] = str(content_id).strip()
    if part.get_content_disposition() == "inline":
        meta["inline"] = "true"
    if len(data) > max_bytes:
        meta["omitted"] = f"larger than the channel's {max_bytes}-byte cap"
    return Attachment(kind=kind, mime_type=mime_type, filename=filename, size=len(data),
                      provider_ref=ref, meta=meta)
