"""The fake gateway: HELLO, heartbeat ACKs, IDENTIFY → READY + GUILD_CREATE, dispatches.

IDENTIFY may carry `shard: [id, count]`; that connection then gets only the servers whose
`(guild_id >> 22) % count == id`, and a server's events are dispatched to that shard only.

Payloads go out as text frames (discord.py accepts them even when it asked for zlib).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content


def shard_of(guild_id: str | int, count: int) -> int:
    """Discord's rule: which shard carries a server's events."""
    return (int(guild_id) >> 22) % max(1, count)


class GatewayConnection:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0
        self.identified = False
        self.ops: list[int] = []  # opcodes received, in order
        self.shard: tuple[int, int] = (0, 1)

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        payload: dict[str, Any] = {"op": op, "d": data, "s": None, "t": event}
        if op == 0:
            self.seq += 1
            payload["s"] = self.seq
        await self.ws.send_str(json.dumps(payload))


class GatewayMixin:
    """Mixed into FakeDiscord; expects token, heartbeat_interval, ready_payload(), guild_payloads()."""

    token: str
    heartbeat_interval: float
    allow_privileged: bool
    connections: list[GatewayConnection]
    identified: asyncio.Event
    identify_payloads: list[dict[str, Any]]
    shard_conflicts: list[tuple[int, int]]

    def ready_payload(self, base: str, shard: tuple[int, int] = (0, 1)) -> dict[str, Any]: ...  # pragma: no cover
    def guild_payloads(self, shard: tuple[int, int] = (0, 1)) -> list[dict[str, Any]]: ...  # pragma: no cover

    async def handle_gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws)
        self.connections.append(conn)
        await conn.send(10, {"heartbeat_interval": int(self.heartbeat_interval * 1000)})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                conn.ops.append(op)
                if op == 1:
                    await conn.send(11, None)
                elif op == 2:
                    await self._identify(conn, frame.get("d") or {}, request)
                elif op == 6:  # RESUME is not supported: ask for a fresh session
                    await conn.send(9, False)
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
        return ws

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any], request: web.Request) -> None:
        self.identify_payloads.append(data)
        if data.get("token") not in (self.token, f"Bot {self.token}"):
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        if int(data.get("intents") or 0) & PRIVILEGED_INTENTS and not self.allow_privileged:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = data.get("shard") or [0, 1]
        if (not isinstance(shard, list) or len(shard) != 2 or not all(isinstance(n, int) for n in shard)
                or not 0 <= shard[0] < shard[1]):
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        if any(c.identified and c.shard == tuple(shard) for c in self.connections):
            self.shard_conflicts.append(tuple(shard))  # two sessions on one shard: a fleet bug
        conn.shard = (shard[0], shard[1])
        base = f"ws://{request.host}/gateway/"
        await conn.send(0, self.ready_payload(base, conn.shard), "READY")
        for guild in self.guild_payloads(conn.shard):
            await conn.send(0, guild, "GUILD_CREATE")
        conn.identified = True
        self.identified.set()

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to the shard that carries its server (every connection if it has none)."""
        targets = [c for c in self.connections if c.identified]
        guild_id = data.get("guild_id")
        if guild_id is not None:
            targets = [c for c in targets if shard_of(guild_id, c.shard[1]) == c.shard[0]]
        if not targets:
            raise RuntimeError("no identified gateway connection to dispatch to")
        for conn in targets:
            await conn.send(0, data, event)
