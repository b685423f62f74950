"""Order statistics for skewed support times: medians first, then p90, then the mean."""

from __future__ import annotations

import math
from collections.abc import Sequence


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC)."""
    n = len(sorted_values)
    if n == 0:
        return None
    position = (n - 1) * q
    low = math.floor(position)
    high = min(low + 1, n - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def durations(values: list[float]) -> dict[str, float | None]:
    """{median, p90, mean} of durations in seconds (all None when there are none)."""
    values.sort()
    mean = sum(values) / len(values) if values else None
    return {"median": round_seconds(quantile(values, 0.5)),
            "p90": round_seconds(quantile(values, 0.9)), "mean": round_seconds(mean)}


def rate(part: int, whole: int) -> float | None:
    """A share in [0, 1], or None when nothing could count (not 0: 'no data' is not 'none')."""
    return round(part / whole, 4) if whole else None


def round_seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)
