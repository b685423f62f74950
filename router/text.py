"""Text made storable and sendable: once where a connector hands items over
(router/ingest/worker.py), and as a last resort wherever JSON goes out.

A lone UTF-16 surrogate (JSON may carry `\\ud800`; Python's mail parser leaves undecodable
header bytes as `\\udcf6`) cannot be encoded as UTF-8, and NUL cannot be stored in a
PostgreSQL text or jsonb value. Either one used to be stored and then broke everything that
read it: the thread's messages, every live stream. Each such character becomes U+FFFD (a pair
of halves written separately becomes the one character it stands for).

This runs for every item of every batch, so clean text (nearly all of it) costs a check per
string and no copy: a repaired value is built only when something in it needed repair, and the
item is rebuilt only then (bench/text_clean.py measures both cases).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.base import (
    ActionEvent,
    Attachment,
    IdentityHint,
    Ignored,
    InboundMessage,
    MessageEdit,
    ReachabilityChange,
    StatusUpdate,
    Unreadable,
)

REPLACEMENT = "\ufffd"
_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")
# Field names per item type, looked up once (dataclasses.fields() is slow per call).
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls))
    for cls in (InboundMessage, Attachment, IdentityHint, StatusUpdate, MessageEdit,
                ReachabilityChange, ActionEvent, Ignored, Unreadable)
}


def is_clean(text: str) -> bool:
    """Whether `text` encodes as UTF-8 and stores anywhere (no surrogate, no NUL)."""
    if text.isascii():  # O(1) in CPython: the string knows it is ASCII
        return "\x00" not in text
    return _UNENCODABLE.search(text) is None


def clean_text(text: str) -> str:
    """`text` itself when clean, else a copy with each unencodable character as U+FFFD."""
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    if _UNENCODABLE.search(text) is None:
        return text
    text = text.replace("\x00", REPLACEMENT)
    # UTF-16 with surrogatepass joins halves that form a pair; a lone half decodes to U+FFFD.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


_SCALARS = frozenset({int, float, bool, type(None), datetime})
_search = _UNENCODABLE.search


def needs_cleaning(value: Any) -> bool:
    """Whether any string inside `value` needs repair: the fast check every item takes.

    Strings are checked inline rather than through `is_clean`: a function call per string
    was most of the cost of a clean message."""
    kind = type(value)
    if kind is str:
        return ("\x00" in value) if value.isascii() else (_search(value) is not None)
    if kind in _SCALARS:
        return False
    names = _FIELDS.get(kind)
    if names is not None:
        children: Any = [getattr(value, name) for name in names]
    elif kind is dict:
        children = [*value.keys(), *value.values()]
    elif kind is list or kind is tuple:
        children = value
    elif isinstance(value, Mapping):
        children = [*value.keys(), *value.values()]
    else:
        return False
    for child in children:
        child_kind = type(child)
        if child_kind is str:
            if (("\x00" in child) if child.isascii() else (_search(child) is not None)):
                return True
        elif child_kind not in _SCALARS and needs_cleaning(child):
            return True
    return False


def clean_value(value: Any) -> Any:
    """Strings anywhere inside `value` (mappings, lists, tuples, items) cleaned; `value`
    itself when nothing needed it."""
    return _repaired(value) if needs_cleaning(value) else value


def _repaired(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return clean_text(value)
    if kind is bool or kind is int or kind is float or value is None or kind is datetime:
        return value
    names = _FIELDS.get(kind)
    if names is not None:
        return _clean_item(value, names)
    if isinstance(value, Mapping):
        return _clean_mapping(value)
    if kind is tuple or kind is list:
        return _clean_sequence(value)
    return value


def _clean_mapping(value: Mapping[Any, Any]) -> Any:
    changed = False
    pairs = []
    for key, item in value.items():
        clean_key, clean_item = clean_value(key), clean_value(item)
        changed = changed or clean_key is not key or clean_item is not item
        pairs.append((clean_key, clean_item))
    return dict(pairs) if changed else value


def _clean_sequence(value: tuple[Any, ...] | list[Any]) -> Any:
    cleaned = [clean_value(item) for item in value]
    if all(new is old for new, old in zip(cleaned, value, strict=True)):
        return value
    return tuple(cleaned) if type(value) is tuple else cleaned


def _clean_item(item: Any, names: tuple[str, ...]) -> Any:
    changes: dict[str, Any] = {}
    for name in names:
        old = getattr(item, name)
        new = clean_value(old)
        if new is not old:
            changes[name] = new
    return dataclasses.replace(item, **changes) if changes else item
