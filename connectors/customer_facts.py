"""What a customer's CRM facts may look like: tier, language, tags and attributes.

Shared by the trusted API channel (which may send tier and attributes with a message) and the
core's `PATCH /v1/customers/{id}`, so both refuse the same things the same way. Text is
cleaned here like every connector field: what cannot be encoded becomes U+FFFD, control
characters go.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

Scalar = str | int | float | bool

MAX_TIER_LENGTH = 64
MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_TEXT = 500
# The stored object as compact JSON: keeps a customer row small whatever a CRM sends.
MAX_ATTRIBUTES_BYTES = 8_192
ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
# BCP 47-ish: a 2-3 letter language, then up to three subtags (script, region, variant).
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")
# A JSON "\ud800" escape decodes to a lone surrogate, which no encoder, database or stream
# accepts later.
SURROGATE = re.compile("[\ud800-\udfff]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class FactError(ValueError):
    """A fact about a customer that is refused; the message names it."""


def clean_text(value: str) -> str:
    """One line of text: lone surrogates become U+FFFD, control characters a space, trimmed."""
    value = SURROGATE.sub("\ufffd", value)
    if not value.isprintable():
        value = CONTROL.sub(" ", value)
    return value.strip()


def clean_tier(value: Any) -> str:
    if not isinstance(value, str):
        raise FactError("tier must be a string")
    tier = clean_text(value)
    if not tier or len(tier) > MAX_TIER_LENGTH:
        raise FactError(f"tier must be 1-{MAX_TIER_LENGTH} characters")
    return tier


def clean_language(value: Any) -> str:
    """A canonical-case language tag: "pt-BR", "zh-Hant", "ru"."""
    if not isinstance(value, str) or not LANGUAGE.fullmatch(value.strip()):
        raise FactError("language must be a language tag like 'ru', 'en-GB' or 'zh-Hant'")
    first, *rest = value.strip().split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 4 and part.isalpha():
            parts.append(part.title())
        elif len(part) == 2 and part.isalpha():
            parts.append(part.upper())
        else:
            parts.append(part.lower())
    return "-".join(parts)


def clean_tags(values: Any, *, limit: int = MAX_TAGS) -> list[str]:
    """Trimmed, deduplicated, sorted tags (as thread tags are)."""
    if not isinstance(values, list | tuple):
        raise FactError("tags must be a list of strings")
    if len(values) > limit:
        raise FactError(f"at most {limit} tags are allowed, got {len(values)}")
    tags: set[str] = set()
    for value in values:
        if not isinstance(value, str):
            raise FactError("each tag must be a string")
        tag = clean_text(value)
        if not tag or len(tag) > MAX_TAG_LENGTH:
            raise FactError(f"each tag must be 1-{MAX_TAG_LENGTH} characters")
        tags.add(tag)
    return sorted(tags)


def _scalar(key: str, value: Any) -> Scalar | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise FactError(f"attribute '{key}': integers must be within ±2^53")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FactError(f"attribute '{key}': numbers must be finite")
        return value
    if isinstance(value, str):
        text = clean_text(value)
        if len(text) > MAX_ATTRIBUTE_TEXT:
            raise FactError(f"attribute '{key}': text values are at most "
                            f"{MAX_ATTRIBUTE_TEXT} characters")
        return text
    raise FactError(f"attribute '{key}' must be a string, number, boolean or null "
                    "(attributes are a flat object)")


def clean_attributes(values: Any) -> dict[str, Scalar | None]:
    """A flat object of scalars; None values mean "remove this key" to merge_attributes."""
    if not isinstance(values, Mapping):
        raise FactError("attributes must be a JSON object")
    if len(values) > MAX_ATTRIBUTES:
        raise FactError(f"at most {MAX_ATTRIBUTES} attributes are allowed, got {len(values)}")
    out: dict[str, Scalar | None] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not ATTRIBUTE_KEY.fullmatch(key):
            raise FactError(f"attribute key {str(key)[:70]!r} is invalid: letters, digits, "
                            "'_', '-' and '.', at most 64 characters")
        out[key] = _scalar(key, value)
    return out


def merge_attributes(stored: Mapping[str, Any],
                     changes: Mapping[str, Scalar | None]) -> dict[str, Scalar]:
    """`stored` with `changes` applied (JSON merge patch: null removes), size-checked."""
    merged: dict[str, Any] = dict(stored)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_ATTRIBUTES:
        raise FactError(f"a customer holds at most {MAX_ATTRIBUTES} attributes")
    if len(json.dumps(merged, separators=(",", ":"), ensure_ascii=False).encode()) > \
            MAX_ATTRIBUTES_BYTES:
        raise FactError(f"a customer's attributes are at most {MAX_ATTRIBUTES_BYTES} bytes "
                        "as JSON")
    return merged
