"""Apply what a connector parsed out of one raw event: messages, statuses, edits, actions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import (
    Acknowledgement,
    ActionEvent,
    Channel,
    Connector,
    Ignored,
    InboundItem,
    InboundMessage,
    MessageEdit,
    ReachabilityChange,
    StatusUpdate,
    Unreadable,
)
from router.access.events import hold_thread
from router.cases.book import CaseBook
from router.core import Core, queue_event
from router.csat.answers import answer_tap, is_survey_tap, without_survey_echoes
from router.customers.facts import apply_channel_facts
from router.customers.identity import (
    Resolved,
    find_sender,
    identity_value,
    resolve_sender,
    suggest,
)
from router.customers.merge import auto_merge
from router.customers.repository import find_identity, live_customer, thread_of
from router.ingest.batch import Batch
from router.models import Case, EarlyStatus, Message, MessageAlias, Thread
from router.models.base import utcnow
from router.outbox.service import queue_automatic
from router.sla import lifecycle as sla_lifecycle
from router.threads.repository import message_by_external_id, message_exists
from router.threads.tokens import TOKEN_PREFIX, thread_from_token
from router.threads.views import NewMessage, message_view, thread_view

STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
# Alias prefix under which the first part of a multi-part message is found.
PART_PREFIX = "part:"
# A stored error or note is cut to this length.
NOTE_LIMIT = 4000
UNKNOWN_AUTOMATIC = "automatic mail from an unknown sender creates no customer"


@dataclass
class Outcome:
    """What became of one raw event's items, and so the event's final state."""

    applied: int = 0
    ignored: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def state(self) -> tuple[str, str | None]:
        """(state, why): `partial` when a part could not be read, `ignored` when nothing was
        applied on purpose, else `processed`."""
        if self.unreadable:
            return "partial", "; ".join(self.unreadable)[:NOTE_LIMIT]
        if self.ignored and not self.applied:
            return "ignored", "; ".join(dict.fromkeys(self.ignored))[:NOTE_LIMIT]
        return "processed", None


async def apply_items(
    core: Core, session: AsyncSession, channel: Channel, items: list[InboundItem], raw_id: int,
    batch: Batch | None = None,
) -> Outcome:
    connector = core.connector(channel.type)
    outcome = Outcome()
    if any(is_survey_tap(item) for item in items):
        items = without_survey_echoes(items)
    for item in items:
        if isinstance(item, InboundMessage):
            if await apply_message(core, session, channel, connector, item, raw_id,
                                   batch) is IGNORED:
                outcome.ignored.append(UNKNOWN_AUTOMATIC)
            else:
                outcome.applied += 1
            continue
        if isinstance(item, Ignored):
            outcome.ignored.append(item.reason)
            continue
        if isinstance(item, Unreadable):
            outcome.unreadable.append(item.reason)
            continue
        outcome.applied += 1
        await _settle(batch)  # the rest query rows this batch may not have flushed yet
        if isinstance(item, StatusUpdate):
            await apply_status(session, item)
        elif isinstance(item, MessageEdit):
            await apply_edit(session, item)
        elif isinstance(item, ReachabilityChange):
            await apply_reachability(session, channel, connector, item)
        elif isinstance(item, ActionEvent) and is_survey_tap(item):
            await answer_tap(core, session, channel, item)
        elif isinstance(item, ActionEvent):
            data = _jsonable(dataclasses.asdict(item))
            # Whose press it was: the live stream shows it only to those who see the thread.
            identity = await find_identity(session, connector.identity_kind, identity_value(
                channel, connector, item.external_user_id))
            data["customer_id"] = identity.customer_id if identity is not None else None
            queue_event(session, "action.received", data)
        else:
            raise TypeError(f"connector {channel.type} produced an unknown item "
                            f"{type(item).__name__}")
    return outcome


async def _settle(batch: Batch | None, *, cases: bool = False) -> None:
    """Before a query: write what the batch holds back (the session does not autoflush).
    Its new cases wait for the batch's end (routed in one pass) unless the query is about
    cases (a merge folds them)."""
    if batch is not None:
        await batch.flush(cases=cases)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


async def _thread_from_refs(
    core: Core, session: AsyncSession, msg: InboundMessage
) -> Thread | None:
    for ref in msg.thread_refs:
        if ref.startswith(TOKEN_PREFIX):
            thread_id = thread_from_token(core.secret_key, ref[len(TOKEN_PREFIX):])
            if thread_id is not None:
                thread = await session.get(Thread, thread_id)
                if thread is not None:
                    return thread
            continue
        earlier = await session.scalar(select(Message).where(Message.external_id == ref).limit(1))
        if earlier is not None:
            return await session.get(Thread, earlier.thread_id)
    return None


class _Ignored:
    """apply_message's answer for a message that must not create its unknown sender."""


IGNORED = _Ignored()


async def apply_message(
    core: Core, session: AsyncSession, channel: Channel, connector: Connector,
    msg: InboundMessage, raw_id: int, batch: Batch | None = None,
) -> Message | NewMessage | _Ignored | None:
    stored = batch.stored(channel.id, msg.external_message_id) if batch else None
    if stored is None:
        await _settle(batch)
        stored = await message_exists(session, channel.id, msg.external_message_id)
    if stored:
        return None
    if msg.part_of is not None:
        await _settle(batch)
        whole = await message_by_external_id(session, channel.id, PART_PREFIX + msg.part_of)
        if whole is not None:
            return await _fold_part(session, whole, msg, batch)
    known = batch.resolve(channel, connector, msg) if batch else None
    if known is not None:
        resolved, thread = known
    else:
        await _settle(batch)
        if not msg.creates_customer and await find_sender(
                session, channel, connector, msg.external_user_id) is None:
            return IGNORED
        resolved = await resolve_sender(session, channel, connector, msg)
        thread = await thread_of(session, resolved.customer.id)
        if resolved.created and msg.thread_refs:
            # A reply from an address we have not seen joins the thread it answers; the new
            # address is only suggested as the same person, never linked on our own authority.
            referenced = await _thread_from_refs(core, session, msg)
            if referenced is not None and referenced.id != thread.id:
                owner = await live_customer(session, referenced.customer_id)
                await suggest(session, resolved.customer.id, owner.id,
                              f"{resolved.identity.value} replied in this customer's thread")
                thread = await thread_of(session, owner.id)
        if batch is not None:
            batch.learn(resolved, thread)
    if msg.customer_facts is not None:
        # Before anything routes this message: rules read the tier the CRM just sent.
        apply_channel_facts(resolved.customer, msg.customer_facts)
    reply_to_id = None
    if msg.reply_to_external_id:
        await _settle(batch)
        quoted = await message_by_external_id(session, channel.id, msg.reply_to_external_id)
        reply_to_id = quoted.id if quoted else None
    message = NewMessage(
        thread_id=thread.id, direction="inbound", channel_id=channel.id,
        identity_id=resolved.identity.id, external_id=msg.external_message_id[:500],
        text=msg.text, attachments=[_jsonable(dataclasses.asdict(a)) for a in msg.attachments],
        meta=_jsonable(dict(msg.meta)), sent_at=msg.sent_at, created_at=utcnow(),
        status="received", automatic=msg.automatic, raw_event_id=raw_id,
        reply_to_message_id=reply_to_id, edits=[],
    )
    if batch is None:
        await _insert(session, message)
        created = None
    else:
        # Written with the batch's other rows at its next flush; the event keeps its place.
        created = batch.add(message, resolved.customer.id)
    if msg.part_of is not None:
        await _settle(batch)
        session.add(MessageAlias(channel_id=channel.id, external_id=PART_PREFIX + msg.part_of,
                                 message_id=message.id))
        if batch is not None:
            batch.remember(channel.id, PART_PREFIX + msg.part_of)
    was_new = resolved.created and thread.last_inbound_at is None
    reopened = thread.status != "open" and not msg.automatic
    if thread.last_message_at is None or msg.sent_at >= thread.last_message_at:
        thread.last_message_at = msg.sent_at
    if thread.last_inbound_at is None or msg.sent_at >= thread.last_inbound_at:
        thread.last_inbound_at = msg.sent_at
        thread.last_inbound_channel_id = channel.id
    if reopened:
        thread.status = "open"
    thread.updated_at = utcnow()
    if created is None:
        await session.flush()
        created = {**message_view(message), "customer_id": resolved.customer.id}
    queue_event(session, "message.created", created)
    queue_event(session, "thread.updated", thread_view(thread))
    hold_thread(session, thread)
    # Opens, reopens or continues the thread's case (routed at the batch's flush).
    book = batch.cases if batch is not None else CaseBook(core, session)
    await book.inbound(thread, resolved.customer, channel, msg, thread.updated_at)
    if batch is None:
        await book.flush()

    if (was_new or reopened) and not msg.automatic:
        ack = connector.acknowledgement(channel, msg)
        if ack is not None:
            await _acknowledge(core, session, thread, channel, resolved, ack, batch)

    if resolved.auto_merge_from:
        await _settle(batch, cases=True)
    for other in resolved.auto_merge_from:
        # Takes the same row locks as an agent's merge (router/customers/merge.py).
        if await auto_merge(session, resolved.customer.id, other) and batch is not None:
            batch.forget_senders()
    return message


async def _acknowledge(core: Core, session: AsyncSession, thread: Thread, channel: Channel,
                       resolved: Resolved, ack: Acknowledgement, batch: Batch | None) -> None:
    """The automatic acknowledgement, at most once per interval; e-mail: also to each new
    case (it is told its own promise), naming the case's SLA first-response due time."""
    now = utcnow()
    if channel.type != "email":
        if thread.last_ack_at is None or now - thread.last_ack_at >= ack.min_interval:
            thread.last_ack_at = now
            await _settle(batch)
            await queue_automatic(core, session, thread, channel, resolved.identity, ack.text)
        return
    # The batch routes its new cases now (e-mail only): the case's SLA clock is the text.
    await _settle(batch, cases=True)
    case = await session.get(Case, thread.case_id) if thread.case_id is not None else None
    if case is None:
        return
    if (thread.last_ack_at is not None and thread.last_ack_at >= case.created_at
            and now - thread.last_ack_at < ack.min_interval):
        return  # this case was acknowledged already, within the channel's interval
    customer = resolved.customer
    text = await sla_lifecycle.acknowledgement_text(
        session, case, str(channel.config.get("ack_template") or ""),
        channel.config.get("ack_language") or customer.language,
        timezone=(customer.attributes or {}).get("timezone"))
    thread.last_ack_at = now
    await queue_automatic(core, session, thread, channel, resolved.identity, text or ack.text)


async def _insert(session: AsyncSession, message: NewMessage) -> None:
    row = Message(**message.row())
    session.add(row)
    await session.flush()
    message.id = row.id


async def _fold_part(
    session: AsyncSession, whole: Message, part: InboundMessage, batch: Batch | None = None
) -> Message:
    """Another part of a message sent in parts: its attachments (and caption) join the first."""
    whole.attachments = [*(whole.attachments or []),
                         *(_jsonable(dataclasses.asdict(a)) for a in part.attachments)]
    if part.text and part.text not in whole.text:
        whole.text = f"{whole.text}\n{part.text}" if whole.text else part.text
    session.add(MessageAlias(channel_id=whole.channel_id or part.channel_id,
                             external_id=part.external_message_id[:500], message_id=whole.id))
    if batch is not None:
        batch.remember(whole.channel_id or part.channel_id, part.external_message_id[:500])
    await session.flush()
    queue_event(session, "message.updated", message_view(whole))
    return whole


async def apply_status(session: AsyncSession, update: StatusUpdate) -> None:
    message = await message_by_external_id(session, update.channel_id, update.external_message_id)
    if message is None:
        # The status beat the send call's answer; keep it until the send records the id.
        early = await session.get(EarlyStatus, (update.channel_id, update.external_message_id))
        if early is None:
            session.add(EarlyStatus(channel_id=update.channel_id,
                                    external_id=update.external_message_id,
                                    status=update.status, error=update.error, at=update.at))
        elif _outranks(update.status, early.status):
            early.status, early.error, early.at = update.status, update.error, update.at
        await session.flush()
        return
    set_status(session, message, update.status, update.error)


def _outranks(new: str, old: str) -> bool:
    if old == "failed":
        return False
    if new == "failed":
        return True
    return STATUS_RANK.get(new, 0) > STATUS_RANK.get(old, 0)


def set_status(session: AsyncSession, message: Message, status: str, error: str | None) -> None:
    """Move a delivery status forward only (a late 'sent' never hides 'read')."""
    if not _outranks(status, message.status):
        return
    message.status = status
    if error:
        message.error = error
    queue_event(session, "message.status", {
        "message_id": message.id, "thread_id": message.thread_id, "status": status,
        "error": message.error, "external_id": message.external_id,
    })


async def apply_edit(session: AsyncSession, edit: MessageEdit) -> None:
    message = await message_by_external_id(session, edit.channel_id, edit.external_message_id)
    if message is None:
        return
    if message.text == edit.text:
        return
    message.edits = [*(message.edits or []),
                     {"text": message.text, "replaced_at": edit.edited_at.isoformat()}]
    message.text = edit.text
    await session.flush()
    queue_event(session, "message.updated", message_view(message))


async def apply_reachability(
    session: AsyncSession, channel: Channel, connector: Connector, change: ReachabilityChange
) -> None:
    value = identity_value(channel, connector, change.external_user_id)
    identity = await find_identity(session, connector.identity_kind, value)
    if identity is None:
        return
    identity.reachable = change.reachable
    queue_event(session, "identity.updated", {
        "identity_id": identity.id, "customer_id": identity.customer_id,
        "kind": identity.kind, "value": identity.value, "reachable": change.reachable,
    })
