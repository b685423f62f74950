"""What cleaning a parsed message's text costs per message (router/ingest/clean.py).

It runs for every item of every inbound batch, so it must cost next to nothing for clean text
(nearly all of it). Measured on real parses: a Telegram text message and an e-mail from the
test fixtures, as they come out of their connectors, clean and with a lone surrogate in the
name and text. Run: `.venv/bin/python -m bench.text_clean`.
"""

from __future__ import annotations

import dataclasses
import timeit
from datetime import UTC, datetime
from pathlib import Path

from connectors.base import InboundItem, InboundMessage, RawEvent
from connectors.email.parse import parse_event as parse_mail
from connectors.telegram.parse import parse_update
from router.ingest.clean import clean_items

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
RECEIVED = datetime(2030, 1, 1, tzinfo=UTC)


def _raw(payload: bytes, config: dict[str, str] | None = None) -> RawEvent:
    return RawEvent(id=1, channel_id="ch", external_event_id="x", payload=payload,
                    content_type="application/octet-stream", received_at=RECEIVED,
                    channel_config=config or {})


def samples() -> dict[str, list[InboundItem]]:
    telegram = parse_update(_raw((FIXTURES / "telegram" / "message__text.json").read_bytes()))
    mail = parse_mail(_raw((FIXTURES / "email" / "message__gmail_new_request.eml").read_bytes(),
                           {"address": "support@acme.example"}))
    out: dict[str, list[InboundItem]] = {"telegram text": telegram, "e-mail": mail}
    for name, items in list(out.items()):
        message = items[0]
        assert isinstance(message, InboundMessage)
        dirty = dataclasses.replace(message, text=message.text + "\ud800",
                                    name=(message.name or "") + "\udcf6")
        out[f"{name}, dirty"] = [dirty]
    return out


def measure(number: int = 20_000, repeat: int = 5) -> dict[str, float]:
    """Nanoseconds per message, best of `repeat` runs of `number` cleanings."""
    results: dict[str, float] = {}
    for name, items in samples().items():
        best = min(timeit.repeat(lambda items=items: clean_items(items, RECEIVED),
                                 number=number, repeat=repeat))
        results[name] = best / number * 1e9
    return results


if __name__ == "__main__":
    for sample, ns in measure().items():
        print(f"{sample:24} {ns:8.0f} ns per message")
