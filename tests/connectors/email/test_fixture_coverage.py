"""Every handled or ignored kind has a real fixture, and every fixture is used by a test."""

from __future__ import annotations

from connectors.email.parse import HANDLERS, IGNORED, Mail, kind_of
from tests.connectors.email.fixtures import fixture_bytes, fixture_names, raw_event
from tests.connectors.email.test_bounce_corpus import CORPUS, NOT_A_BOUNCE
from tests.connectors.email.test_parse import EXPECTED


def test_every_kind_has_a_fixture() -> None:
    kinds_with_fixtures = {name.partition("__")[0] for name in fixture_names()}
    missing = (set(HANDLERS) | set(IGNORED)) - kinds_with_fixtures
    assert not missing, f"kinds without a fixture: {sorted(missing)}"


def test_every_fixture_is_named_after_the_kind_it_is() -> None:
    for name in fixture_names():
        assert kind_of(Mail(raw_event(fixture_bytes(name)))) == name.partition("__")[0], name


def test_every_fixture_is_used() -> None:
    unused = set(fixture_names()) - set(EXPECTED) - set(CORPUS) - {NOT_A_BOUNCE}
    assert not unused, f"fixtures no test reads: {sorted(unused)}"
