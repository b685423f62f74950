"""Reports as CSV: the same rows as the JSON, nested figures flattened to dotted columns."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            out[name] = ";".join(str(v) for v in value)
        elif value is None:
            out[name] = ""
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [_defuse(v) if isinstance(v, str) else v for v in values])
    return buffer.getvalue()


def _defuse(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet (CSV injection, OWASP).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def csv_lines(rows: AsyncIterator[dict[str, Any]], columns: list[str]) -> AsyncIterator[str]:
    """A header, then one line per row, written as they come (constant memory)."""
    yield _line(columns)
    async for row in rows:
        flat = flatten(row)
        yield _line(flat.get(column, "") for column in columns)
