"""Hand one composed message to the channel's SMTP server with aiosmtplib.

4xx replies and connection trouble are worth retrying; a 5xx is the server's final word and
goes to the agent verbatim.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from connectors.base import DeliveryError

SMTP_TIMEOUT_SECONDS = 30.0


def tls_context() -> ssl.SSLContext:
    """The TLS settings for SMTP and IMAP: the system trust store (SSL_CERT_FILE names a
    private CA's bundle), certificate and host name verified."""
    return ssl.create_default_context()


def _reply(code: int, message: str) -> str:
    return f"{code} {' '.join(message.split())}"[:500]


async def deliver(message: EmailMessage, config: Mapping[str, Any]) -> None:
    smtp = config["smtp"]
    security = smtp.get("security", "starttls")
    username = smtp.get("username") or None
    try:
        await aiosmtplib.send(
            message,
            sender=str(config["address"]),
            hostname=smtp["host"], port=int(smtp["port"]),
            username=username,
            password=(config.get("smtp_password") or None) if username else None,
            use_tls=security == "ssl", start_tls=security == "starttls",
            tls_context=tls_context() if security != "plain" else None,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = exc.recipients[0] if exc.recipients else None
        if refused is None:
            raise DeliveryError("the SMTP server refused the recipient", retryable=True) from exc
        raise DeliveryError(
            f"recipient refused: {_reply(refused.code, refused.message)}",
            retryable=refused.code < 500, recipient_unreachable=refused.code >= 500,
        ) from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP login failed: {_reply(exc.code, exc.message)}",
                            retryable=exc.code < 500, channel_unhealthy=True) from exc
    except aiosmtplib.SMTPSenderRefused as exc:
        raise DeliveryError(f"sender refused: {_reply(exc.code, exc.message)}",
                            retryable=exc.code < 500, channel_unhealthy=exc.code >= 500) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP server answered {_reply(exc.code, exc.message)}",
                            retryable=exc.code < 500) from exc
    except ssl.SSLCertVerificationError as exc:
        # Not the customer's fault and not transient by itself: the admin must fix the
        # server name or trust store, so flag the channel; retry once they have.
        raise DeliveryError(f"the SMTP server's TLS certificate is not trusted: "
                            f"{exc.verify_message}", retryable=True,
                            channel_unhealthy=True) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise DeliveryError(f"SMTP server unreachable: {type(exc).__name__}: {exc}",
                            retryable=True) from exc
