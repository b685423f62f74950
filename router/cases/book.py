"""Cases opened and reopened by one inbound batch, written and routed at the batch's flush.

Per message the book only changes objects in memory: the thread's current case is known
from the batch's sender prefetch (the case joins the sender query) or from the session, so a
known sender's message costs no extra statement. At flush the rules are loaded once and
evaluated per case, every new and reopened case is placed in one pass (the teams' members
locked and counted once), and the new cases go in with one INSERT.

Live events keep their place: a case's events are reserved when its message is applied and
filled in at flush, so a batch publishes what one event at a time would, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import Channel, InboundMessage
from router.assignment.placement import Ask, roster
from router.cases import routing
from router.cases.state import HISTORY_KEY, history, record, settle, sync_thread
from router.cases.views import NewCase, case_event, case_view
from router.core import EVENTS_KEY, UNFILLED, Core, queue_event
from router.customers.repository import CaseRef
from router.models import Case, CaseEvent, Customer, Thread
from router.models.base import UTCDateTime, utcnow
from router.rules.engine import load_rules
from router.sla import clock as sla_clock
from router.sla import lifecycle as sla
from router.sla import timers
from router.sla.clock import SlaContext

CASES: Table = Case.__table__  # type: ignore[assignment]
INSERT_CASES = insert(CASES).returning(CASES.c.id, CASES.c.thread_id)
# The table, not the entity: the ORM's bulk insert leaves out None values and so splits
# rows with and without an actor into one statement each.
INSERT_HISTORY = insert(cast(Table, CaseEvent.__table__))
# The next-response clock of open cases the customer wrote to again after an answer, all
# of a batch in one executemany (the message count is taken from the messages themselves:
# router/cases/counts.py).
AWAIT = (update(CASES).where(CASES.c.id == bindparam("b_id")).values(
    awaiting_since=func.coalesce(CASES.c.awaiting_since,
                                 bindparam("b_since", type_=UTCDateTime())),
    updated_at=bindparam("b_now", type_=UTCDateTime())))
LOCK_THREADS = (select(Thread.id, Thread.case_id)
                .where(Thread.id.in_(bindparam("ids", expanding=True)))
                .order_by(Thread.id).with_for_update())
LOCK_REOPENED = (select(Case.id, Case.reopen_count, Case.status)
                 .where(Case.id.in_(bindparam("ids", expanding=True)))
                 .order_by(Case.id).with_for_update())
Event = tuple[str, dict[str, Any]]


@dataclass
class _Routing:
    """A case the flush routes: what the rules see, and who last helped the customer."""

    case: Case | NewCase
    thread: Thread
    customer: Customer
    channel: Channel
    text: str
    previous_agent: int | None
    # Indexes of the case's events in the unit's event list.
    opened: int | None
    placed: int
    # What this transaction read and decided on: the thread's case, the reopen count.
    read_case_id: int | None = None
    read_reopens: int = 0


class CaseConflict(Exception):
    """Another replica opened or reopened this thread's case first: apply the event again."""


class CaseBook:
    def __init__(self, core: Core, session: AsyncSession) -> None:
        self.core = core
        self.session = session
        self.window = timedelta(seconds=core.settings.reopen_window_seconds)
        # The current case of each thread this batch touched (a NewCase until inserted).
        self._current: dict[int, Case | NewCase | CaseRef | None] = {}
        self._route: list[_Routing] = []
        # Open cases answered before that the customer wrote to again: id → earliest time.
        self._awaiting: dict[int, datetime] = {}
        # Cases whose SLA clock a message of this batch moved: timers re-armed at flush.
        self._rearm: dict[int, Case] = {}

    def know(self, thread: Thread, case: CaseRef | None) -> None:
        """The thread's current case as the batch's prefetch read it."""
        if (case is None) == (thread.case_id is None) and thread.id not in self._current:
            self._current[thread.id] = case

    def forget(self) -> None:
        """A merge moved cases between threads with UPDATE statements: ask again."""
        self._current = {k: v for k, v in self._current.items() if isinstance(v, NewCase)}

    def _reserve(self) -> int:
        """A place in the unit's event list for an event known only at flush."""
        events: list[Event] = self.session.info.setdefault(EVENTS_KEY, [])
        events.append(UNFILLED)
        return len(events) - 1

    def _fill(self, slot: int | None, event: Event | None) -> None:
        # Events are only ever appended while the book's slots are open (a failed event's
        # are cut off with the event's own book): the index still points at the slot.
        if slot is not None and event is not None:
            self.session.info[EVENTS_KEY][slot] = event

    async def _case_of(self, thread: Thread) -> Case | NewCase | CaseRef | None:
        if thread.id in self._current:
            return self._current[thread.id]
        case = await self.session.get(Case, thread.case_id) if thread.case_id else None
        self._current[thread.id] = case
        return case

    async def inbound(self, thread: Thread, customer: Customer, channel: Channel,
                      msg: InboundMessage, now: datetime) -> None:
        """The customer wrote: a new case, a reopened one, or one more message in it."""
        if msg.automatic:
            return  # an out-of-office reply is not the customer asking for anything
        case = await self._case_of(thread)
        # The clock starts at the provider's time, never later than we received it.
        sent = min(msg.sent_at, now)
        if case is None or (case.status == "resolved" and case.resolved_at is not None
                            and sent - case.resolved_at > self.window):
            new = NewCase(thread_id=thread.id, customer_id=customer.id, opened_at=sent,
                          channel_id=channel.id, channel_type=channel.type,
                          last_inbound_at=sent, awaiting_since=sent, created_at=now,
                          priority=thread.priority)
            self._current[thread.id] = new
            self._route.append(_Routing(
                new, thread, customer, channel, msg.text,
                case.assignee_id if case is not None else None, self._reserve(),
                self._reserve(), read_case_id=thread.case_id))
            thread.status = "open"
            return
        if isinstance(case, CaseRef):
            if case.status == "open":
                # The common message: nothing to write unless the customer writes again
                # after an answer (the next-response clock starts then).
                if case.awaiting_since is None and case.sla_policy_id is None:
                    known = self._awaiting.get(case.id)
                    self._awaiting[case.id] = sent if known is None else min(known, sent)
                if case.awaiting_since is not None or case.sla_policy_id is None:
                    return
            # Pending, resolved, or answered and written to again under an SLA (next
            # response starts): the whole row, to change its state (once per customer turn).
            loaded = await self.session.get(Case, case.id)
            assert loaded is not None
            self._current[thread.id] = case = loaded
        case.messages_in += 1
        if case.last_inbound_at is None or sent >= case.last_inbound_at:
            case.last_inbound_at = sent
        if isinstance(case, NewCase):
            return
        case.last_inbound_channel_id = channel.id
        if case.status in ("open", "pending"):
            if case.status == "pending":
                case.status = "open"
                thread.status = "open"
            # Ends a pause, starts next response after an answer (the provider's time).
            before = sla_clock.clock_state(case)
            await sla.customer_wrote(self.session, case, sent, arm=False)
            if sla_clock.clock_state(case) != before:
                self._rearm[case.id] = case
        if case.awaiting_since is None:
            case.awaiting_since = sent
        if case.status == "resolved":
            read_reopens = case.reopen_count
            case.status = "open"
            case.reopened_at = now
            case.reopen_count += 1
            case.resolved_at = None
            case.resolved_by = None
            thread.status = "open"
            record(self.session, case.id, "reopened", now, actor=None,
                   data={"by": "customer", "channel_id": channel.id})
            queue_event(self.session, "case.reopened", case_event(case))
            self._route.append(_Routing(case, thread, customer, channel, msg.text,
                                        case.assignee_id, None, self._reserve(),
                                        read_case_id=case.id, read_reopens=read_reopens))

    async def flush(self) -> None:
        """Start next-response clocks; route and place what this batch opened or
        reopened; insert the new cases."""
        if self._awaiting:
            awaiting, self._awaiting = self._awaiting, {}
            now = utcnow()
            await self.session.execute(AWAIT, [
                {"b_id": case_id, "b_since": since, "b_now": now}
                for case_id, since in sorted(awaiting.items())])
        pending, self._route = self._route, []
        if not pending:
            await self._rearm_timers()
            return
        session = self.session
        if not self.core.sqlite:
            await self._recheck(pending)
        # History lines go in with one statement at the end (the ORM would insert them one
        # by one on SQLite).
        history_rows: list[dict[str, Any]] = []
        session.info[HISTORY_KEY] = history_rows
        try:
            await self._route_all(pending)
        finally:
            session.info.pop(HISTORY_KEY, None)
        if history_rows:
            await session.execute(INSERT_HISTORY, history_rows)
        await self._rearm_timers()

    async def _rearm_timers(self) -> None:
        if self._rearm:
            cases, self._rearm = list(self._rearm.values()), {}
            await timers.rearm_many(self.session, [
                (case, await sla.context_of(self.session, case)) for case in cases])

    async def _route_all(self, pending: list[_Routing]) -> None:
        session = self.session
        now = utcnow()
        rules = await load_rules(session)
        # Read once for the batch: running experiments and the default SLA policy.
        reads = await sla.opening(session)
        hours = routing.OpenHours(session, now, reads.default_policy_id)
        asks: list[Ask] = []
        for item in pending:
            open_now = await hours.of(item.channel) if rules.reads_business_hours else None
            found = routing.route(rules, routing.context(
                item.channel, item.customer, item.thread, item.text, open_now), item.channel)
            routing.apply(item.case, found)
            if found.agent_id is not None:
                asks.append(Ask(item.case.team_id, item.case.channel_type, found.agent_id,
                                prefer_member_only=False))
            else:
                # A reopened case goes back to the agent who had it if they can take it; a
                # new one to the customer's previous agent if the team is sticky.
                asks.append(Ask(item.case.team_id, item.case.channel_type, item.previous_agent,
                                prefer_member_only=item.case.team_id is not None,
                                sticky_only=isinstance(item.case, NewCase)))
        team_ids = [a.team_id for a in asks if a.team_id is not None]
        found_roster = await roster(session, team_ids,
                                    [a.prefer for a in asks if a.prefer is not None])
        for item, ask in zip(pending, asks, strict=True):
            if item.case.team_id is not None and item.case.team_id not in found_roster.teams:
                item.case.team_id = None  # the team was deleted since the rule was written
                ask = Ask(None, ask.channel_type, ask.prefer, prefer_member_only=False)
            settle(item.case, found_roster.pick(ask, now), now)
        await found_roster.save(session)
        reads.teams = found_roster.teams
        new = [item for item in pending if isinstance(item.case, NewCase)]
        opened: list[tuple[Case, SlaContext | None]] = []
        if new:
            # The SLA clock (and experiment bucket) go in with the insert.
            for item in new:
                # NewCase carries every field the clock reads and writes.
                case = cast(Case, item.case)
                ctx = await sla.case_opened(session, case, case.opened_at, case.opened_at, now,
                                            arm_now=False, batch=reads)
                opened.append((case, ctx))
            await self._insert(new)
            await timers.arm_many(session, opened)  # one insert for the batch's timers
        for item in pending:
            if isinstance(item.case, Case):
                # Reopened by the customer (rules applied again): next response and
                # resolution count from the message's provider time (awaiting_since).
                await sla.case_reopened(session, item.case, item.case.awaiting_since
                                        or item.case.reopened_at or now)
        for item in pending:
            if item.opened is not None:
                record(session, item.case.id, "opened", now, actor=None,
                       data={"channel_id": item.case.channel_id,
                             "rule_id": item.case.rule_id, "team_id": item.case.team_id})
                # As it opened (a batch may have added the customer's next messages since).
                self._fill(item.opened, ("case.opened", {
                    **case_view(item.case), "case_id": item.case.id, "messages_in": 1}))
            self._fill(item.placed, history(session, item.case, now))
            sync_thread(item.thread, item.case)
            if isinstance(item.case, NewCase):
                # Later messages of this batch see the inserted row as a known sender's do.
                self._current[item.thread.id] = CaseRef(
                    item.case.id, item.case.status, None, item.case.assignee_id,
                    item.case.awaiting_since, item.case.sla_policy_id)

    async def _recheck(self, pending: list[_Routing]) -> None:
        """PostgreSQL: lock the threads (and reopened cases) being routed and check that no
        other replica opened or reopened their case since this batch read them (on SQLite
        the batch holds the one write lock from its start). Only batches that route pay it."""
        threads = {item.thread.id: item.read_case_id for item in pending}
        rows = await self.session.execute(LOCK_THREADS, {"ids": sorted(threads)})
        for thread_id, case_id in rows:
            if case_id != threads[thread_id]:
                raise CaseConflict(f"thread {thread_id} got another case meanwhile")
        reopened = {item.case.id: item.read_reopens for item in pending
                    if isinstance(item.case, Case)}
        if reopened:
            found = await self.session.execute(LOCK_REOPENED, {"ids": sorted(reopened)})
            for case_id, count, status in found:
                if count != reopened[case_id] or status != "resolved":
                    raise CaseConflict(f"case {case_id} was reopened meanwhile")

    async def _insert(self, new: list[_Routing]) -> None:
        """One INSERT for the batch's new cases (matched back by thread: one each)."""
        cases = [item.case for item in new if isinstance(item.case, NewCase)]
        result = await self.session.execute(INSERT_CASES, [case.row() for case in cases])
        ids = {thread_id: id_ for id_, thread_id in result}
        for case in cases:
            case.id = ids[case.thread_id]

