"""What one inbound batch looks up once, instead of once per message.

Before a batch is applied, two queries answer for all of its messages: which of their ids are
already stored (messages and aliases), and which senders are known, with their customer and
thread (the common case: someone who wrote before). A message from such a sender skips the
per-message lookups and its row is written with the others at the batch's one flush.

Anything the prefetch cannot answer exactly takes the general path, which flushes what is
pending first (the session does not autoflush) and then queries as it always did: a new or
merged sender, a contact hint that is not already this customer's, a part of an album, a
quoted message, an acknowledgement, a status or an edit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import Channel, Connector, InboundMessage
from router.cases.book import CaseBook
from router.customers.identity import Resolved, clean_hints, identity_value, record_inbound
from router.customers.repository import senders
from router.models import Customer, Identity, Message, Thread
from router.threads.repository import stored_external_ids
from router.threads.views import NewMessage, message_view

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
INSERT_MESSAGES = insert(MESSAGES).returning(MESSAGES.c.id, MESSAGES.c.channel_id,
                                             MESSAGES.c.external_id)


@dataclass
class Sender:
    identity: Identity
    customer: Customer
    thread: Thread


class Batch:
    def __init__(self, session: AsyncSession, cases: CaseBook) -> None:
        self.session = session
        # The cases this batch opens or reopens: routed and inserted at flush.
        self.cases = cases
        # (channel id, external id) pairs the prefetch asked about, and those found stored or
        # written since: an asked id not in `_stored` is certainly not stored.
        self._asked: set[tuple[str, str]] = set()
        self._stored: set[tuple[str, str]] = set()
        self._senders: dict[tuple[str, str], Sender] = {}
        # New messages with their message.created event data, both completed at flush.
        self._pending: list[tuple[dict[str, Any], NewMessage, int]] = []

    async def prefetch(self, wanted: Iterable[tuple[Channel, Connector, InboundMessage]]) -> None:
        ids: dict[str, set[str]] = {}
        identities: dict[str, set[str]] = {}
        for channel, connector, msg in wanted:
            ids.setdefault(channel.id, set()).add(msg.external_message_id)
            value = identity_value(channel, connector, msg.external_user_id)
            identities.setdefault(connector.identity_kind, set()).add(value)
            for hint in clean_hints(msg.hints):
                identities.setdefault(hint.kind, set()).add(hint.value)
        for channel_id, external_ids in ids.items():
            self._asked.update((channel_id, ext) for ext in external_ids)
            found = await stored_external_ids(self.session, channel_id, external_ids)
            self._stored.update((channel_id, ext) for ext in found)
        for identity, customer, thread, case in await senders(self.session, identities):
            self._senders[(identity.kind, identity.value)] = Sender(identity, customer, thread)
            self.cases.know(thread, case)

    def stored(self, channel_id: str, external_id: str) -> bool | None:
        """Whether a message or alias has this id; None when only the database can tell."""
        key = (channel_id, external_id)
        if key in self._stored:
            return True
        return False if key in self._asked else None

    def remember(self, channel_id: str, external_id: str) -> None:
        """This transaction wrote a message or alias with this id (as stored)."""
        self._stored.add((channel_id, external_id))

    def resolve(self, channel: Channel, connector: Connector,
                msg: InboundMessage) -> tuple[Resolved, Thread] | None:
        """The known sender, customer and thread, or None when the general path must decide.

        Exactly what resolve_sender does for a known sender whose customer is not merged and
        whose hints, if any, already belong to that customer.
        """
        value = identity_value(channel, connector, msg.external_user_id)
        found = self._senders.get((connector.identity_kind, value))
        if found is None or found.customer.merged_into_id is not None:
            return None
        hinted: list[tuple[Identity, bool]] = []
        for hint in clean_hints(msg.hints):
            other = self._senders.get((hint.kind, hint.value))
            if other is None or other.identity.customer_id != found.customer.id:
                return None
            hinted.append((other.identity, hint.verified and msg.user_verified))
        record_inbound(found.identity, found.customer, channel, msg, created=False)
        for identity, verified in hinted:
            if verified and not identity.verified:
                identity.verified = True
        return Resolved(found.identity, found.customer, False, []), found.thread

    def learn(self, resolved: Resolved, thread: Thread) -> None:
        """A sender the general path found or created: its next messages here are known."""
        identity = resolved.identity
        if resolved.customer.id == identity.customer_id == thread.customer_id:
            self._senders[(identity.kind, identity.value)] = Sender(
                identity, resolved.customer, thread)

    def forget_senders(self) -> None:
        """A merge moved identities with UPDATE statements: the loaded rows are stale."""
        self._senders.clear()
        self.cases.forget()

    def add(self, message: NewMessage, customer_id: int) -> dict[str, Any]:
        """Insert `message` at the next flush; returns its message.created event data, filled
        in then (when it has its id)."""
        assert message.channel_id is not None and message.external_id is not None
        self.remember(message.channel_id, message.external_id)
        data: dict[str, Any] = {}
        self._pending.append((data, message, customer_id))
        return data

    async def flush(self, *, cases: bool = True) -> None:
        """The batch's new cases, the session's changes, then the batch's new messages in
        one statement.

        Core, not the ORM: on SQLite the ORM inserts one row per statement (it cannot match
        RETURNING rows to objects there); rows are matched by their unique external id.
        """
        if cases:
            await self.cases.flush()
        await self.session.flush()
        pending, self._pending = self._pending, []
        if not pending:
            return
        rows = [message.row() for _data, message, _customer in pending]
        # executemany with RETURNING: SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues")
        # from one cached compilation.
        result = await self.session.execute(INSERT_MESSAGES, rows)
        ids = {(channel_id, external_id): id_ for id_, channel_id, external_id in result}
        for data, message, customer_id in pending:
            message.id = ids[(message.channel_id, message.external_id)]
            data.update(message_view(message), customer_id=customer_id)
