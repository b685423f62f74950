"""Buckets are a deterministic function of (experiment, customer) and keep their weights."""

from __future__ import annotations

from collections import Counter

import pytest

from router.experiments.buckets import assign_bucket, matches, unit_hash
from router.models.sla import Experiment


def experiment(id_: int, weights: dict[str, float], **fields: object) -> Experiment:
    return Experiment(id=id_, name="e", status=fields.pop("status", "running"),
                      filter=fields.pop("filter", {}),
                      buckets=[{"name": n, "weight": w, "sla_policy_id": 1}
                               for n, w in weights.items()])


@pytest.mark.parametrize("weights", [{"a": 1, "b": 1}, {"fast": 70, "slow": 30},
                                     {"x": 1, "y": 1, "z": 2}])
@pytest.mark.parametrize("experiment_id", range(1, 31))
def test_weights_hold_within_three_percent(experiment_id: int,
                                           weights: dict[str, float]) -> None:
    exp = experiment(experiment_id, weights)
    total = sum(weights.values())
    # A run of new customers (ids as the store hands them out), starting anywhere.
    for first in (1, 4321, 98_765):
        counts = Counter(assign_bucket(exp, c) for c in range(first, first + 1000))
        for name, weight in weights.items():
            assert abs(counts[name] / 1000 - weight / total) <= 0.03, (name, counts)


def test_weights_hold_for_scattered_customers_too() -> None:
    """Customers who happen to write are not a run of ids: every 7th of a large range."""
    exp = experiment(3, {"fast": 70, "slow": 30})
    counts = Counter(assign_bucket(exp, c) for c in range(11, 7011, 7))
    assert abs(counts["fast"] / 1000 - 0.7) <= 0.03, counts


def test_one_customer_stays_in_one_bucket() -> None:
    exp = experiment(5, {"a": 1, "b": 1})
    for customer in range(1, 200):
        first = assign_bucket(exp, customer)
        assert {assign_bucket(experiment(5, {"a": 1, "b": 1}), customer)
                for _ in range(3)} == {first}
    # Another experiment splits the same customers independently.
    other = experiment(6, {"a": 1, "b": 1})
    same = sum(assign_bucket(exp, c) == assign_bucket(other, c) for c in range(1, 1001))
    assert 400 < same < 600
    assert 0 <= unit_hash(5, 1) < 1


def test_matches_the_filter_only_while_running() -> None:
    exp = experiment(1, {"a": 1, "b": 1}, filter={"channel_types": ["email"], "team_id": 3})
    assert matches(exp, "email", 3)
    assert not matches(exp, "telegram", 3)
    assert not matches(exp, "email", 4)
    assert not matches(exp, "email", None)
    assert matches(experiment(1, {"a": 1, "b": 1}), "webchat", None)
    assert not matches(experiment(1, {"a": 1, "b": 1}, status="stopped"), "email", 3)
