"""Canonical forms of contact details, so one person's phone or e-mail matches itself."""

from __future__ import annotations


class InvalidContact(ValueError):
    """A phone number or e-mail address that cannot be normalised."""


def normalize_phone(raw: str) -> str:
    """E.164; a number without a leading + is read as international (WhatsApp wa_id style)."""
    # Imported here: its metadata tables cost ~1 MB in every worker, most of which never
    # see a phone number.
    import phonenumbers

    text = raw.strip()
    candidate = text if text.startswith("+") else "+" + text.lstrip("0")
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidContact(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    value = raw.strip().lower()
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or " " in value:
        raise InvalidContact(f"not an e-mail address: {raw!r}")
    return value


def normalize(kind: str, value: str) -> str:
    if kind == "phone":
        return normalize_phone(value)
    if kind == "email":
        return normalize_email(value)
    return value.strip()
