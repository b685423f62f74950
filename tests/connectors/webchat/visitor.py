"""A scripted web-chat visitor for end-to-end tests: what the widget does, minus the page."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

PAGE_ORIGIN = "http://shop.test"


@dataclass
class ScriptedVisitor:
    base_url: str
    channel_id: str
    token: str
    visitor_id: str
    ws: ClientConnection | None = None

    @classmethod
    async def start(cls, base_url: str, channel_id: str,
                    user: dict[str, str] | None = None) -> ScriptedVisitor:
        async with httpx.AsyncClient(base_url=base_url) as client:
            response = await client.post(f"/webchat/{channel_id}/session",
                                         json={"user": user}, headers={"Origin": PAGE_ORIGIN})
        assert response.status_code == 200, response.text
        answer = response.json()
        return cls(base_url, channel_id, answer["token"], answer["visitor_id"])

    async def connect(self) -> dict[str, Any]:
        url = self.base_url.replace("http://", "ws://") + f"/webchat/{self.channel_id}/ws"
        self.ws = await connect(url, origin=PAGE_ORIGIN)  # type: ignore[arg-type]
        await self.ws.send(json.dumps({"type": "hello", "token": self.token}))
        return await self.next("ready")

    async def next(self, frame_type: str) -> dict[str, Any]:
        """The next frame of `frame_type`, skipping presence heartbeats and the like."""
        assert self.ws is not None
        while True:
            frame: dict[str, Any] = json.loads(await self.ws.recv())
            if frame["type"] == frame_type:
                return frame

    async def say(self, text: str, profile: dict[str, str] | None = None,
                  attachments: list[str] | None = None) -> str:
        assert self.ws is not None
        message_id = "c_" + secrets.token_hex(8)
        await self.ws.send(json.dumps({"type": "message", "id": message_id, "text": text,
                                       "profile": profile, "attachments": attachments or []}))
        ack = await self.next("ack")
        assert ack["id"] == message_id
        return message_id

    async def upload(self, data: bytes, mime_type: str, filename: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            response = await client.post(
                f"/webchat/{self.channel_id}/files", params={"filename": filename},
                content=data, headers={"Origin": PAGE_ORIGIN, "Content-Type": mime_type,
                                       "Authorization": f"Bearer {self.token}"})
        assert response.status_code == 201, response.text
        ref: dict[str, Any] = response.json()
        return ref

    async def read(self, message_ids: list[int]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "read", "message_ids": message_ids}))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
