"""The statistics of the experiment report, all from scipy.stats (no hand-made tests)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def quantile_summary(values: Sequence[float]) -> dict[str, Any]:
    """Median and p90 with distribution-free 95 % intervals (order statistics, binomial)."""
    n = len(values)
    if n == 0:
        return {"n": 0, "median": None, "median_ci95": None, "p90": None, "p90_ci95": None}
    data = np.sort(np.asarray(values, dtype=float))
    return {"n": n, "median": float(np.percentile(data, 50)),
            "median_ci95": _quantile_ci(data, 0.5),
            "p90": float(np.percentile(data, 90)), "p90_ci95": _quantile_ci(data, 0.9)}


def _quantile_ci(data: np.ndarray[Any, Any], q: float) -> list[float] | None:
    n = len(data)
    tail = (1 - CONFIDENCE) / 2
    low = int(stats.binom.ppf(tail, n, q))  # 1-based order statistics: x(low) .. x(high)
    high = int(stats.binom.ppf(1 - tail, n, q)) + 1
    if low < 1 or high > n:
        return None  # too few values for a 95 % interval of this quantile
    return [float(data[low - 1]), float(data[high - 1])]


def rate(successes: int, n: int) -> dict[str, Any]:
    """A proportion with its Wilson score 95 % interval."""
    if n == 0:
        return {"n": 0, "successes": 0, "rate": None, "ci95": None}
    ci = stats.binomtest(successes, n).proportion_ci(CONFIDENCE, method="wilson")
    return {"n": n, "successes": successes, "rate": successes / n,
            "ci95": [float(ci.low), float(ci.high)]}


def mean_summary(values: Sequence[float]) -> dict[str, Any]:
    """Mean with a Student-t 95 % interval."""
    n = len(values)
    if n == 0:
        return {"mean": None, "mean_ci95": None}
    mean = float(np.mean(values))
    if n < 2 or float(np.std(values)) == 0:
        return {"mean": mean, "mean_ci95": None if n < 2 else [mean, mean]}
    low, high = stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=stats.sem(values))
    return {"mean": mean, "mean_ci95": [float(low), float(high)]}


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Two-sided Mann-Whitney U: durations and CSAT scores are ordinal, not normal."""
    out: dict[str, Any] = {"test": "Mann-Whitney U (two-sided)", "statistic": None,
                           "p_value": None}
    if not a or not b:
        return out
    result = stats.mannwhitneyu(a, b, alternative="two-sided")
    p = float(result.pvalue)
    out.update(statistic=float(result.statistic), p_value=None if math.isnan(p) else p)
    return out


def two_proportions(k1: int, n1: int, k2: int, n2: int) -> dict[str, Any]:
    """Two-sided two-proportion z-test, computed as the equivalent 2x2 chi-square without
    continuity correction (z squared equals chi-square: the same p-value)."""
    out: dict[str, Any] = {"test": "two-proportion z-test", "z": None, "p_value": None,
                           "difference": None}
    if n1 == 0 or n2 == 0:
        return out
    difference = k1 / n1 - k2 / n2
    out["difference"] = difference
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    try:
        chi2, p, _dof, _expected = stats.chi2_contingency(table, correction=False)
    except ValueError:
        return out  # both buckets all met or all missed: nothing to compare
    out.update(z=math.copysign(math.sqrt(float(chi2)), difference), p_value=float(p))
    return out
