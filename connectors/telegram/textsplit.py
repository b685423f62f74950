"""Long replies go out in several messages, cut where a reader would pause."""

from __future__ import annotations

import re

# Cut preferences, best first. A cut earlier than this share of a part is passed over for a
# weaker boundary later on, so parts stay screen-sized instead of a line and a wall.
MIN_PART_SHARE = 1 / 3
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
# Latin-script sentences end in punctuation and a space; CJK ones need no space.
_SENTENCE = re.compile(r"(?<=[.!?\u2026])[\"'\u00bb\u201d)\]]*\s+|(?<=[\u3002\uff01\uff1f])\s*")
_LINE = re.compile(r"\n\s*")
_SPACE = re.compile(r"\s+")


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji is often two)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> int:
    """The largest number of characters of `text` that fits in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut(window: str, fits: int) -> tuple[int, int]:
    """(end of this part, start of the next): the best boundary at or before `fits`."""
    floor = int(fits * MIN_PART_SHARE)
    for pattern in (_PARAGRAPH, _SENTENCE, _LINE, _SPACE):
        matches = [m for m in pattern.finditer(window) if floor < m.start() <= fits]
        if matches:
            last = matches[-1]
            return last.start(), last.end()
    # One unbroken word longer than a message: a hard cut is all that is left.
    return fits, fits


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into parts of at most `limit` UTF-16 units, in order, none empty."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_len(rest) <= limit:
            parts.append(rest)
            break
        # max(1, ...): a limit below one character's width must still make progress.
        fits = max(1, _fitting_prefix(rest, limit))
        # Look one character past the window, so a boundary right after it still counts.
        end, start = _cut(rest[:fits + 1], fits)
        parts.append(rest[:end].rstrip())
        rest = rest[start:].lstrip()
    return parts
