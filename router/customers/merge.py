"""Merging two customers into one thread, and undoing it exactly.

A merge moves the source's identities and messages to the target and hides the source's
thread; the audit record keeps what undo needs. Undo moves back the identities it moved and
every message that belongs to them — including messages that arrived after the merge — and
restores both threads' fields.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from router.cases.merge import fold_cases, unfold_cases
from router.core import queue_event
from router.customers.repository import live_customer, thread_of
from router.errors import Conflict, NotFound, Unprocessable
from router.models import Customer, Identity, Merge, MergeSuggestion, Message, OutboxItem, Thread
from router.models.base import utcnow
from router.threads.views import thread_view

THREAD_FIELDS = ("status", "assignee", "team", "priority", "tags", "last_message_at",
                 "last_inbound_at", "last_inbound_channel_id", "first_response_at", "last_ack_at",
                 "team_id", "assignee_id", "case_id")
STATUS_RANK = {"open": 0, "pending": 1, "resolved": 2}
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


def _fields(thread: Thread) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in THREAD_FIELDS:
        value = getattr(thread, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _restore(thread: Thread, saved: dict[str, Any]) -> None:
    from datetime import datetime

    for name in THREAD_FIELDS:
        if name not in saved:
            continue  # a merge recorded before the field was kept
        value = saved.get(name)
        if name.endswith("_at") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        if name == "last_message_at" and value is None:
            continue
        setattr(thread, name, value)


def _later(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


# PostgreSQL's answers when two transactions wait on each other's rows (one is cancelled).
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


async def lock_customers(session: AsyncSession, *customer_ids: int) -> dict[int, Customer]:
    """Lock the customers' rows (PostgreSQL: FOR UPDATE, in id order, so two merges of the
    same pair queue instead of deadlocking) and read their state as it is now.

    What the session holds unflushed is written first: re-reading the rows must not drop
    it. SQLite has one writer per database, so the plain read is already serialised there."""
    await session.flush()
    rows = await session.scalars(
        select(Customer).where(Customer.id.in_(sorted(set(customer_ids))))
        .order_by(Customer.id).with_for_update()
        .execution_options(populate_existing=True))
    return {row.id: row for row in rows}


class AlreadyMerged(Conflict):
    """One side was merged away by someone else first (found once the rows were locked)."""


async def auto_merge(session: AsyncSession, customer_id: int, other_id: int) -> bool:
    """The ingest worker's verified ⇄ verified link: fold whichever customers hold the two
    now into the lower id; True if a merge was made. An agent merging one of them at the
    same moment wins, and the link is then made from where the customers are after it."""
    for _attempt in range(3):
        mine = (await live_customer(session, customer_id)).id
        theirs = (await live_customer(session, other_id)).id
        if mine == theirs:
            return False
        try:
            await merge_customers(session, min(mine, theirs), max(mine, theirs), automatic=True,
                                  reason="verified contact detail matches", actor="omniroute")
        except AlreadyMerged:
            continue
        return True
    raise Conflict(f"customers {customer_id} and {other_id} kept changing while being linked")


@asynccontextmanager
async def _contended(action: str) -> AsyncIterator[None]:
    """A lock cycle with another writer (e.g. an ingest batch touching the same thread) is
    the caller's to retry, not a server error."""
    try:
        yield
    except DBAPIError as exc:
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if code not in RETRYABLE_SQLSTATES:
            raise
        raise Conflict(f"another change to these customers ran at the same time; "
                       f"{action} again") from exc


async def merge_customers(
    session: AsyncSession, target_id: int, source_id: int, *, automatic: bool,
    reason: str | None, actor: str | None,
) -> Merge:
    """Fold `source` into `target`; concurrent merges and undos of either one wait their turn
    and re-check, so a customer is never merged into one that was merged into it."""
    if target_id == source_id:
        raise Unprocessable("a customer cannot be merged into itself")
    async with _contended("merge"):
        return await _merge_locked(session, target_id, source_id, automatic=automatic,
                                   reason=reason, actor=actor)


async def _merge_locked(
    session: AsyncSession, target_id: int, source_id: int, *, automatic: bool,
    reason: str | None, actor: str | None,
) -> Merge:
    locked = await lock_customers(session, target_id, source_id)
    target, source = locked.get(target_id), locked.get(source_id)
    for cid, cust in ((target_id, target), (source_id, source)):
        if cust is None:
            raise NotFound(f"customer {cid} does not exist")
        if cust.merged_into_id is not None:
            raise AlreadyMerged(f"customer {cid} is already merged into {cust.merged_into_id}")
    assert target is not None and source is not None
    t_thread = await thread_of(session, target.id)
    s_thread = await thread_of(session, source.id)

    identity_ids = list(await session.scalars(
        select(Identity.id).where(Identity.customer_id == source.id)))
    message_ids = list(await session.scalars(
        select(Message.id).where(Message.thread_id == s_thread.id)))
    suggestions = list(await session.scalars(select(MergeSuggestion).where(
        or_(MergeSuggestion.customer_id.in_([source.id]),
            MergeSuggestion.other_customer_id.in_([source.id])))))
    snapshot = {
        "identity_ids": identity_ids,
        "message_ids": message_ids,
        "source_thread_id": s_thread.id,
        "target_thread_id": t_thread.id,
        "source_thread": _fields(s_thread),
        "target_thread": _fields(t_thread),
        "source_name": source.name,
        "target_name": target.name,
        "suggestions": [
            {"customer_id": s.customer_id, "other_customer_id": s.other_customer_id,
             "reason": s.reason} for s in suggestions
        ],
    }

    await session.execute(update(Identity).where(Identity.customer_id == source.id)
                          .values(customer_id=target.id))
    await session.execute(update(Message).where(Message.thread_id == s_thread.id)
                          .values(thread_id=t_thread.id))
    await session.execute(update(OutboxItem).where(OutboxItem.thread_id == s_thread.id)
                          .values(thread_id=t_thread.id))
    for suggestion in suggestions:
        await session.delete(suggestion)

    _fold_thread(t_thread, s_thread)
    snapshot["cases"] = await fold_cases(session, t_thread, s_thread, utcnow())
    s_thread.hidden = True
    source.merged_into_id = target.id
    if target.name is None:
        target.name = source.name

    record = Merge(target_customer_id=target.id, source_customer_id=source.id,
                   automatic=automatic, reason=reason, actor=actor, snapshot=snapshot)
    session.add(record)
    await session.flush()
    queue_event(session, "customer.merged", {
        "merge_id": record.id, "customer_id": target.id, "merged_customer_id": source.id,
        "thread_id": t_thread.id, "merged_thread_id": s_thread.id, "automatic": automatic,
    })
    queue_event(session, "thread.updated", thread_view(t_thread))
    return record


def _fold_thread(target: Thread, source: Thread) -> None:
    target.last_message_at = _later(target.last_message_at, source.last_message_at)
    if source.last_inbound_at and (
        target.last_inbound_at is None or source.last_inbound_at > target.last_inbound_at
    ):
        target.last_inbound_at = source.last_inbound_at
        target.last_inbound_channel_id = source.last_inbound_channel_id
    if STATUS_RANK.get(source.status, 0) < STATUS_RANK.get(target.status, 0):
        target.status = source.status
    if PRIORITY_RANK.get(source.priority, 1) > PRIORITY_RANK.get(target.priority, 1):
        target.priority = source.priority
    target.assignee = target.assignee or source.assignee
    target.team = target.team or source.team
    target.tags = sorted(set(target.tags or []) | set(source.tags or []))
    if source.first_response_at and (
        target.first_response_at is None or source.first_response_at < target.first_response_at
    ):
        target.first_response_at = source.first_response_at


async def undo_merge(session: AsyncSession, merge_id: int) -> Merge:
    """Split a merge again; takes the same locks as a merge, then re-checks the record."""
    async with _contended("undo"):
        return await _undo_locked(session, merge_id)


async def _undo_locked(session: AsyncSession, merge_id: int) -> Merge:
    record = await session.get(Merge, merge_id)
    if record is None:
        raise NotFound(f"merge {merge_id} does not exist")
    locked = await lock_customers(session, record.target_customer_id,
                                  record.source_customer_id)
    # Read again under the locks: another undo of this merge may have committed meanwhile.
    record = await session.scalar(select(Merge).where(Merge.id == merge_id)
                                  .execution_options(populate_existing=True))
    assert record is not None
    if record.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone")
    target = locked.get(record.target_customer_id)
    source = locked.get(record.source_customer_id)
    assert target is not None and source is not None
    if target.merged_into_id is not None:
        raise Conflict(f"customer {target.id} was merged again since (into "
                       f"{target.merged_into_id}); undo that merge first")
    snap = record.snapshot
    t_thread = await session.get(Thread, snap["target_thread_id"])
    s_thread = await session.get(Thread, snap["source_thread_id"])
    assert t_thread is not None and s_thread is not None
    identity_ids: list[int] = snap["identity_ids"]
    message_ids: list[int] = snap["message_ids"]

    # in_() of an empty list is a valid, always-false expression in SQLAlchemy 2.
    moving = select(Message.id).where(
        Message.thread_id == t_thread.id,
        or_(Message.id.in_(message_ids), Message.identity_id.in_(identity_ids)),
    )
    moved_ids = list(await session.scalars(moving))
    if moved_ids:
        await session.execute(update(Message).where(Message.id.in_(moved_ids))
                              .values(thread_id=s_thread.id))
        await session.execute(update(OutboxItem).where(OutboxItem.message_id.in_(moved_ids))
                              .values(thread_id=s_thread.id))
    if identity_ids:
        await session.execute(update(Identity).where(
            Identity.id.in_(identity_ids), Identity.customer_id == target.id
        ).values(customer_id=source.id))

    await unfold_cases(session, snap.get("cases") or {}, s_thread)
    _restore(s_thread, snap["source_thread"])
    _restore(t_thread, snap["target_thread"])
    await _catch_up_activity(session, s_thread)
    await _catch_up_activity(session, t_thread)
    s_thread.hidden = False
    source.merged_into_id = None
    source.name = snap["source_name"]
    target.name = snap["target_name"]
    for s in snap.get("suggestions", []):
        session.add(MergeSuggestion(customer_id=s["customer_id"],
                                    other_customer_id=s["other_customer_id"], reason=s["reason"]))
    record.undone_at = utcnow()
    await session.flush()
    queue_event(session, "customer.unmerged", {
        "merge_id": record.id, "customer_id": target.id, "restored_customer_id": source.id,
        "thread_id": t_thread.id, "restored_thread_id": s_thread.id,
    })
    queue_event(session, "thread.updated", thread_view(t_thread))
    queue_event(session, "thread.updated", thread_view(s_thread))
    return record


async def _catch_up_activity(session: AsyncSession, thread: Thread) -> None:
    """Messages that arrived after the merge move the restored activity times forward."""
    latest = await session.scalar(
        select(Message).where(Message.thread_id == thread.id)
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1))
    if latest is not None and latest.sent_at > thread.last_message_at:
        thread.last_message_at = latest.sent_at
    inbound = await session.scalar(
        select(Message).where(Message.thread_id == thread.id, Message.direction == "inbound")
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1))
    if inbound is not None and (thread.last_inbound_at is None
                                or inbound.sent_at > thread.last_inbound_at):
        thread.last_inbound_at = inbound.sent_at
        thread.last_inbound_channel_id = inbound.channel_id
