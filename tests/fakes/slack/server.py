"""FakeSlack: an aiohttp server on 127.0.0.1:0 speaking enough of Slack for the bot.

Web API (`/api/<method>`): auth.test, chat.postMessage, chat.postEphemeral, users.info,
usergroups.users.list, conversations.info, apps.connections.open, oauth.v2.access, auth.revoke.
Many workspaces (teams, per-team tokens, the OAuth install, token death): see workspaces.py.
Every call is checked
against Slack's OpenAPI argument table and Block Kit limits; problems land in `violations`
and are answered the way Slack would (`invalid_arguments`, `invalid_blocks`, ...).
Socket Mode: `/link/` (see socket.py). response_url: `/response/<id>` counts uses and age.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict, deque
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from tests.fakes.slack import blockkit
from tests.fakes.slack.records import Call, Post, ResponseUrl
from tests.fakes.slack.signing import APP_ID, TEAM_ID, command_payload
from tests.fakes.slack.socket_mode import Ack, SocketHub
from tests.fakes.slack.spec import check_arguments
from tests.fakes.slack.workspaces import WorkspacesMixin
from tests.support.web import start_web

BOT_USER = "U0BOTUSER01"
BOT_ID = "B0123456789"
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60
CALLER: ContextVar[str] = ContextVar("fake_slack_caller_team", default=TEAM_ID)  # the token's team


class FakeSlack(WorkspacesMixin):
    """Start with `await fake.start()`; point the bot at `fake.base_url`."""

    def __init__(self, bot_token: str = "xoxb-fake-bot-token", app_token: str = "xapp-fake-app-token"):
        self.bot_token = bot_token
        self.app_token = app_token
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.posts: list[Post] = []
        self.violations: list[str] = []
        self.rate_limited: list[tuple[str, float]] = []  # (method, Retry-After) answered with 429
        self.response_urls: dict[str, ResponseUrl] = {}
        self.socket = SocketHub(APP_ID)
        self._rate_limits: dict[str, deque[float]] = defaultdict(deque)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.init_workspaces()
        self.add_user(BOT_USER, "newsdigest", is_bot=True)

    # ---- setup ---------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, admin: bool = False, owner: bool = False,
                 is_bot: bool = False, team: str = TEAM_ID) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": team, "name": name, "real_name": name.title(), "deleted": False,
            "is_admin": admin, "is_owner": owner, "is_primary_owner": False, "is_restricted": False,
            "is_ultra_restricted": False, "is_bot": is_bot, "is_app_user": False, "tz": "UTC",
        }

    def add_usergroup(self, group_id: str, members: list[str]) -> None:
        self.usergroups[group_id] = list(members)

    def add_channel(self, channel_id: str, name: str, *, bot_member: bool = True, team: str = TEAM_ID) -> None:
        self.channels[channel_id] = {"id": channel_id, "name": name, "is_channel": True,
                                     "is_member": bot_member, "is_archived": False, "context_team_id": team}

    def rate_limit(self, method: str, retry_after: float = 1.0, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and this Retry-After."""
        self._rate_limits[method].extend([retry_after] * times)

    def new_response_url(self) -> str:
        rid = f"T0123456789/{next(self._ids)}/fakehook{next(self._ids):06d}"
        self.response_urls[rid] = ResponseUrl(created=time.monotonic())
        return f"{self.root}/response/{rid}"

    def age_response_url(self, url: str, seconds: float) -> None:
        self.response_urls[url.split("/response/", 1)[1]].created -= seconds

    def responses(self, url: str) -> list[dict[str, Any]]:
        return self.response_urls[url.split("/response/", 1)[1]].bodies

    def command(self, command: str, text: str = "", *, user_id: str, channel_id: str) -> dict[str, str]:
        """A slash-command payload with a fresh response_url on this fake."""
        channel = self.channels.get(channel_id, {"name": "unknown"})
        user = self.users.get(user_id, {"name": "someone"})
        payload = command_payload(command, text, user_id=user_id, channel_id=channel_id,
                                  response_url=self.new_response_url(), user_name=user["name"],
                                  channel_name=channel["name"])
        team = channel.get("context_team_id", TEAM_ID)
        if team != TEAM_ID:  # a channel of another workspace: the command comes from that team
            payload.update(team_id=team, team_domain=team.lower())
        return payload

    async def slash_command(self, payload: dict[str, str], timeout: float = 5.0) -> Ack:
        """Deliver a slash command over Socket Mode and wait for the ack."""
        return await self.socket.send_envelope("slash_commands", payload, timeout)

    def posts_in(self, channel: str) -> list[Post]:
        return [p for p in self.posts if p.channel == channel]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def calls_with(self, tokens: list[str]) -> list[Call]:
        return [c for c in self.calls if c.token in tokens]

    async def wait_posts(self, channel: str, count: int, timeout: float = 10.0) -> list[Post]:
        deadline = time.monotonic() + timeout
        while len(self.posts_in(channel)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{channel}: {len(self.posts_in(channel))} posts, wanted {count}")
            await asyncio.sleep(0.02)
        return self.posts_in(channel)

    async def wait_responses(self, url: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.responses(url)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.responses(url))} responses, wanted {count}")
            await asyncio.sleep(0.02)
        return self.responses(url)

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._web_api)
        app.router.add_get("/link/", self.socket.handle)
        app.router.add_post("/response/{rid:.+}", self._response_url)
        self.add_workspace_routes(app)
        self._runner, self.port = await start_web(app, handle_signals=False)
        return self

    async def stop(self) -> None:
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    # ---- Web API -------------------------------------------------------------------------

    async def _read_args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        body = await request.read()
        if not body:
            return args
        if request.content_type == "application/json":
            args.update(json.loads(body))
        else:
            args.update({k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()})
        return args

    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._read_args(request)
        header = request.headers.get("Authorization", "")
        token = (header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None) or args.get("token")
        self.calls.append(Call(method, args, time.monotonic(), token))
        if method == "oauth.v2.access":  # authenticated by the app's client id and secret, not a token
            if problems := check_arguments(method, {k: v for k, v in args.items()
                                                    if k not in ("client_id", "client_secret")}):
                self.violations.extend(problems)
            return web.json_response(self.exchange(*self.client_credentials(request, args), args))
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if method == "apps.connections.open":
            team, error = (TEAM_ID, None) if token == self.app_token else (None, "invalid_auth")
        else:
            team, error = self.token_team(token)
        if error:
            return web.json_response({"ok": False, "error": error})
        if self._rate_limits[method]:
            wait = self._rate_limits[method].popleft()
            self.rate_limited.append((method, wait))
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": f"{wait:g}"})
        problems = check_arguments(method, args)
        if problems:
            self.violations.extend(problems)
            error = "unknown_method" if "not a Slack Web API method" in problems[0] else "invalid_arguments"
            return web.json_response({"ok": False, "error": error,
                                      "response_metadata": {"messages": problems}})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            self.violations.append(f"{method}: the fake does not implement it")
            return web.json_response({"ok": False, "error": "unknown_method"})
        if method == "auth.revoke":
            self.tokens[token].alive = False
            return web.json_response({"ok": True, "revoked": True})
        CALLER.set(team or TEAM_ID)  # per request (aiohttp runs each in its own task)
        return web.json_response(await handler(args))

    def _channel_of(self, channel_id: object) -> dict[str, Any] | None:
        """A channel as the caller's token sees it: another workspace's channel does not exist."""
        team = CALLER.get()
        channel = self.channels.get(str(channel_id))
        if channel is not None and channel.get("context_team_id", TEAM_ID) != team:
            self.violations.append(f"a token of team {team} was used for channel {channel_id} "
                                   f"of team {channel.get('context_team_id')}")
            return None
        return channel

    async def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        team = CALLER.get()
        name = self.teams.get(team, team)
        return {"ok": True, "url": f"https://{team.lower()}.slack.com/", "team": name,
                "user": "newsdigest", "team_id": team, "user_id": BOT_USER, "bot_id": BOT_ID,
                "is_enterprise_install": False}

    async def _m_auth_revoke(self, args: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("answered in _web_api")  # pragma: no cover

    async def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket.new_url(f"ws://127.0.0.1:{self.port}")}

    async def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None or user["team_id"] != CALLER.get():
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    async def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.usergroups.get(str(args.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": members}

    async def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args.get("channel"))
        return {"ok": True, "channel": channel} if channel else {"ok": False, "error": "channel_not_found"}

    def _message_problems(self, method: str, args: dict[str, Any]) -> tuple[str | None, list[Any]]:
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return "invalid_blocks_format", []
        error, details = blockkit.validate_message(args.get("text"), blocks)
        if error:
            self.violations.extend(f"{method}: {error}: {d}" for d in details or [error])
        if str(args.get("link_names", "")).lower() in ("1", "true") or args.get("parse") == "full":
            self.violations.append(f"{method}: link_names/parse=full turns untrusted text into mentions")
        return error, blocks or []

    async def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_of(args["channel"])
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not channel["is_member"]:
            return {"ok": False, "error": "not_in_channel"}
        error, blocks = self._message_problems("chat.postMessage", args)
        if error:
            return {"ok": False, "error": error}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        self.posts.append(Post(channel["id"], args.get("text") or "", blocks, ts, time.monotonic(), args))
        return {"ok": True, "channel": channel["id"], "ts": ts,
                "message": {"type": "message", "text": args.get("text") or "", "user": BOT_USER,
                            "bot_id": BOT_ID, "ts": ts}}

    async def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if self._channel_of(args["channel"]) is None:
            return {"ok": False, "error": "channel_not_found"}
        error, _ = self._message_problems("chat.postEphemeral", args)
        if error:
            return {"ok": False, "error": error}
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}

    # ---- response_url --------------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        record = self.response_urls.get(request.match_info["rid"])
        if record is None:
            return web.Response(status=404, text="no_such_url")
        record.uses += 1
        if record.uses > RESPONSE_URL_USES:
            self.violations.append("response_url: used more than 5 times")
            return web.Response(status=404, text="used_url")
        if time.monotonic() - record.created > RESPONSE_URL_TTL:
            self.violations.append("response_url: used after 30 minutes")
            return web.Response(status=404, text="expired_url")
        try:
            body = json.loads(await request.read())
        except ValueError:
            self.violations.append("response_url: body is not JSON")
            return web.Response(status=400, text="invalid_payload")
        error, _ = self._message_problems("response_url", body)
        if error:
            return web.Response(status=400, text=error)
        record.bodies.append(body)
        return web.Response(text="ok", content_type="text/plain")
