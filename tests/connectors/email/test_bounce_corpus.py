"""Real bounces from many MTAs (flufl.bounce's test data): none becomes a customer or thread.

Each is kept as what it is: a failure of our mail when it names the Message-ID we sent, else
an event marked `ignored` saying why.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from connectors.base import Ignored, InboundMessage, StatusUpdate
from connectors.email.parse import parse_event
from router.models import InboundEvent
from tests.connectors.email.fixtures import fixture_bytes, raw_event
from tests.connectors.email.flow import email_channel, post_mail
from tests.connectors.email.smtp_server import SmtpServer
from tests.omni import OmniServer

# Fixture name → its file in flufl.bounce 6.0.0's tests/data (tests/fixtures/email/*.md).
CORPUS: dict[str, str] = {
    "bounce__aol_01": "aol_01.txt",
    "auto_reply__bounce_01": "bounce_01.txt",
    "bounce__bounce_02": "bounce_02.txt",
    "bounce__caiwireless_01": "caiwireless_01.txt",
    "bounce__dsn_01": "dsn_01.txt",
    "bounce__dsn_02": "dsn_02.txt",
    "delivered__dsn_03": "dsn_03.txt",
    "delivery_delay__dsn_05": "dsn_05.txt",
    "delivery_delay__dsn_07": "dsn_07.txt",
    "bounce__dsn_09": "dsn_09.txt",
    "delivered__dsn_12": "dsn_12.txt",
    "bounce__dsn_15": "dsn_15.txt",
    "bounce__dsn_17": "dsn_17.txt",
    "auto_reply__dumbass_01": "dumbass_01.txt",
    "bounce__exim_01": "exim_01.txt",
    "bounce__groupwise_01": "groupwise_01.txt",
    "bounce__groupwise_02": "groupwise_02.txt",
    "bounce__hotpop_01": "hotpop_01.txt",
    "bounce__llnl_01": "llnl_01.txt",
    "bounce__microsoft_01": "microsoft_01.txt",
    "bounce__microsoft_02": "microsoft_02.txt",
    "auto_reply__microsoft_03": "microsoft_03.txt",
    "bounce__netscape_01": "netscape_01.txt",
    "bounce__newmailru_01": "newmailru_01.txt",
    "bounce__postfix_01": "postfix_01.txt",
    "bounce__postfix_02": "postfix_02.txt",
    "bounce__postfix_04": "postfix_04.txt",
    "bounce__qmail_01": "qmail_01.txt",
    "bounce__qmail_03": "qmail_03.txt",
    "bounce__qmail_05": "qmail_05.txt",
    "auto_reply__qmail_08": "qmail_08.txt",
    "bounce__sendmail_01": "sendmail_01.txt",
    "bounce__simple_01": "simple_01.txt",
    "system_mail__simple_03": "simple_03.txt",
    "bounce__simple_15": "simple_15.txt",
    "bounce__simple_20": "simple_20.txt",
    "bounce__simple_21": "simple_21.txt",
    "bounce__simple_22": "simple_22.txt",
    "bounce__simple_30": "simple_30.txt",
    "bounce__simple_35": "simple_35.txt",
    "bounce__simple_36": "simple_36.txt",
    "system_mail__simple_39": "simple_39.txt",
    "system_mail__simple_40": "simple_40.txt",
    "bounce__simple_43": "simple_43.txt",
    "system_mail__sina_01": "sina_01.txt",
    "bounce__smtp32_01": "smtp32_01.txt",
    "system_mail__yahoo_01": "yahoo_01.txt",
    "system_mail__yahoo_12": "yahoo_12.txt",
    "bounce__yale_01": "yale_01.txt",
}
# flufl.bounce keeps this one as "not a bounce": a hotel answering, a person.
NOT_A_BOUNCE = "message__groupwise_03"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_bounce_is_never_a_new_customer(name: str) -> None:
    items = parse_event(raw_event(fixture_bytes(name)))
    assert items, name
    for item in items:
        if isinstance(item, InboundMessage):
            # Automatic mail: shown to a customer's agents, never the start of a customer.
            assert item.automatic and not item.creates_customer, name
        else:
            assert isinstance(item, StatusUpdate | Ignored), (name, item)


def test_the_corpus_covers_many_mail_systems_and_kinds() -> None:
    kinds = Counter(name.partition("__")[0] for name in CORPUS)
    assert len(CORPUS) >= 40
    assert {"bounce", "system_mail", "auto_reply", "delivery_delay", "delivered"} <= set(kinds)
    systems = {original.rsplit("_", 1)[0] for original in CORPUS.values()}
    assert len(systems) >= 15


def test_a_person_among_the_bounces_stays_a_customer() -> None:
    (item,) = parse_event(raw_event(fixture_bytes(NOT_A_BOUNCE)))
    assert isinstance(item, InboundMessage) and item.creates_customer
    assert (item.external_user_id, item.name) == ("reservas@yyyyy.cu", "Ivette")


async def test_the_whole_corpus_creates_no_customer_and_no_thread(
    omni: OmniServer, smtp_server: SmtpServer,
) -> None:
    channel = await email_channel(omni, smtp_server)
    for name in sorted(CORPUS):
        response = await post_mail(omni, channel, fixture_bytes(name))
        assert response.status_code == 200, (name, response.text)
    await omni.settle(timeout=60)
    assert (await omni.client.get("/v1/customers")).json()["items"] == []
    assert (await omni.client.get("/v1/threads")).json()["items"] == []
    assert smtp_server.received == []  # nobody was sent an acknowledgement
    async with omni.core.reads() as session:
        events = list(await session.scalars(select(InboundEvent)))
    assert len(events) == len({fixture_bytes(n) for n in CORPUS})
    states = Counter(event.state for event in events)
    # Kept and visible: nothing failed, every ignored one says why.
    assert set(states) <= {"processed", "ignored"}, [(e.external_event_id, e.state, e.error)
                                                     for e in events if e.state == "failed"]
    assert states["ignored"] >= 30
    assert all(event.error for event in events if event.state == "ignored")
    listed = (await omni.client.get("/v1/inbound-events", params={"state": "ignored"})).json()
    assert len(listed["items"]) == states["ignored"]
