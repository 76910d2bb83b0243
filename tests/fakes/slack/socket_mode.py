"""The Socket Mode side of the fake: /link/ websockets, envelopes, acks and disconnects."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None  # the ack body bolt sent (None for an empty ack)
    latency: float  # seconds from sending the envelope to receiving the ack


class SocketHub:
    """Holds the open sockets; tickets come from apps.connections.open (each usable once)."""

    def __init__(self, app_id: str):
        self.app_id = app_id
        self.tickets: set[str] = set()
        self.sockets: list[web.WebSocketResponse] = []
        self.connections = 0  # websockets accepted so far
        self.acks: list[Ack] = []
        self.disconnects_sent = 0
        self._pending: dict[str, tuple[float, asyncio.Future[Ack]]] = {}
        self._changed = asyncio.Condition()

    def new_url(self, base: str) -> str:
        ticket = uuid.uuid4().hex
        self.tickets.add(ticket)
        return f"{base}/link/?ticket={ticket}&app_id={self.app_id}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.Response(status=401, text="invalid ticket")
        self.tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json({
            "type": "hello",
            "num_connections": len(self.sockets) + 1,
            "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        })
        async with self._changed:
            self.sockets.append(ws)
            self.connections += 1
            self._changed.notify_all()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(msg.data)
        finally:
            async with self._changed:
                if ws in self.sockets:
                    self.sockets.remove(ws)
                self._changed.notify_all()
        return ws

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        envelope_id = message.get("envelope_id")
        pending = self._pending.pop(envelope_id, None)
        if pending is None:
            return
        sent_at, future = pending
        ack = Ack(envelope_id, message.get("payload"), time.monotonic() - sent_at)
        self.acks.append(ack)
        if not future.done():
            future.set_result(ack)

    async def wait_connections(self, count: int, timeout: float = 10.0) -> None:
        """Wait until `count` websockets were accepted in total and one is open."""
        async def ready() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.connections >= count and bool(self.sockets))

        await asyncio.wait_for(ready(), timeout)

    async def send_envelope(self, kind: str, payload: dict[str, Any], timeout: float = 5.0) -> Ack:
        """Push an envelope to the newest socket and wait for bolt's ack."""
        await self.wait_connections(1, timeout)
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = (time.monotonic(), future)
        await self.sockets[-1].send_json({
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind == "slash_commands",
        })
        return await asyncio.wait_for(future, timeout)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every open client to reconnect, as Slack does a few times a day."""
        for ws in list(self.sockets):
            await ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}})
            self.disconnects_sent += 1

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
