"""Which connectors exist: built-ins listed explicitly, plugins through an entry point group.

A plugin that fails to import stops start-up with a sentence naming it: a helpdesk that
silently lost a channel would drop customers' messages without anyone noticing.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from connectors.base import Connector

ENTRY_POINT_GROUP = "omniroute.connectors"

# "module:Class" of every connector that ships with omniroute.
BUILTIN: dict[str, str] = {
    "api": "connectors.api.connector:ApiConnector",
    "email": "connectors.email.connector:EmailConnector",
    "telegram": "connectors.telegram.connector:TelegramConnector",
    "whatsapp": "connectors.whatsapp.connector:WhatsAppConnector",
    "webchat": "connectors.webchat.connector:WebchatConnector",
}


class ConnectorLoadError(RuntimeError):
    """A connector could not be loaded; the message names it and the cause."""


def _load_object(target: str) -> object:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def _check(name: str, cls: object) -> type[Connector]:
    if not isinstance(cls, type):
        raise ConnectorLoadError(f"connector {name!r} is not a class: {cls!r}")
    declared = getattr(cls, "type", None)
    if declared != name:
        raise ConnectorLoadError(
            f"connector {name!r} declares type {declared!r}; the names must match"
        )
    for attr in ("limits", "identity_kind", "identity_per_channel", "config_model",
                 "secret_fields", "generated_secrets", "routes", "parse", "send"):
        if not hasattr(cls, attr):
            raise ConnectorLoadError(f"connector {name!r} lacks {attr!r} of the Connector contract")
    return cls


def load_connectors() -> dict[str, Connector]:
    """Instantiate every connector; raises ConnectorLoadError on the first broken one."""
    classes: dict[str, type[Connector]] = {}
    for name, target in BUILTIN.items():
        try:
            classes[name] = _check(name, _load_object(target))
        except ConnectorLoadError:
            raise
        except Exception as exc:
            raise ConnectorLoadError(
                f"built-in connector {name!r} failed to load: {exc!r}"
            ) from exc
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in classes:
            raise ConnectorLoadError(
                f"plugin connector {ep.name!r} ({ep.value}) clashes with a connector of that type"
            )
        try:
            loaded = ep.load()
        except Exception as exc:
            raise ConnectorLoadError(
                f"plugin connector {ep.name!r} ({ep.value}) failed to load: {exc!r}"
            ) from exc
        classes[ep.name] = _check(ep.name, loaded)
    return {name: cls() for name, cls in classes.items()}
