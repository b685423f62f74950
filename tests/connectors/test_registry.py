"""Built-ins load; a third-party distribution's connector is picked up; a broken one stops
start-up with a sentence naming it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.registry import BUILTIN, ConnectorLoadError, load_connectors
from router.app import create_app
from tests.plugin_dist import BROKEN_SOURCE, PLUGIN_SOURCE, install_plugin, uninstall_plugin


@pytest.fixture
def echo_plugin(tmp_path: Path) -> Iterator[Path]:
    root = install_plugin(tmp_path, name="omniroute_echo", module="omniroute_echo",
                          source=PLUGIN_SOURCE, target="echo = omniroute_echo:EchoConnector")
    yield root
    uninstall_plugin(root, "omniroute_echo")


def test_builtins_load() -> None:
    loaded = load_connectors()
    assert set(BUILTIN) <= set(loaded)
    for name, connector in loaded.items():
        assert connector.type == name


def test_a_plugin_distribution_is_picked_up(echo_plugin: Path) -> None:
    loaded = load_connectors()
    assert loaded["echo"].limits.max_text_length == 100


def test_a_broken_plugin_stops_start_up_naming_it(tmp_path: Path) -> None:
    root = install_plugin(tmp_path, name="omniroute_broken", module="omniroute_broken",
                          source=BROKEN_SOURCE, target="broken = omniroute_broken:Connector")
    try:
        with pytest.raises(ConnectorLoadError,
                           match=r"plugin connector 'broken' \(omniroute_broken:Connector\) "
                                 r"failed to load: ImportError"):
            create_app()
    finally:
        uninstall_plugin(root, "omniroute_broken")


def test_a_plugin_may_not_shadow_a_builtin(tmp_path: Path) -> None:
    root = install_plugin(tmp_path, name="omniroute_shadow", module="omniroute_shadow",
                          source=PLUGIN_SOURCE, target="api = omniroute_shadow:EchoConnector")
    try:
        with pytest.raises(ConnectorLoadError, match="clashes with a connector of that type"):
            load_connectors()
    finally:
        uninstall_plugin(root, "omniroute_shadow")
