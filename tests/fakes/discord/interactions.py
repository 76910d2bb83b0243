"""Interactions in the fake: dispatch INTERACTION_CREATE, then police the answers.

Discord's rules emulated: the initial callback within `callback_deadline` (3 s) or 404/10062
"Unknown interaction"; a second callback → 400/40060; follow-ups and @original edits only
after a callback and within `followup_window` (15 min) of dispatch.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord import payloads


@dataclass
class FakeInteraction:
    id: str
    token: str
    name: str
    kind: int  # 2 = application command, 4 = autocomplete
    channel_id: str
    dispatched_at: float = field(default_factory=time.monotonic)
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # accepted callback bodies
    callback_at: float | None = None
    rejected: list[tuple[int, int]] = field(default_factory=list)  # (status, code) we answered
    # ("create" | "edit" | "delete", body), in arrival order
    followups: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    followup_at: list[float] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def latency(self) -> float | None:
        """Dispatch → accepted callback, seconds."""
        return None if self.callback_at is None else self.callback_at - self.dispatched_at

    @property
    def callback_type(self) -> int | None:
        return self.callbacks[0].get("type") if self.callbacks else None

    def age(self, seconds: float) -> None:
        """Pretend the interaction was dispatched `seconds` earlier (to test the windows)."""
        self.dispatched_at -= seconds

    def final(self) -> dict[str, Any] | None:
        """The user-visible answer: the callback's data, or the last follow-up/edit after a defer."""
        if not self.callbacks:
            return None
        if self.callback_type in (4, 8):
            return self.callbacks[0].get("data") or {}
        visible = [b for kind, b in self.followups if kind in ("create", "edit")]
        return visible[-1] if visible else None

    def final_text(self) -> str:
        data = self.final() or {}
        parts = [data.get("content") or ""]
        for embed in data.get("embeds") or []:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f.get("name", "") + " " + f.get("value", "") for f in embed.get("fields") or []]
        return "\n".join(p for p in parts if p)

    def ephemeral(self) -> bool:
        """Whether the visible answer is private (flag 64 on the callback or follow-up)."""
        if self.callback_type == 5 or self.callback_type == 4:
            flags = (self.callbacks[0].get("data") or {}).get("flags") or 0
            if self.callback_type == 5 and self.followups and self.followups[-1][0] == "create":
                flags = self.followups[-1][1].get("flags") or 0
            return bool(flags & 64)
        return False

    async def wait_answered(self, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until a final answer exists; return it."""
        async def loop() -> dict[str, Any]:
            while (answer := self.final()) is None:
                self.changed.clear()
                await self.changed.wait()
            return answer

        return await asyncio.wait_for(loop(), timeout)


class InteractionRoutes:
    """Mixed into FakeDiscord."""

    app_id: str
    guild_id: str
    bot_user: dict[str, Any]
    callback_deadline: float
    followup_window: float
    interactions: dict[str, FakeInteraction]
    commands: dict[str | None, list[dict[str, Any]]]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None: ...  # pragma: no cover
    def check_body(self, *a: Any, **k: Any) -> web.Response | None: ...  # pragma: no cover

    def add_interaction_routes(self, app: web.Application, api: str) -> None:
        callback = api + "/interactions/{interaction_id}/{interaction_token}/callback"
        app.router.add_post(callback, self._callback)
        hook = api + "/webhooks/{webhook_id}/{webhook_token}"
        app.router.add_post(hook, self._followup)
        app.router.add_patch(hook + "/messages/@original", self._edit_original)
        app.router.add_delete(hook + "/messages/@original", self._delete_original)

    # ---- dispatching ---------------------------------------------------------------------------

    def _command(self, name: str, guild_id: str | None = None) -> tuple[dict[str, Any], str | None]:
        for scope in (guild_id or self.guild_id, None):
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name:
                    return cmd, scope
        raise KeyError(f"command /{name} was never registered with the fake")

    async def invoke(self, name: str, options: dict[str, Any] | None = None, *,
                     user_id: str = "666666666666666666", user_name: str = "member",
                     permissions: int = (1 << 10) | (1 << 11) | (1 << 31),
                     channel_id: str | None = None, in_guild: bool = True, focused: str | None = None,
                     guild_id: str | None = None) -> FakeInteraction:
        """Dispatch INTERACTION_CREATE for /name (type 4 autocomplete when `focused` names an option).
        A subcommand is named "group sub"; each option carries the type it was registered with."""
        name, _, subcommand = name.partition(" ")
        guild_id = guild_id or self.guild_id  # a server of a sharded fake: its shard gets the event
        cmd, scope = self._command(name, guild_id)
        channel_id = channel_id or self.channel_ids[0]  # type: ignore[attr-defined]
        declared = cmd.get("options") or []
        if subcommand:
            declared = next(o for o in declared if o["name"] == subcommand).get("options") or []
        types = {o["name"]: o["type"] for o in declared}
        opts = []
        for key, value in (options or {}).items():
            opt = {"name": key, "type": types.get(key, 3), "value": value}
            if key == focused:
                opt["focused"] = True
            opts.append(opt)
        if subcommand:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        data: dict[str, Any] = {"id": cmd["id"], "name": name, "type": 1, "options": opts}
        if scope:
            data["guild_id"] = scope
        inter = FakeInteraction(payloads.snowflake(), "tok-" + payloads.snowflake(), name,
                                4 if focused else 2, channel_id)
        user = payloads.user(user_id, user_name)
        payload: dict[str, Any] = {"id": inter.id, "type": inter.kind, "token": inter.token, "version": 1,
                                   "application_id": self.app_id, "data": data, "locale": "en-US",
                                   "attachment_size_limit": 8 * 1024 * 1024, "entitlements": [],
                                   "app_permissions": str((1 << 11) | (1 << 14)),
                                   "authorizing_integration_owners": {"0": guild_id}}
        if in_guild:
            payload.update(guild_id=guild_id, guild_locale="en-US", context=0,
                           channel={"id": channel_id, "type": 0, "guild_id": guild_id,
                                    "name": "news", "position": 0, "permission_overwrites": [],
                                    "nsfw": False, "parent_id": None},
                           member=payloads.member(user, permissions=permissions))
        else:
            payload.update(user=user, context=1,
                           channel={"id": channel_id, "type": 1, "recipients": [user], "flags": 0})
        self.interactions[inter.id] = inter
        inter.dispatched_at = time.monotonic()
        await self.dispatch("INTERACTION_CREATE", payload)
        return inter

    # ---- answers --------------------------------------------------------------------------------

    def _reject(self, inter: FakeInteraction | None, status: int, code: int, message: str) -> web.Response:
        from tests.fakes.discord.server import error_response

        if inter is not None:
            inter.rejected.append((status, code))
            inter.changed.set()
        return error_response(status, code, message)

    def _by_token(self, token: str) -> FakeInteraction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    def _message_for(self, inter: FakeInteraction, body: dict[str, Any]) -> dict[str, Any]:
        return payloads.message(payloads.snowflake(), inter.channel_id, self.bot_user, body,
                                flags=body.get("flags") or 0, webhook_id=self.app_id)

    async def _callback(self, request: web.Request) -> web.Response:
        from tests.fakes.discord.server import BODY, json_response

        params = dict(request.match_info)
        inter = self.interactions.get(params["interaction_id"])
        if inter is None or inter.token != params["interaction_token"]:
            return self._reject(inter, 404, 10062, "Unknown interaction")
        if time.monotonic() - inter.dispatched_at > self.callback_deadline:
            return self._reject(inter, 404, 10062, "Unknown interaction")
        if inter.callbacks:
            return self._reject(inter, 400, 40060, "Interaction has already been acknowledged.")
        body = request[BODY] if isinstance(request[BODY], dict) else {}
        kind = body.get("type")
        data = body.get("data") or {}
        path = "/interactions/{interaction_id}/{interaction_token}/callback"
        if bad := self.check_body(path, "post", {"interaction_id": params["interaction_id"]}, request[BODY],
                                  message_body=data if kind == 4 else None):
            inter.rejected.append((400, 50035))
            return bad
        inter.callbacks.append(body)
        inter.callback_at = time.monotonic()
        inter.changed.set()
        flags = data.get("flags") or 0
        answer: dict[str, Any] = {"interaction": {"id": inter.id, "type": inter.kind,
                                                  "response_message_loading": kind == 5,
                                                  "response_message_ephemeral": bool(flags & 64)}}
        if kind in (4, 5):
            message = self._message_for(inter, data)
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"] = {"type": kind, "message": message}
        return json_response(answer)

    def _check_window(self, request: web.Request) -> tuple[FakeInteraction | None, web.Response | None]:
        params = dict(request.match_info)
        inter = self._by_token(params["webhook_token"])
        if inter is None or params["webhook_id"] != self.app_id:
            return None, self._reject(None, 404, 10015, "Unknown Webhook")
        if time.monotonic() - inter.dispatched_at > self.followup_window:
            return inter, self._reject(inter, 401, 50027, "Invalid Webhook Token")
        if not inter.callbacks:
            return inter, self._reject(inter, 404, 10015, "Unknown Webhook")
        return inter, None

    async def _followup(self, request: web.Request) -> web.Response:
        path = "/webhooks/{webhook_id}/{webhook_token}"
        return await self._webhook_message(request, "create", path, "post")

    async def _edit_original(self, request: web.Request) -> web.Response:
        return await self._webhook_message(request, "edit", "/webhooks/{webhook_id}/{webhook_token}"
                                           "/messages/@original", "patch")

    async def _webhook_message(self, request: web.Request, kind: str, spec_path: str,
                               method: str) -> web.Response:
        from tests.fakes.discord.server import BODY, json_response

        inter, bad = self._check_window(request)
        if bad is not None:
            return bad
        assert inter is not None
        body = request[BODY] if isinstance(request[BODY], dict) else {}
        params = {"webhook_id": request.match_info["webhook_id"]}
        if bad := self.check_body(spec_path, method, params, request[BODY], message_body=body,
                                  require_content=kind == "create"):
            inter.rejected.append((400, 50035))
            return bad
        inter.followups.append((kind, body))
        inter.followup_at.append(time.monotonic())
        inter.changed.set()
        return json_response(self._message_for(inter, body))

    async def _delete_original(self, request: web.Request) -> web.Response:
        inter, bad = self._check_window(request)
        if bad is not None:
            return bad
        assert inter is not None
        inter.followups.append(("delete", {}))
        inter.changed.set()
        return web.Response(status=204)
