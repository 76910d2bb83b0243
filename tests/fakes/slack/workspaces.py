"""Many workspaces on the fake Slack: teams, per-team bot tokens, the OAuth v2 install, token death.

Slack's rules the fake enforces (https://api.slack.com/authentication/oauth-v2):
- `/oauth/v2/authorize` (the page a user's browser lands on) needs our client id; the user who
  approves is signed in to one workspace (the `X-Fake-Slack-Team` header plays the browser's
  session); Slack then redirects to the app's redirect URL with a `code` and the `state`.
- `oauth.v2.access` needs the client id and secret (HTTP Basic or form fields); a code works
  once, only for a short while, and only with the same redirect_uri as the authorize step.
- A bot token belongs to one team: it sees only that team's channels and users.
- Uninstalling or revoking kills the team's tokens at once (`token_revoked` afterwards) and
  Slack sends `app_uninstalled` / `tokens_revoked` through the Events API.
"""

from __future__ import annotations

import base64
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.slack.signing import APP_ID, TEAM_ID, VERIFICATION_TOKEN

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fake-client-secret-0123456789"
CODE_TTL = 600.0  # seconds an authorization code stays exchangeable
BOT_SCOPES = ("commands", "chat:write", "users:read", "usergroups:read")
TEAM_HEADER = "X-Fake-Slack-Team"


@dataclass
class Token:
    team: str
    alive: bool = True


@dataclass
class Code:
    team: str
    redirect_uri: str | None
    scopes: str
    issued: float = field(default_factory=time.monotonic)
    used: bool = False


class WorkspacesMixin:
    """Mixed into FakeSlack; `teams`, `tokens` and the codes are its observable state."""

    bot_token: str
    violations: list[str]
    root: str
    tokens: dict[str, Token]
    teams: dict[str, str]  # team id → name
    codes: dict[str, Code]
    redirect_url: str | None  # the app's configured Redirect URL (app settings)
    authorize_requests: list[dict[str, str]]

    def init_workspaces(self) -> None:
        self.teams = {TEAM_ID: "Newsdigest Test"}
        self.tokens = {self.bot_token: Token(TEAM_ID)}
        self.codes = {}
        self.redirect_url = None
        self.authorize_requests = []
        self._serial = itertools.count(1)

    def add_team(self, team_id: str, name: str) -> None:
        self.teams[team_id] = name

    def team_tokens(self, team_id: str, *, alive: bool | None = None) -> list[str]:
        return [t for t, info in self.tokens.items() if info.team == team_id and (alive is None or info.alive == alive)]

    @property
    def authorize_url(self) -> str:
        return f"{self.root}/oauth/v2/authorize"

    def add_workspace_routes(self, app: web.Application) -> None:
        app.router.add_get("/oauth/v2/authorize", self._authorize)

    # ---- token checks used by the Web API handler -------------------------------------------

    def token_team(self, token: str) -> tuple[str | None, str | None]:
        """(team, error): the caller's team, or the error Slack answers for this token."""
        info = self.tokens.get(token)
        if info is None:
            return None, "invalid_auth"
        if not info.alive:
            return None, "token_revoked"
        return info.team, None

    # ---- the install ------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.authorize_requests.append(query)
        team = request.headers.get(TEAM_HEADER)
        if query.get("client_id") != CLIENT_ID:
            return web.Response(status=400, text="invalid_client_id")
        if team not in self.teams:
            return web.Response(status=400, text="not signed in to a workspace")
        scopes = query.get("scope", "")
        redirect = query.get("redirect_uri") or self.redirect_url
        if not redirect or (self.redirect_url and not redirect.startswith(self.redirect_url)):
            return web.Response(status=400, text="bad_redirect_uri")
        code = f"{next(self._serial)}.{uuid.uuid4().hex}"
        self.codes[code] = Code(team, query.get("redirect_uri"), scopes)
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        sep = "&" if "?" in redirect else "?"
        raise web.HTTPFound(f"{redirect}{sep}{urlencode(params)}")

    def client_credentials(self, request: web.Request, args: dict[str, Any]) -> tuple[str | None, str | None]:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user, password
        return args.get("client_id"), args.get("client_secret")

    def exchange(self, client_id: str | None, client_secret: str | None, args: dict[str, Any]) -> dict[str, Any]:
        """oauth.v2.access: one use per code, bound to its team."""
        if client_id != CLIENT_ID:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != CLIENT_SECRET:
            return {"ok": False, "error": "bad_client_secret"}
        code = self.codes.get(str(args.get("code")))
        if code is None or code.used or time.monotonic() - code.issued > CODE_TTL:
            return {"ok": False, "error": "invalid_code"}
        code.used = True
        if code.redirect_uri and args.get("redirect_uri") != code.redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        token = f"xoxb-{code.team}-{next(self._serial)}-{uuid.uuid4().hex[:16]}"
        self.tokens[token] = Token(code.team)
        return {"ok": True, "access_token": token, "token_type": "bot", "scope": code.scopes,
                "bot_user_id": "U0BOTUSER01", "app_id": APP_ID,
                "team": {"id": code.team, "name": self.teams[code.team]}, "enterprise": None,
                "is_enterprise_install": False, "authed_user": {"id": "U0INSTALLER"}}

    # ---- token death and the events Slack sends about it ------------------------------------

    def kill_tokens(self, team_id: str) -> list[str]:
        killed = self.team_tokens(team_id, alive=True)
        for token in killed:
            self.tokens[token].alive = False
        return killed

    def uninstall(self, team_id: str) -> dict[str, Any]:
        """The workspace removes the app: tokens die now; returns the app_uninstalled envelope."""
        self.kill_tokens(team_id)
        return self.event_envelope(team_id, {"type": "app_uninstalled"})

    def revoke(self, team_id: str) -> dict[str, Any]:
        """An admin revokes the bot token: tokens die now; returns the tokens_revoked envelope."""
        self.kill_tokens(team_id)
        return self.event_envelope(team_id, {"type": "tokens_revoked",
                                             "tokens": {"oauth": [], "bot": ["U0BOTUSER01"]}})

    def event_envelope(self, team_id: str, event: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        event = {**event, "event_ts": f"{now}.{next(self._serial):06d}"}
        return {"token": VERIFICATION_TOKEN, "team_id": team_id, "api_app_id": APP_ID, "event": event,
                "type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": now, "authorizations": [{"enterprise_id": None, "team_id": team_id,
                                                       "user_id": "U0BOTUSER01", "is_bot": True,
                                                       "is_enterprise_install": False}]}
