"""A mailbox on a real Dovecot feeds a running omniroute: mail lands in the customer's thread
and the IMAP cursor is stored with it."""

from __future__ import annotations

import json

from connectors.email.imap import STATE_KEY
from tests.conftest import MakeOmni
from tests.connectors.email.dovecot import PASSWORD, Dovecot
from tests.connectors.email.flow import ADDRESS, fixture, messages, thread_of
from tests.connectors.email.smtp_server import SmtpServer
from tests.omni import OmniServer

JANE = "jane.doe@example.org"


async def _customers(omni: OmniServer, address: str) -> list[object]:
    found = (await omni.client.get("/v1/customers", params={"q": address})).json()
    items: list[object] = found["items"]
    return items


async def test_mail_in_the_mailbox_becomes_a_message(
    make_omni: MakeOmni, dovecot: Dovecot, smtp_server: SmtpServer,
) -> None:
    omni = await make_omni()
    imap = {**dovecot.imap_config(), "password": PASSWORD}
    created = await omni.create_channel("email", "Mailbox", {
        "address": ADDRESS, "imap": imap, "smtp": smtp_server.config(),
        "authserv_id": "mx.acme.example"})
    await dovecot.deliver(fixture("message__gmail_new_request"))

    async def arrived() -> bool:
        return bool(await _customers(omni, JANE))

    await omni.wait_for(arrived, timeout=20)
    await omni.settle()
    thread = await thread_of(omni, JANE)
    stored = await messages(omni, thread["id"])
    assert [m["direction"] for m in stored if m["direction"] == "inbound"] == ["inbound"]
    cursor = json.loads(await omni.core.gateway.load_state(created["id"], STATE_KEY) or "{}")
    assert cursor["last_uid"] == 1
    who = (await omni.client.get("/v1/customers", params={"q": JANE})).json()["items"][0]
    assert [(i["kind"], i["value"], i["verified"]) for i in who["identities"]] == [
        ("email", JANE, True)]

    # Restarted, omniroute picks up where it stopped: only the new mail is read.
    await omni.stop()
    await dovecot.deliver(fixture("message__koi8r_8bit"))
    again = await make_omni()

    async def second_arrived() -> bool:
        return bool(await _customers(again, "ivan.petrov@example.ru"))

    await again.wait_for(second_arrived, timeout=20)
    await again.settle()
    cursor = json.loads(await again.core.gateway.load_state(created["id"], STATE_KEY) or "{}")
    assert cursor["last_uid"] == 2
