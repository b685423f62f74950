"""The SLA clock per channel: start, replies, automatic messages, pause, resolve, reopen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.models.cases import Case
from router.models.sla import SlaPolicy
from router.sla import clock
from router.sla.calendar import build_calendar
from router.sla.clock import SlaContext, choose_target

M = 60
H = 3600
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday 10:00 in Berlin
TARGETS = [
    {"resolution_seconds": 5 * 24 * H},
    {"channel_type": "email", "first_response_seconds": 4 * H, "next_response_seconds": 8 * H},
    {"channel_type": "email", "priority": "urgent", "first_response_seconds": H},
    {"channel_type": "telegram", "first_response_seconds": 2 * M, "next_response_seconds": 5 * M},
    {"channel_type": "whatsapp", "first_response_seconds": 5 * M, "next_response_seconds": 10 * M},
    {"channel_type": "webchat", "first_response_seconds": M, "next_response_seconds": 2 * M},
    {"priority": "urgent", "first_response_seconds": 30 * M},
    {"first_response_seconds": 24 * H, "next_response_seconds": 24 * H},
]
CHANNELS = ["email", "telegram", "whatsapp", "webchat", "api"]
FIRST = {"email": 4 * H, "telegram": 2 * M, "whatsapp": 5 * M, "webchat": M, "api": 24 * H}
NEXT = {"email": 8 * H, "telegram": 5 * M, "whatsapp": 10 * M, "webchat": 2 * M, "api": 24 * H}
RESOLUTION = 5 * 24 * H


def ctx(calendar: bool = False) -> SlaContext:
    policy = SlaPolicy(id=7, name="p", targets=TARGETS, warn_before_seconds=0, on_breach=[])
    hours = build_calendar("Europe/Berlin", {d: [["09:00", "18:00"]] for d in
                                             ("mon", "tue", "wed", "thu", "fri")})
    return SlaContext(policy=policy, calendar=hours if calendar else None)


def new_case(channel: str, priority: str = "normal") -> Case:
    return Case(id=1, thread_id=1, customer_id=1, status="open", channel_type=channel,
                priority=priority, breaches=[], first_response_at=None, resolved_at=None,
                awaiting_since=None, sla_paused_at=None)


def test_the_most_specific_target_wins_per_metric() -> None:
    urgent_mail = choose_target(TARGETS, "email", "urgent")
    assert (urgent_mail.first_response, urgent_mail.next_response,
            urgent_mail.resolution) == (H, 8 * H, RESOLUTION)
    assert choose_target(TARGETS, "api", "urgent").first_response == 30 * M  # priority only
    assert choose_target(TARGETS, "telegram", "urgent").first_response == 2 * M  # channel > prio
    assert choose_target(TARGETS, "api", "low").first_response == 24 * H  # the catch-all
    assert choose_target([], "api", "low") == clock.Target()


@pytest.mark.parametrize("channel", CHANNELS)
def test_start_reply_and_next_response(channel: str) -> None:
    c, sla = new_case(channel), ctx()
    clock.start(c, sla, T0, now=T0 + timedelta(seconds=2))
    assert c.opened_at == T0 and c.sla_policy_id == 7
    assert c.first_response_due_at == T0 + timedelta(seconds=FIRST[channel])
    assert c.resolution_due_at == T0 + timedelta(seconds=RESOLUTION)
    assert c.sla_due_at == c.first_response_due_at
    # An acknowledgement or CSAT survey is not a response.
    clock.on_agent_reply(c, T0 + timedelta(seconds=1), automatic=True)
    assert c.first_response_at is None and c.sla_due_at == c.first_response_due_at
    # A second customer message before any reply: first response still covers it.
    clock.on_customer_message(c, sla, T0 + timedelta(seconds=20))
    assert c.next_response_due_at is None
    reply = T0 + timedelta(seconds=30)
    clock.on_agent_reply(c, reply)
    assert c.first_response_at == reply
    assert clock.running(c) == {"resolution": c.resolution_due_at}
    assert c.sla_due_at == c.resolution_due_at
    # An out-of-office from the customer starts nothing; a real message starts next response.
    clock.on_customer_message(c, sla, reply + timedelta(minutes=1), automatic=True)
    assert c.next_response_due_at is None
    wrote = reply + timedelta(minutes=2)
    clock.on_customer_message(c, sla, wrote)
    assert c.next_response_due_at == wrote + timedelta(seconds=NEXT[channel])
    assert c.sla_due_at == min(c.next_response_due_at, c.resolution_due_at)
    # A third message does not push the running next-response clock back.
    clock.on_customer_message(c, sla, wrote + timedelta(minutes=1))
    assert c.next_response_due_at == wrote + timedelta(seconds=NEXT[channel])
    clock.on_agent_reply(c, wrote + timedelta(minutes=3))
    assert c.next_response_due_at is None


@pytest.mark.parametrize("channel", CHANNELS)
def test_pending_pauses_every_clock_and_resume_shifts_them(channel: str) -> None:
    c, sla = new_case(channel), ctx()
    clock.start(c, sla, T0, now=T0)
    first, resolution = c.first_response_due_at, c.resolution_due_at
    assert first is not None and resolution is not None
    clock.pause(c, T0 + timedelta(seconds=10))
    assert c.sla_due_at is None and c.sla_paused_at is not None
    clock.resume(c, sla, T0 + timedelta(seconds=10, hours=3))
    assert c.first_response_due_at == first + timedelta(hours=3)
    assert c.resolution_due_at == resolution + timedelta(hours=3)
    assert c.sla_paused_at is None and c.sla_due_at == c.first_response_due_at
    # A customer message ends a pause by itself.
    clock.pause(c, T0 + timedelta(seconds=15, hours=3))
    clock.on_customer_message(c, sla, T0 + timedelta(seconds=15, hours=4))
    assert c.sla_paused_at is None
    assert c.first_response_due_at == first + timedelta(hours=4)


def test_resume_shifts_in_business_time() -> None:
    c, sla = new_case("email"), ctx(calendar=True)
    friday_5pm = datetime(2026, 6, 5, 15, 0, tzinfo=UTC)  # 17:00 in Berlin
    clock.start(c, sla, friday_5pm, now=friday_5pm)
    assert c.first_response_due_at == datetime(2026, 6, 8, 10, 0, tzinfo=UTC)  # Mon 12:00
    clock.pause(c, friday_5pm + timedelta(minutes=30))  # 30 business minutes used
    monday_11am = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    clock.resume(c, sla, monday_11am)
    # 3.5 business hours were left: from Monday 11:00 that is 14:30 Berlin.
    assert c.first_response_due_at == datetime(2026, 6, 8, 12, 30, tzinfo=UTC)


def test_a_pause_does_not_undo_a_breach() -> None:
    c, sla = new_case("webchat"), ctx()
    clock.start(c, sla, T0, now=T0)
    due = c.first_response_due_at
    clock.pause(c, T0 + timedelta(hours=1))
    clock.resume(c, sla, T0 + timedelta(hours=2))
    assert c.first_response_due_at == due


@pytest.mark.parametrize("channel", CHANNELS)
def test_resolve_stops_everything_and_reopen_starts_next_response(channel: str) -> None:
    c, sla = new_case(channel), ctx()
    clock.start(c, sla, T0, now=T0)
    clock.on_agent_reply(c, T0 + timedelta(seconds=30))
    clock.on_customer_message(c, sla, T0 + timedelta(minutes=1))
    assert c.next_response_due_at is not None
    c.status = "resolved"
    clock.on_resolved(c, T0 + timedelta(minutes=2))
    assert clock.running(c) == {} and c.sla_due_at is None and c.next_response_due_at is None
    clock.on_customer_message(c, sla, T0 + timedelta(minutes=3))  # the lifecycle reopens first
    assert c.next_response_due_at is None
    c.status = "open"
    back = T0 + timedelta(days=1)
    clock.on_reopened(c, sla, back)
    assert c.next_response_due_at == back + timedelta(seconds=NEXT[channel])
    assert c.sla_due_at == c.next_response_due_at


def test_the_clock_never_starts_later_than_receipt_or_now() -> None:
    c, sla = new_case("telegram"), ctx()
    received = T0 + timedelta(seconds=5)
    clock.start(c, sla, T0 + timedelta(hours=2), now=T0 + timedelta(seconds=9),
                received_at=received)
    assert c.opened_at == received
    c2 = new_case("telegram")
    clock.start(c2, sla, T0 + timedelta(hours=2), now=T0)
    assert c2.opened_at == T0
    assert clock.clock_start(T0 - timedelta(days=1), T0, T0) == T0 - timedelta(days=1)
