"""CPython's own e-mail test corpus: every message lands, is classified, or is refused with a
typed error because it names no sender; none crashes the parser.

The whole corpus is read from the interpreter's `test` package; where an interpreter ships
without it, the copies in tests/fixtures/email/cpython/ (PSF License) stand in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectors.base import Ignored, InboundMessage, StatusUpdate
from connectors.email.parse import MalformedEmail, parse_event
from tests.connectors.email.fixtures import FIXTURES, raw_event

COPIES = FIXTURES / "cpython"


def corpus_dir() -> Path:
    try:
        import test  # CPython's own test package, absent from some distributions' builds
    except ImportError:
        return COPIES
    found = Path(os.path.dirname(test.__file__)) / "test_email" / "data"
    return found if found.is_dir() else COPIES


MESSAGES = sorted(corpus_dir().glob("msg_*.txt"))
# The corpus's header-less fragments (they test the parser, not real mail).
WITHOUT_SENDER = {"msg_11.txt", "msg_18.txt", "msg_19.txt", "msg_37.txt", "msg_38.txt",
                  "msg_39.txt", "msg_40.txt"}
# Its delivery reports, each of which must come out as a failure or as ignored.
# (msg_42 is from "Mail Delivery Subsystem": a mail system, never a customer.)
REPORTS = {"msg_05.txt", "msg_16.txt", "msg_25.txt", "msg_42.txt", "msg_43.txt"}


def test_the_corpus_is_there() -> None:
    expected = 6 if corpus_dir() == COPIES else 40
    assert len(MESSAGES) >= expected, f"CPython's e-mail corpus is missing under {corpus_dir()}"


def test_our_copies_are_the_corpus_unchanged() -> None:
    if corpus_dir() == COPIES:
        pytest.skip("the interpreter has no test package to compare the copies with")
    for copy in COPIES.glob("msg_*.txt"):
        assert copy.read_bytes() == (corpus_dir() / copy.name).read_bytes(), copy.name


@pytest.mark.parametrize("path", MESSAGES, ids=[p.name for p in MESSAGES])
def test_corpus_message(path: Path) -> None:
    raw = raw_event(path.read_bytes())
    if path.name in WITHOUT_SENDER:
        with pytest.raises(MalformedEmail):
            parse_event(raw)
        return
    items = parse_event(raw)
    if path.name in REPORTS:
        assert all((isinstance(i, StatusUpdate) and i.status == "failed")
                   or isinstance(i, Ignored) for i in items)
        return
    assert len(items) == 1
    (item,) = items
    assert isinstance(item, InboundMessage)
    assert "@" in item.external_user_id
    assert item.external_user_id == item.external_user_id.lower()


def test_a_corpus_bounce_finds_the_original_message_id_in_its_text() -> None:
    (item,) = parse_event(raw_event((corpus_dir() / "msg_16.txt").read_bytes()))
    assert item == StatusUpdate(
        channel_id="ch_email", external_message_id="<002001c144a6$8752e060$56104586@oxy.edu>",
        status="failed", at=item.at,
        error="jangel1@cougar.noc.ucla.edu: 5.0.0 (recipient reached disk quota)")
