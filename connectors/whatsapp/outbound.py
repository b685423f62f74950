"""One agent reply → the Cloud API message bodies that deliver it, in order."""

from __future__ import annotations

from typing import Any

from connectors.base import DeliveryError, OutboundAttachment, OutboundMessage

MAX_TEXT = 4096
# Captions and interactive bodies are shorter than plain text (Cloud API reference).
MAX_CAPTION = 1024
MAX_INTERACTIVE_BODY = 1024
MAX_REPLY_BUTTONS = 3
MAX_LIST_ROWS = 10
BUTTON_TITLE = 20
ROW_TITLE = 24
LIST_BUTTON_LABEL = "Choose"
# Interactive messages need a body; an agent who sent buttons alone still gets a prompt.
DEFAULT_PROMPT = "Please choose an option."
CAPTIONED = frozenset({"image", "video", "document"})


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, cut at natural breaks; empty parts dropped."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        # Prefer a paragraph break, then a line break, then a space; each only when it
        # leaves the part at least half full.
        cut = next((at for at in (window.rfind(sep) for sep in ("\n\n", "\n", " "))
                    if at > limit // 2), limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return [p for p in parts if p]


def media_kind(attachment: OutboundAttachment) -> str:
    mime = (attachment.mime_type or "").lower()
    for kind in ("image", "video", "audio"):
        if mime.startswith(kind + "/"):
            return kind
    return "document"


def _media_body(attachment: OutboundAttachment, caption: str | None) -> dict[str, Any]:
    kind = media_kind(attachment)
    media: dict[str, Any] = {"link": attachment.url}
    if caption:
        media["caption"] = caption
    if kind == "document" and attachment.filename:
        media["filename"] = attachment.filename
    return {"type": kind, kind: media}


def _interactive_body(msg: OutboundMessage, prompt: str) -> dict[str, Any]:
    body = {"text": prompt or DEFAULT_PROMPT}
    if len(msg.buttons) <= MAX_REPLY_BUTTONS:
        buttons = [{"type": "reply", "reply": {"id": b.id, "title": b.title[:BUTTON_TITLE]}}
                   for b in msg.buttons]
        return {"type": "interactive",
                "interactive": {"type": "button", "body": body, "action": {"buttons": buttons}}}
    if len(msg.buttons) > MAX_LIST_ROWS:
        raise DeliveryError(f"WhatsApp lists hold at most {MAX_LIST_ROWS} options; this reply "
                            f"has {len(msg.buttons)}", retryable=False)
    rows = [{"id": b.id, "title": b.title[:ROW_TITLE]} for b in msg.buttons]
    return {"type": "interactive",
            "interactive": {"type": "list", "body": body,
                            "action": {"button": LIST_BUTTON_LABEL,
                                       "sections": [{"rows": rows}]}}}


def _template_body(template: Any) -> dict[str, Any]:
    name, language = template.get("name"), template.get("language")
    if not name or not language:
        raise DeliveryError("a WhatsApp template needs a name and a language", retryable=False)
    body: dict[str, Any] = {"name": name, "language": {"code": language}}
    if template.get("components"):
        body["components"] = list(template["components"])
    return {"type": "template", "template": body}


def message_bodies(msg: OutboundMessage) -> list[dict[str, Any]]:
    """The `type`-specific parts of each request; `envelope()` adds recipient and context."""
    if msg.template is not None:
        # The template is the message; the reply's text is the agent's own record of it.
        return [_template_body(msg.template)]
    # WhatsApp has no "share your contact" button, and the wa_id already is the phone number,
    # so `request_contact` needs nothing here.
    texts = split_text(msg.text, MAX_TEXT) if msg.text else []
    bodies: list[dict[str, Any]] = []
    if msg.buttons:
        prompt = texts.pop() if texts else ""
        if len(prompt) > MAX_INTERACTIVE_BODY:
            pieces = split_text(prompt, MAX_INTERACTIVE_BODY)
            texts.extend(pieces[:-1])
            prompt = pieces[-1]
        bodies += [_text_body(t) for t in texts]
        bodies += [_media_body(a, None) for a in msg.attachments]
        bodies.append(_interactive_body(msg, prompt))
    elif (msg.attachments and len(texts) == 1 and len(texts[0]) <= MAX_CAPTION
          and media_kind(msg.attachments[0]) in CAPTIONED):
        bodies.append(_media_body(msg.attachments[0], texts[0]))
        bodies += [_media_body(a, None) for a in msg.attachments[1:]]
    else:
        bodies += [_text_body(t) for t in texts]
        bodies += [_media_body(a, None) for a in msg.attachments]
    if not bodies:
        raise DeliveryError("the reply has no text, attachment, button or template to send",
                            retryable=False)
    return bodies


def _text_body(text: str) -> dict[str, Any]:
    return {"type": "text", "text": {"preview_url": False, "body": text}}


def envelope(to: str, body: dict[str, Any], quote: str | None) -> dict[str, Any]:
    request: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": to, **body}
    if quote:
        request["context"] = {"message_id": quote}
    return request
