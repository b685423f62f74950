"""Database ids as the API accepts them: positive and within a 64-bit column.

A larger number is not an unknown id but a malformed one; bounding it here turns what would
be a driver overflow (a 500) into a 422 that names the field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**63 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


def valid_id(value: object) -> int | None:
    """An id taken from text we issued (a cursor, an attachment id), or None when it is not one."""
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 1 <= number <= MAX_ID else None
