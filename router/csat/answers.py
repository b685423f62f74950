"""A score arrives (a button, a link's page, a bot): stored once per case, with who and what
it rates; a second answer for the case is refused politely."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import ActionEvent, BaseConnector, Channel, InboundItem, InboundMessage
from router.core import Core, after_commit_call, queue_event
from router.csat.settings import load_settings
from router.csat.tokens import expiry, link_token, looks_like_button, read_button
from router.models import Case, ChannelRow, CsatResponse, CsatSurvey, Thread
from router.models.base import utcnow
from router.outbox.reply_channel import identity_for_channel
from router.outbox.service import add_system_note, queue_automatic


@dataclass(frozen=True, slots=True)
class Recorded:
    response: CsatResponse
    first: bool  # False: the case was rated before, this answer was not taken


def is_survey_tap(item: InboundItem) -> bool:
    if isinstance(item, ActionEvent):
        return looks_like_button(item.action_id) or looks_like_button(item.data)
    return False


def without_survey_echoes(items: list[InboundItem]) -> list[InboundItem]:
    """Drop the message a channel sends beside a survey tap (WhatsApp's list reply comes as
    a message and an action): the score is an answer to us, not the customer writing again,
    so it must neither reopen the case nor open a new one."""
    taps = {item.action_id for item in items if isinstance(item, ActionEvent)}
    return [item for item in items
            if not (isinstance(item, InboundMessage)
                    and looks_like_button(str(item.meta.get("reply_id", "")))
                    and item.meta.get("reply_id") in taps)]


async def record_score(
    core: Core, session: AsyncSession, case: Case, score: int, channel_id: str | None,
    comment: str | None = None,
) -> Recorded:
    earlier = await session.scalar(select(CsatResponse).where(CsatResponse.case_id == case.id))
    if earlier is not None:
        return Recorded(earlier, first=False)
    channel_type = None
    if channel_id is not None:
        channel = await session.get(ChannelRow, channel_id)
        channel_type = channel.type if channel is not None else None
    response = CsatResponse(
        case_id=case.id, thread_id=case.thread_id, customer_id=case.customer_id, score=score,
        comment=comment or None, channel_id=channel_id, channel_type=channel_type,
        agent_id=case.assignee_id, team_id=case.team_id, experiment_id=case.experiment_id,
        experiment_bucket=case.experiment_bucket,
        commented_at=utcnow() if comment else None)
    try:
        async with session.begin_nested():
            session.add(response)
            await session.flush()
    except IntegrityError:
        # Two taps at once: the other one was first.
        earlier = await session.scalar(select(CsatResponse)
                                       .where(CsatResponse.case_id == case.id))
        assert earlier is not None
        return Recorded(earlier, first=False)
    survey = await session.get(CsatSurvey, case.id)
    if survey is not None:
        survey.status = "answered"
    thread = await session.get(Thread, case.thread_id)
    if thread is not None:
        await add_system_note(session, thread, f"The customer rated this case {score} of 5"
                              + (f": “{comment}”" if comment else "."))
    queue_event(session, "csat.received", csat_view(response))
    return Recorded(response, first=True)


async def add_comment(core: Core, session: AsyncSession, response: CsatResponse,
                      comment: str) -> bool:
    """The comment that follows a score; one per answer."""
    if response.comment:
        return False
    response.comment, response.commented_at = comment, utcnow()
    queue_event(session, "csat.commented", csat_view(response))
    return True


def csat_view(response: CsatResponse) -> dict[str, object]:
    experiment = (None if response.experiment_id is None
                  else {"id": response.experiment_id, "bucket": response.experiment_bucket})
    return {
        "case_id": response.case_id, "thread_id": response.thread_id, "score": response.score,
        "comment": response.comment, "channel_id": response.channel_id,
        "channel_type": response.channel_type, "agent_id": response.agent_id,
        "assignee_id": response.agent_id, "team_id": response.team_id,
        "experiment": experiment, "created_at": response.created_at.isoformat()
        if response.created_at else utcnow().isoformat(),
    }


async def answer_tap(core: Core, session: AsyncSession, channel: Channel,
                     action: ActionEvent) -> None:
    """A customer tapped a score under a survey (Telegram, WhatsApp, web chat, a bot)."""
    token = action.action_id if looks_like_button(action.action_id) else action.data
    read = read_button(core.secret_key, token)
    if read is None:
        queue_event(session, "csat.refused", {"channel_id": channel.id,
                                              "reason": "forged or expired survey button"})
        return
    case = await session.get(Case, read[0])
    if case is None:
        return
    recorded = await record_score(core, session, case, read[1], channel.id, action.comment)
    settings = await load_settings(session)
    if recorded.first:
        text = settings.thanks
        if not action.comment and core.settings.public_url:
            token = link_token(core.secret_key, case.id, expiry(settings.link_ttl_days * 86_400))
            text += (f" {settings.comment_prompt} "
                     f"{core.settings.public_url.rstrip('/')}/csat/{token}")
    else:
        text = f"You already rated this conversation ({recorded.response.score} of 5). Thank you!"
    connector = core.connector(channel.type)
    edits: object = type(connector).close_controls
    if edits is not BaseConnector.close_controls:
        # Editing the survey happens after the commit, off the batch's transaction: a
        # provider call must not hold the write lock (and the score is stored either way).
        after_commit_call(session, lambda: connector.close_controls(channel, action, text))
        return
    thread = await session.get(Thread, case.thread_id)
    row = await session.get(ChannelRow, channel.id)
    if thread is None or row is None or channel.type == "api":
        return  # a bot gets nothing back: it asked and it knows what it posted
    identity = await identity_for_channel(core, session, thread.customer_id, row)
    if identity is not None:
        await queue_automatic(core, session, thread, row, identity, text)
