"""Logs: one JSON object per line (or readable text on a terminal), with the request id.

The request id comes from the caller's `X-Request-ID` (when it is a plain token) or is made
here; it is kept in a context variable for the request, stored with the raw event or reply
the request created, and set again while a worker handles that row, so a worker's log lines
name the request that caused them. Log lines carry ids, never message text or secrets; what
a library may put into an error message (a Bot API URL holds the bot token) is redacted.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson

request_id: ContextVar[str | None] = ContextVar("omniroute_request_id", default=None)
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Secrets that third-party error messages are known to carry.
_REDACT = [
    (re.compile(r"bot\d{5,}:[A-Za-z0-9_-]{20,}"), "bot<redacted>"),  # Telegram bot token
    (re.compile(r"omr_[A-Za-z0-9_-]{8,}"), "omr_<redacted>"),  # our API keys
    (re.compile(r"(?i)(bearer\s+)[^\s,;\"']+"), r"\1<redacted>"),
    (re.compile(r"(?i)((?:access_token|token|secret|password|key)=)[^&\s\"']+"),
     r"\1<redacted>"),
]
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName"}


def new_request_id(offered: str | None = None) -> str:
    """The caller's id if it is a plain token, else a fresh one (cheap: no uuid module)."""
    if offered and _VALID_ID.fullmatch(offered):
        return offered
    return os.urandom(8).hex()


_access = logging.getLogger("omniroute.access")


def begin_request(headers: list[tuple[bytes, bytes]]) -> str:
    """Set this request's id (the context is the request's own task) and return it."""
    offered = None
    for name, value in headers:
        if name == b"x-request-id":
            offered = value.decode("latin-1")
            break
    rid = new_request_id(offered)
    request_id.set(rid)
    return rid


def access(method: str, route: str, status: int, seconds: float) -> None:
    """One line per request: the route template, never the path's query string."""
    if _access.isEnabledFor(logging.INFO):
        _access.info("%s %s %s", method, route, status,
                     extra={"status": status, "duration_ms": round(seconds * 1000, 2)})


def redact(text: str) -> str:
    for pattern, replacement in _REDACT:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One line per record: time, level, logger, message, request id and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """For a person at a terminal: time, level, logger, message [request id]."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        rid = request_id.get()
        return f"{line} [{rid}]" if rid is not None else line


def configure(level: str, log_format: str = "auto") -> None:
    """Route every logger (uvicorn's too) through one handler on stdout."""
    text = log_format == "text" or (log_format == "auto" and sys.stdout.isatty())
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Alembic narrates every plugin and context at INFO; only its warnings are news.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
