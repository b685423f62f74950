"""Cut quoted history and signatures from what a customer wrote, with mail-parser-reply."""

from __future__ import annotations

from mailparser_reply import EmailReplyParser

# Languages whose "On … wrote:" / "Am … schrieb:" headers and sign-offs are recognised.
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs", "ja", "zh", "ko"]
_parser = EmailReplyParser(languages=LANGUAGES)


def strip_quoted(text: str) -> tuple[str, bool]:
    """The newest reply without quote or signature, and whether anything was cut.

    When cutting would leave nothing (a mail that is all quote, or a one-line body the
    signature rules mistake for a sign-off), the whole text is shown instead.
    """
    if not text.strip():
        return "", False
    try:
        replies = _parser.read(text).replies
    except Exception:  # a pathological body must not cost the customer their message
        return text.strip(), False
    if not replies:
        return text.strip(), False
    latest = replies[0].body.strip()
    if not latest:
        return text.strip(), False
    whole = "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    return latest, latest != whole
