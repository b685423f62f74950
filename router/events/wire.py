"""Events as JSON that one bad event cannot break.

Text is cleaned where connectors hand it over (router/ingest/clean.py), but an event can still
carry what JSON cannot encode (an agent's text, an integer past 64 bits). Encoding one such
event must not kill a live stream, a Redis publish or the batch it came with: it is repaired
(U+FFFD for unencodable text, big numbers as text) or, failing that, sent without its data;
either way logged with its id and type, never its text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import orjson

from router.text import clean_value

log = logging.getLogger("omniroute.events")


def encode(body: Mapping[str, Any], what: str) -> bytes:
    """`body` as JSON bytes, whatever is in it; `what` names the event in the log."""
    try:
        return orjson.dumps(body)
    except TypeError as exc:  # orjson.JSONEncodeError is one
        problem = type(exc).__name__
    repaired = clean_value(dict(body))
    try:
        encoded = json.dumps(repaired, ensure_ascii=False, default=str).encode()
    except (TypeError, ValueError) as exc:
        log.warning("%s could not be encoded (%s, then %s); sent without its data",
                    what, problem, type(exc).__name__)
        bare = {key: body[key] for key in ("id", "type", "at") if key in body}
        return orjson.dumps({**bare, "data": {"unencodable": True}})
    log.warning("%s could not be encoded as it was (%s); sent repaired", what, problem)
    return encoded
