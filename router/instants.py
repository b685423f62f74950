"""Points in time as the API accepts them: ISO 8601 text only.

Pydantic also reads a bare number as seconds since 1970, so `updated_since=0.5` meant
1970-01-01T00:00:00.5Z: a typo answered with every row instead of a 422. The documented
format is `date-time`, so anything else is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
                      r"(Z|z|[+-]\d{2}(:?\d{2})?)?)?")


def _iso_only(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or ISO_8601.fullmatch(value.strip()) is None:
        raise ValueError("expected an ISO 8601 date-time such as 2026-01-31T09:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]
