"""The e-mail acknowledgement names the policy's due time, in the template's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from router.models.cases import Case
from router.models.sla import SlaPolicy
from router.sla import clock
from router.sla.ack import render_ack
from router.sla.calendar import build_calendar
from router.sla.clock import SlaContext

MOSCOW = build_calendar("Europe/Moscow", {d: [["09:00", "18:00"]] for d in
                                          ("mon", "tue", "wed", "thu", "fri")})
POLICY = SlaPolicy(id=1, name="mail", warn_before_seconds=0, on_breach=[], targets=[
    {"channel_type": "email", "first_response_seconds": 4 * 3600},
    {"channel_type": "email", "priority": "high", "first_response_seconds": 5400}])
FRIDAY_5PM = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)  # 17:00 in Moscow
EN = "Thanks! We will answer by {due} (within {response_time})."
# The words are in the nominative: a template puts them where that reads right.
RU = "Спасибо! Ответим: {due}. Срок ответа: {response_time}."


def started(priority: str = "normal") -> Case:
    case = Case(id=1, thread_id=1, customer_id=1, status="open", channel_type="email",
                priority=priority, breaches=[], first_response_at=None, resolved_at=None,
                awaiting_since=None, sla_paused_at=None)
    clock.start(case, SlaContext(POLICY, MOSCOW), FRIDAY_5PM, FRIDAY_5PM)
    return case


@pytest.mark.parametrize(("template", "language", "priority", "text"), [
    (EN, "en", "normal", "Thanks! We will answer by Monday, 12:00 (within 4 hours)."),
    (RU, "ru", "normal", "Спасибо! Ответим: понедельник, 12:00. Срок ответа: 4 часа."),
    (EN, "en", "high", "Thanks! We will answer by Monday, 09:30 (within 1 hour, 30 minutes)."),
    (RU, "ru", "high", "Спасибо! Ответим: понедельник, 09:30. Срок ответа: 1 час 30 минут."),
    (EN, "xx-unknown", "normal", "Thanks! We will answer by Monday, 12:00 (within 4 hours)."),
])
def test_the_promise_is_the_policys_due_time(template: str, language: str, priority: str,
                                             text: str) -> None:
    case = started(priority)
    assert render_ack(template, case, POLICY, MOSCOW, language, now=FRIDAY_5PM) == text


def test_the_customers_zone_when_known() -> None:
    case = started()
    text = render_ack("{due}", case, POLICY, MOSCOW, "en", timezone="Europe/Berlin",
                      now=FRIDAY_5PM)
    assert text == "Monday, 10:00"
    assert render_ack("{due}", case, POLICY, MOSCOW, "en", timezone="Nowhere/Land",
                      now=FRIDAY_5PM) == "Monday, 12:00"


def test_a_week_away_names_the_date_and_calendar_time_uses_days() -> None:
    policy = SlaPolicy(id=2, name="slow", targets=[{"first_response_seconds": 9 * 86400}])
    case = Case(id=1, channel_type="email", priority="normal", status="open", breaches=[],
                first_response_at=None, resolved_at=None, awaiting_since=None,
                sla_paused_at=None)
    clock.start(case, SlaContext(policy, None), FRIDAY_5PM, FRIDAY_5PM)
    assert render_ack("{due} / {response_time}", case, policy, None, "en",
                      now=FRIDAY_5PM) == "Sunday, 13 December, 14:00 / 9 days"


def test_no_target_means_the_static_text() -> None:
    case = started()
    assert render_ack(EN, case, None, MOSCOW, "en") is None
    no_first = SlaPolicy(id=3, name="r", targets=[{"resolution_seconds": 60}])
    assert render_ack(EN, case, no_first, MOSCOW, "en") is None
