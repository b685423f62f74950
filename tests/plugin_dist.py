"""Builds a separate installed distribution that ships a connector through the entry point
group, the way a third party would (a .dist-info beside its package on sys.path)."""

from __future__ import annotations

import sys
from pathlib import Path

PLUGIN_SOURCE = '''from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from connectors.base import (BaseConnector, Channel, ChannelLimits, DeliveryError,
                             InboundItem, OutboundMessage, RawEvent, SendResult)

SENT: list[OutboundMessage] = []


class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fail_with: str | None = None


class EchoConnector(BaseConnector):
    """A chat app with a 24-hour reply window, like WhatsApp."""

    type: ClassVar[str] = "echo"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_text_length=100,
                                                    reply_window=timedelta(hours=24))
    identity_kind: ClassVar[str] = "api"
    identity_per_channel: ClassVar[bool] = True
    config_model: ClassVar[type[BaseModel]] = EchoConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    generated_secrets: ClassVar[frozenset[str]] = frozenset()

    def routes(self) -> APIRouter:
        return APIRouter()

    def parse(self, raw: RawEvent) -> list[InboundItem]:
        return []

    async def send(self, channel: Channel, msg: OutboundMessage) -> SendResult:
        failure = channel.config.get("fail_with")
        if failure == "window":
            raise DeliveryError("window closed (131047)", retryable=False, window_closed=True)
        if failure == "blocked":
            raise DeliveryError("bot was blocked by the user", retryable=False,
                                recipient_unreachable=True)
        SENT.append(msg)
        return SendResult(external_id=f"echo-{msg.message_id}")
'''

BROKEN_SOURCE = "raise ImportError('this plugin needs a library that is not installed')\n"


def install_plugin(root: Path, *, name: str, module: str, source: str, target: str) -> Path:
    """Write a package and its dist-info under `root` and put `root` on sys.path."""
    (root / f"{module}.py").write_text(source)
    dist = root / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[omniroute.connectors]\n{target}\n")
    sys.path.insert(0, str(root))
    return root


def uninstall_plugin(root: Path, module: str) -> None:
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.modules.pop(module, None)
