"""A batch's least-loaded picks (a heap per team and channel type) are the ones a full look
at every member would make, case after case."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from router.assignment.capacity import Load, Seat
from router.assignment.placement import EPOCH, Ask, Roster
from router.models import Team

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _roster(rng: random.Random, members: list[int]) -> Roster:
    load = {}
    for m in members:
        seat = Seat(id=m, active=rng.random() > 0.1,
                    presence=rng.choice(["online", "online", "online", "away"]),
                    capacity=rng.choice([{"default": 3}, {"default": 5, "email": 20},
                                         {"default": 0}, {"chat": 2}]),
                    last_assigned_at=rng.choice(
                        [None, START - timedelta(minutes=rng.randint(1, 9))]))
        found = Load(seat)
        for kind in ("chat", "email", None):
            found.count(kind, rng.randint(0, 3))
        load[m] = found
    team = Team(id=1, name="t", strategy="least_loaded", sticky=False)
    return Roster(teams={1: team}, members={1: members}, load=load)


def _by_looking_at_everyone(roster: Roster, channel_type: str | None) -> int | None:
    best = None
    for m in roster.members[1]:
        load = roster.load[m]
        if not (load.agent.active and load.agent.presence == "online"):
            continue
        share = load.share(channel_type)
        if share is not None:
            key = (share, load.agent.last_assigned_at or EPOCH, m)
            best = key if best is None or key < best else best
    return best[2] if best else None


@pytest.mark.parametrize("seed", range(20))
def test_heap_picks_equal_a_full_scan(seed: int) -> None:
    rng = random.Random(seed)
    members = sorted(rng.sample(range(1, 200), 12))
    fast, slow = _roster(random.Random(seed), members), _roster(random.Random(seed), members)
    for n in range(60):
        channel_type = rng.choice(["chat", "email", None])
        expected = _by_looking_at_everyone(slow, channel_type)
        if expected is not None:
            slow.load[expected].take(channel_type, START + timedelta(seconds=n))
        assert fast.pick(Ask(1, channel_type), START + timedelta(seconds=n)) == expected
