"""The survey of a resolved case: scheduled once, sent on the case's last inbound channel
with that channel's own controls, or skipped with the reason written down.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core, after_commit
from router.csat.settings import CsatSettings, load_settings
from router.csat.tokens import button_id, expiry, link_token
from router.models import Case, ChannelRow, CsatSurvey, Thread
from router.models.base import utcnow
from router.outbox.reply_channel import identity_for_channel
from router.outbox.service import add_system_note, queue_automatic, window_closed

LABELS = {1: "Very poor", 2: "Poor", 3: "OK", 4: "Good", 5: "Excellent"}
# Who resolved a case decides whether to ask: nobody rates a merge or an automatic close
# (Chatwoot #4003: surveys on auto-resolved conversations a month later).
NOT_ASKED = {"auto": "the case was resolved automatically",
             "merge": "the case was closed by a merge"}


async def schedule_survey(core: Core, session: AsyncSession, case: Case,
                          now: datetime | None = None) -> CsatSurvey | None:
    """On resolve: one survey per case, ever (a reopened case resolved again is not re-asked)."""
    if await session.get(CsatSurvey, case.id) is not None:
        return None
    now = now or utcnow()
    settings = await load_settings(session)
    survey = CsatSurvey(case_id=case.id, thread_id=case.thread_id,
                        channel_id=case.last_inbound_channel_id or case.channel_id,
                        due_at=now + timedelta(seconds=settings.delay_seconds))
    reason = NOT_ASKED.get(case.resolved_by or "")
    if reason is None and not settings.enabled:
        reason = "CSAT surveys are turned off"
    if reason is not None:
        survey.status, survey.reason = "skipped", reason
    session.add(survey)
    await session.flush()
    if survey.status == "scheduled":
        after_commit(session, core.csat_wakeup.set)
    return survey


def _scores(core: Core, case_id: int, settings: CsatSettings, short: bool) -> list[dict[str, Any]]:
    until = expiry(settings.link_ttl_days * 86_400)
    return [{"score": n, "id": button_id(core.secret_key, case_id, n, until),
             "title": str(n) if short else f"{n} — {LABELS[n]}"} for n in range(1, 6)]


def _links(core: Core, case_id: int, settings: CsatSettings) -> str | None:
    base = core.settings.public_url
    if not base:
        return None
    token = link_token(core.secret_key, case_id, expiry(settings.link_ttl_days * 86_400))
    lines = [f"{'★' * n}{'☆' * (5 - n)}  {n} — {LABELS[n]}: {base.rstrip('/')}/csat/{token}"
             f"?score={n}" for n in range(5, 0, -1)]
    return "\n".join(lines)


async def send_survey(core: Core, session: AsyncSession, survey: CsatSurvey) -> None:
    """Send (or skip, saying why) one due survey; the caller holds its row."""
    case = await session.get(Case, survey.case_id)
    thread = await session.get(Thread, survey.thread_id)
    settings = await load_settings(session)
    assert case is not None and thread is not None
    reason = _reason_not_to_ask(case, settings)
    channel = await session.get(ChannelRow, survey.channel_id) if survey.channel_id else None
    identity = None
    if reason is None:
        if channel is None or channel.deleted_at is not None or channel.type not in core.connectors:
            reason = "the case's channel no longer exists"
        elif channel.type not in settings.channel_types:
            reason = f"surveys are not sent on {channel.type} channels"
        else:
            identity = await identity_for_channel(core, session, thread.customer_id, channel)
            if identity is None or not identity.reachable:
                reason = f"the customer cannot be reached on {channel.name}"
    if reason is None and channel is not None and identity is not None:
        text, meta, reason = _message(core, case, channel, settings,
                                      window_closed(core, channel, identity))
        if reason is None:
            await queue_automatic(core, session, thread, channel, identity, text, meta)
            survey.status, survey.sent_at = "sent", utcnow()
            return
    survey.status, survey.reason = "skipped", reason
    if reason is not None and channel is not None:
        # Say it in the thread: a survey that silently never leaves is what users of other
        # helpdesks complain about (Chatwoot #10191).
        await add_system_note(session, thread, f"No satisfaction survey was sent: {reason}.")


def _reason_not_to_ask(case: Case, settings: CsatSettings) -> str | None:
    if not settings.enabled:
        return "CSAT surveys are turned off"
    if case.status != "resolved":
        return "the case was reopened before the survey went out"
    if case.last_inbound_at and case.resolved_at and case.last_inbound_at > case.resolved_at:
        return "the customer wrote again before the survey went out"
    return NOT_ASKED.get(case.resolved_by or "")


def _message(core: Core, case: Case, channel: ChannelRow, settings: CsatSettings,
             window_shut: bool) -> tuple[str, dict[str, Any], str | None]:
    """(text, meta, reason not to send) in the channel's own controls."""
    if channel.type == "email":
        links = _links(core, case.id, settings)
        if links is None:
            return "", {}, "e-mail surveys need OMNIROUTE_PUBLIC_URL for their rating links"
        return f"{settings.question}\n\n{links}\n", {"survey": {"case_id": case.id}}, None
    scores = _scores(core, case.id, settings, short=channel.type == "telegram")
    survey = {"case_id": case.id, "question": settings.question, "scores": scores}
    buttons = [{"id": s["id"], "title": s["title"]} for s in scores]
    meta: dict[str, Any] = {"survey": survey, "buttons": buttons}
    if window_shut:
        template = (channel.config or {}).get("csat_template")
        if not template:
            return "", {}, (f"the {channel.type} reply window is closed and the channel has "
                            "no csat_template configured")
        meta = {"survey": survey, "template": _template(template, scores)}
    return settings.question, meta, None


def _template(config: dict[str, Any], scores: list[dict[str, Any]]) -> dict[str, Any]:
    """An approved template with five quick-reply buttons whose payloads are the scores."""
    buttons = [{"type": "button", "sub_type": "quick_reply", "index": str(n),
                "parameters": [{"type": "payload", "payload": s["id"]}]}
               for n, s in enumerate(scores)]
    return {"name": config["name"], "language": config.get("language", "en"),
            "components": buttons}
