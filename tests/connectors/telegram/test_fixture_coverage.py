"""Every kind the parser handles has a captured fixture, and every fixture is checked."""

from __future__ import annotations

from aiogram.types import Update
from pydantic import ValidationError

from connectors.telegram.media import CONTENT_READERS
from connectors.telegram.parse import (
    HANDLERS,
    IGNORED_CHAT_TYPES,
    IGNORED_KINDS,
    content_kind,
)
from tests.connectors.telegram.fixtures import fixture, fixture_names
from tests.connectors.telegram.test_parse import EXPECTED


def _content_kinds() -> set[str]:
    kinds = set()
    for name in fixture_names():
        try:
            update = Update.model_validate(fixture(name))
        except ValidationError:
            continue  # a shape the model refuses (tests/connectors/telegram/test_parse.py)
        message = update.message or update.edited_message
        if message is not None:
            kinds.add(content_kind(message))
    return kinds


def test_every_handled_update_kind_has_a_fixture() -> None:
    events = {name.partition("__")[0] for name in fixture_names()}
    assert set(HANDLERS) - events == set()


def test_every_handled_content_kind_has_a_fixture() -> None:
    assert ({"text", *CONTENT_READERS} - _content_kinds()) == set()


def test_an_ignored_kind_and_an_ignored_chat_type_have_fixtures() -> None:
    events = {name.partition("__")[0] for name in fixture_names()}
    assert events & IGNORED_KINDS
    chat_types = {(fixture(n).get("message") or {}).get("chat", {}).get("type")
                  for n in fixture_names()}
    assert chat_types & IGNORED_CHAT_TYPES


def test_every_fixture_is_used_by_the_parse_table() -> None:
    assert set(fixture_names()) == set(EXPECTED)
