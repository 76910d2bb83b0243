"""FakeDiscord: enough of Discord's REST API and gateway for discord.py, on 127.0.0.1:0.

Every REST body is validated against the published OpenAPI spec plus the documented limits
the spec cannot express; violations are answered 400/50035 like Discord and recorded in
`violations` so a test can fail on them. Interactions enforce the 3 s / 15 min windows.
Failures (429 with Via/retry_after/global, 5xx) can be scripted per route.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord import payloads, rules, spec
from tests.fakes.discord.gateway import GatewayMixin, shard_of
from tests.fakes.discord.interactions import FakeInteraction, InteractionRoutes
from tests.support.web import start_web

MANAGE_CHANNELS = 1 << 4
BODY = web.RequestKey("body", object)  # the parsed JSON body, read once by the middleware
EVERYDAY = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send messages, use application commands


@dataclass
class Recorded:
    method: str
    path: str
    route: str
    body: Any
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class Posted:
    """A message created in a channel, with the request body that made it."""

    message: dict[str, Any]
    body: dict[str, Any]
    at: float


@dataclass
class Scripted:
    route: str  # "messages", "callback", "webhook", "commands", or "*"
    status: int
    retry_after: float = 0.0
    is_global: bool = False


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Content-Type exactly application/json: discord.py parses nothing else."""
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=hdrs)


def error_response(status: int, code: int, message: str, errors: dict | None = None) -> web.Response:
    data: dict[str, Any] = {"code": code, "message": message}
    if errors:
        data["errors"] = {k: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": v}]}
                          for k, v in errors.items()}
    return json_response(data, status)


class FakeDiscord(GatewayMixin, InteractionRoutes):
    def __init__(self, *, token: str = "fake-bot-token.abc.xyz", guild_id: str = "111111111111111111",
                 channel_ids: tuple[str, ...] = ("222222222222222222", "222222222222222223"),
                 heartbeat_interval: float = 0.5, callback_deadline: float = 3.0,
                 followup_window: float = 15 * 60.0, nonce_window: float = 300.0,
                 allow_privileged: bool = False, guilds: dict[str, tuple[str, ...]] | None = None,
                 shards: int = 1) -> None:
        self.token = token
        self.app_id = "333333333333333333"
        self.bot_user = payloads.user("444444444444444444", "newsdigest", bot=True)
        self.owner = payloads.user("555555555555555555", "owner")
        # servers and their text channels; each server's events go to shard (id >> 22) % count
        self.guilds = {g: list(c) for g, c in (guilds or {guild_id: channel_ids}).items()}
        self.guild_id = next(iter(self.guilds))
        self.channel_ids = [c for chans in self.guilds.values() for c in chans]
        self.shards = shards  # what GET /gateway/bot recommends
        self.heartbeat_interval = heartbeat_interval
        self.callback_deadline = callback_deadline
        self.followup_window = followup_window
        self.nonce_window = nonce_window
        self.allow_privileged = allow_privileged
        # observable state
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.unhandled: list[str] = []
        self.messages: dict[str, list[Posted]] = {c: [] for c in self.channel_ids}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        self.forbidden_channels: set[str] = set()
        self.identify_payloads: list[dict[str, Any]] = []
        self.shard_conflicts: list[tuple[int, int]] = []
        self.connections = []
        self.identified = asyncio.Event()
        self.script: list[Scripted] = []
        self._blocked: dict[str, float] = {}  # route or "global" → monotonic time it ends
        self.interactions: dict[str, FakeInteraction] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle --------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        """Every route the fake serves (tests compare them with the committed spec data)."""
        app = web.Application(middlewares=[self._middleware])
        api = "/api/v10"
        app.router.add_get("/gateway/", self.handle_gateway)
        app.router.add_get("/gateway", self.handle_gateway)
        app.router.add_get(api + "/users/@me", self._me)
        app.router.add_get(api + "/oauth2/applications/@me", self._application)
        app.router.add_get(api + "/gateway", self._gateway_url)
        app.router.add_get(api + "/gateway/bot", self._gateway_url)
        app.router.add_put(api + "/applications/{application_id}/commands", self._put_commands)
        app.router.add_put(api + "/applications/{application_id}/guilds/{guild_id}/commands",
                           self._put_commands)
        app.router.add_post(api + "/channels/{channel_id}/messages", self._post_message)
        self.add_interaction_routes(app, api)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    async def start(self) -> FakeDiscord:
        spec.load_spec()
        self._runner, self.port = await start_web(self.build_app())
        return self

    async def stop(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/"

    # ---- scripting and assertions --------------------------------------------------------------

    def fail_next(self, route: str, status: int, *, count: int = 1, retry_after: float = 0.2,
                  is_global: bool = False) -> None:
        """Answer the next `count` requests to `route` with `status` (429 carries Via + retry_after)."""
        self.script.extend(Scripted(route, status, retry_after, is_global) for _ in range(count))

    def posted(self, channel_id: str) -> list[Posted]:
        return self.messages.setdefault(channel_id, [])

    def calls(self, route: str) -> list[Recorded]:
        return [r for r in self.requests if r.route == route]

    # ---- gateway payloads -----------------------------------------------------------------------

    def ready_payload(self, base: str, shard: tuple[int, int] = (0, 1)) -> dict[str, Any]:
        guilds = [{"id": g, "unavailable": True} for g in self.guilds if shard_of(g, shard[1]) == shard[0]]
        return {"v": 10, "user": self.bot_user, "guilds": guilds,
                "session_id": "fake-session", "resume_gateway_url": base, "shard": list(shard),
                "application": {"id": self.app_id, "flags": 0}, "private_channels": [],
                "relationships": [], "user_settings": {}}

    def guild_payloads(self, shard: tuple[int, int] = (0, 1)) -> list[dict[str, Any]]:
        result = []
        for n, (guild_id, channel_ids) in enumerate(self.guilds.items()):
            if shard_of(guild_id, shard[1]) != shard[0]:
                continue
            channels = [payloads.text_channel(c, guild_id, f"news-{i}", i) for i, c in enumerate(channel_ids)]
            name = "Fake guild" if n == 0 else f"Fake guild {n}"
            result.append(payloads.guild(guild_id, name, channels, payloads.member(self.bot_user)))
        return result

    def max_rest_per_second(self) -> int:
        """The most bot-authenticated REST requests seen in any one-second window (Discord's
        global limit is 50 per second per bot, across all of its processes)."""
        times = sorted(r.at for r in self.requests if r.route not in ("callback", "webhook"))
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    # ---- middleware: auth, scripted failures, rate-limit discipline, recording ---------------

    @staticmethod
    def route_of(path: str) -> str:
        if "/interactions/" in path:
            return "callback"
        if "/webhooks/" in path:
            return "webhook"
        if path.endswith("/commands"):
            return "commands"
        if "/channels/" in path and path.endswith("/messages"):
            return "messages"
        if path.startswith("/gateway"):
            return "gateway"
        return path.removeprefix("/api/v10")

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        route = self.route_of(request.path)
        if route == "gateway":
            return await handler(request)
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        request[BODY] = body
        record = Recorded(request.method, request.path, route, body)
        self.requests.append(record)
        response = await self._gate(request, route)
        if response is None:
            response = await handler(request)
        record.status = response.status
        return response

    async def _gate(self, request: web.Request, route: str) -> web.Response | None:
        now = time.monotonic()
        bot_route = route not in ("callback", "webhook")
        if bot_route and request.headers.get("Authorization") != f"Bot {self.token}":
            return error_response(401, 0, "401: Unauthorized")
        for key in ("global", route):
            until = self._blocked.get(key)
            if until is not None and now < until - 0.05 and (key == route or bot_route):
                self.violations.append(f"{request.method} {request.path} sent {until - now:.2f}s "
                                       f"before a {key} rate limit ended")
        for i, item in enumerate(self.script):
            if item.route in (route, "*"):
                del self.script[i]
                return self._scripted(item, route, now)
        return None

    def _scripted(self, item: Scripted, route: str, now: float) -> web.Response:
        if item.status == 429:
            self._blocked["global" if item.is_global else route] = now + item.retry_after
            headers = {"Via": "1.1 google", "Retry-After": str(max(1, math.ceil(item.retry_after))),
                       "X-RateLimit-Scope": "global" if item.is_global else "user"}
            if item.is_global:
                headers["X-RateLimit-Global"] = "true"
            data = {"message": "You are being rate limited.", "retry_after": item.retry_after,
                    "global": item.is_global, "code": 0}
            return json_response(data, 429, headers)
        return error_response(item.status, 0, f"{item.status}: scripted failure")

    def check_body(self, spec_path: str, method: str, params: dict[str, str], body: Any,
                   *, message_body: dict[str, Any] | None = None,
                   require_content: bool = True) -> web.Response | None:
        """Spec + documented limits; a violation is recorded and answered 400/50035."""
        errors = {f"spec:{i}": e for i, e in enumerate(spec.validate_path_params(params))}
        errors.update({f"spec{i}": e for i, e in enumerate(spec.validate_body(spec_path, method, body))})
        if message_body is not None:
            errors.update(rules.message_errors(message_body, require_content=require_content))
        if not errors:
            return None
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        self.violations.append(f"{method.upper()} {spec_path}: {detail}")
        return error_response(400, 50035, "Invalid Form Body", errors)

    # ---- REST handlers -------------------------------------------------------------------------

    async def _me(self, request: web.Request) -> web.Response:
        return json_response(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        return json_response(payloads.application(self.app_id, self.owner))

    async def _gateway_url(self, request: web.Request) -> web.Response:
        return json_response({"url": f"ws://{request.host}/gateway", "shards": self.shards, "session_start_limit":
                              {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def _put_commands(self, request: web.Request) -> web.Response:
        params = dict(request.match_info)
        guild_id = params.get("guild_id")
        spec_path = ("/applications/{application_id}/guilds/{guild_id}/commands" if guild_id
                     else "/applications/{application_id}/commands")
        body = request[BODY]
        if bad := self.check_body(spec_path, "put", params, body):
            return bad
        if params["application_id"] != self.app_id:
            return error_response(403, 50001, "Missing Access")
        self.commands[guild_id] = [payloads.command(self.app_id, c, guild_id) for c in body or []]
        return json_response(self.commands[guild_id])

    async def _post_message(self, request: web.Request) -> web.Response:
        params = dict(request.match_info)
        channel_id = params["channel_id"]
        body = request[BODY]
        if channel_id in self.forbidden_channels:
            return error_response(403, 50001, "Missing Access")
        if channel_id not in self.messages:
            return error_response(404, 10003, "Unknown Channel")
        if not isinstance(body, dict):
            self.violations.append("POST messages: body is not a JSON object")
            return error_response(400, 50035, "Invalid Form Body")
        if bad := self.check_body("/channels/{channel_id}/messages", "post", params, body, message_body=body):
            return bad
        now = time.monotonic()
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for old in self.messages[channel_id]:
                if old.body.get("nonce") == nonce and now - old.at < self.nonce_window:
                    return json_response(old.message)
        message = payloads.message(payloads.snowflake(), channel_id, self.bot_user, body)
        self.messages[channel_id].append(Posted(message, body, now))
        return json_response(message)

    async def _unknown(self, request: web.Request) -> web.Response:
        self.unhandled.append(f"{request.method} {request.path}")
        return error_response(404, 0, "404: Not Found")
