"""Opaque cursors for keyset pagination: {"items": [...], "next_cursor": "..." | null}."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from router.errors import ProblemError
from router.ids import valid_id

T = TypeVar("T")


class BadCursor(ProblemError):
    status, slug, title = 400, "bad-cursor", "Bad cursor"


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor("this cursor was not issued by this API") from None
    if not isinstance(values, list) or len(values) != length:
        raise BadCursor("this cursor was not issued by this API")
    return values


def split_page(
    rows: list[T], limit: int, key: Callable[[T], list[Any]]
) -> tuple[list[T], str | None]:
    """`rows` were fetched with `limit + 1`: the page, and a cursor after its last row if more."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(key(page[-1]))


def cursor_id(value: Any) -> int:
    """The id part of a cursor; a forged one is a 400, never a driver error."""
    number = valid_id(value)
    if number is None:
        raise BadCursor("this cursor was not issued by this API")
    return number


LimitQuery = Annotated[int, Query(ge=1, le=200, description="Page size (max 200).")]
CursorQuery = Annotated[str | None, Query(max_length=500, description="From `next_cursor`.")]
