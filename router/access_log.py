"""Credentials in query strings never reach a log line.

uvicorn's access log writes each request's path with its query string. Event-stream tickets
travel there (`?ticket=`), and old clients may still send `?access_token=` (refused, but the
request line is logged all the same), so both values are replaced before any handler sees
the record.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMS = re.compile(r"([?&](?:ticket|access_token)=)[^&\s\"]*", re.IGNORECASE)
REDACTED = "[redacted]"
ACCESS_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact_query(text: str) -> str:
    return SECRET_PARAMS.sub(r"\1" + REDACTED, text)


class RedactCredentials(logging.Filter):
    """Rewrites the record's message arguments (uvicorn passes the path as one of them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_query(a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact_query(record.msg)
        return True


def install_redaction() -> None:
    """Once per process; uvicorn's logging set-up keeps the loggers' filters."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())
