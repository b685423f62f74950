"""A real SMTP server on loopback (aiosmtpd) that keeps what it was sent, or refuses on cue."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USERNAME, PASSWORD = "support@acme.example", "smtp-password-123"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class CapturingHandler:
    received: list[Received] = field(default_factory=list)
    # When set, RCPT TO / DATA is answered with this line instead of accepting.
    refuse_rcpt: str | None = None
    refuse_data: str | None = None

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_data:
            return self.refuse_data
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                   auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and \
        auth_data.login.decode() == USERNAME and auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpServer:
    def __init__(self) -> None:
        self.handler = CapturingHandler()
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port,
            authenticator=_authenticator, auth_require_tls=False, auth_required=False,
            auth_exclude_mechanism=["LOGIN"])

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def config(self, *, username: str = "") -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "security": "plain",
                "username": username}
