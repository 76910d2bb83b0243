"""slack-bolt's installation-store and OAuth-state interfaces over newsdigest's own database.

bolt runs the OAuth v2 flow and asks these stores to keep what it learns; we keep it in the bot's
database (bot.store.installations), with every token sealed by NEWSDIGEST_SECRET_KEY. The pages
shown at the end of the flow are ours: a failure caused by the request itself (forged, reused or
stale state, an unknown code) is a 400 and stores nothing.
"""

from __future__ import annotations

import html
import logging
import secrets
from datetime import datetime
from typing import Any

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.ports import Clock
from bot.store.installations import Installations, SecretBox

log = logging.getLogger(__name__)

PLATFORM = "slack"
STATE_MAX_AGE = 600  # seconds: a state older than 10 minutes is refused
SCOPES = ("commands", "chat:write", "users:read", "usergroups:read")
_TIMES = ("installed_at", "bot_token_expires_at", "user_token_expires_at")
BAD_REQUEST = {"invalid_browser", "invalid_state", "missing_code", "invalid_code"}


def workspace_key(enterprise_id: str | None, team_id: str | None,
                  is_enterprise_install: bool | None) -> tuple[str, str]:
    """(workspace, enterprise) as the store keys them: an org-wide install is keyed by its org."""
    enterprise = enterprise_id or ""
    if is_enterprise_install and enterprise:
        return enterprise, enterprise
    return team_id or "", enterprise


class StoreInstallations(AsyncInstallationStore):
    """One installation per workspace (the latest), sealed at rest; uninstalls keep the row."""

    def __init__(self, repo: Installations, box: SecretBox, clock: Clock) -> None:
        self.repo = repo
        self.box = box
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        workspace, enterprise = workspace_key(installation.enterprise_id, installation.team_id,
                                              installation.is_enterprise_install)
        data: dict[str, Any] = installation.to_dict_for_copying()
        for key in _TIMES:  # datetimes → epoch seconds, which Installation() accepts back
            if isinstance(data.get(key), datetime):
                data[key] = data[key].timestamp()
        now = self.clock.now()
        revived = await self.repo.save(PLATFORM, workspace, enterprise, sealed=self.box.seal(data),
                                       bot_user_id=installation.bot_user_id,
                                       scopes=",".join(installation.bot_scopes or []), now=now)
        log.info("slack: installed in workspace %s (%s)", workspace, installation.team_name or "?")
        if revived:
            held = await self.repo.resume(PLATFORM, workspace, enterprise, now)
            log.info("slack: workspace %s reinstalled; its channels resume (%d older waiting digest(s) "
                     "set aside, only the newest is posted)", workspace, held)

    async def async_save_bot(self, bot: Bot) -> None:
        """Bots are saved with their installation (async_save); nothing else to keep."""

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        row = await self.repo.get(PLATFORM, *workspace_key(enterprise_id, team_id, is_enterprise_install))
        if row is None or row.sealed is None:
            return None
        installation = Installation(**self.box.open(row.sealed))
        if user_id is not None and installation.user_id != user_id:
            return None  # we hold no user tokens of other users
        return installation

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        installation = await self.async_find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                                          is_enterprise_install=is_enterprise_install)
        return installation.to_bot() if installation and installation.bot_token else None

    async def bot_token(self, workspace: str, enterprise: str) -> str | None:
        row = await self.repo.get(PLATFORM, workspace, enterprise)
        if row is None or row.sealed is None:
            return None
        return self.box.open(row.sealed).get("bot_token")

    async def forget(self, workspace: str, enterprise: str, reason: str) -> None:
        """Delete the workspace's tokens; its channels show `reason` and stop at once."""
        channels = await self.repo.revoke(PLATFORM, workspace, enterprise, reason, self.clock.now())
        log.warning("slack: %s; its tokens were deleted, %d channel(s) paused until a reinstall", reason, channels)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        if user_id is None:
            await self.forget(*workspace_key(enterprise_id, team_id, False), "the installation was deleted")

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.forget(*workspace_key(enterprise_id, team_id, False), "the bot token was deleted")

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.forget(*workspace_key(enterprise_id, team_id, False), "the installation was deleted")


class StoreStates(AsyncOAuthStateStore):
    """One-time `state` values for the install flow, kept in the database for 10 minutes."""

    def __init__(self, repo: Installations, clock: Clock, max_age: float = STATE_MAX_AGE) -> None:
        self.repo = repo
        self.clock = clock
        self.max_age = max_age

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        await self.repo.issue_state(state, self.clock.now(), self.max_age)
        return state

    async def async_consume(self, state: str) -> bool:
        return bool(state) and await self.repo.consume_state(state, self.clock.now(), self.max_age)


def _page(status: int, title: str, lines: list[str]) -> BoltResponse:
    body = "".join(f"<p>{line}</p>" for line in lines)
    text = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return BoltResponse(status=status, body=text, headers={"Content-Type": "text/html; charset=utf-8"})


async def success_page(args: AsyncSuccessArgs) -> BoltResponse:
    team = html.escape(args.installation.team_name or args.installation.team_id or "your workspace")
    return _page(200, "newsdigest is installed", [
        f"newsdigest was added to <b>{team}</b>.",
        "Next: in each channel that should get digests, invite the bot with "
        "<code>/invite @newsdigest</code>, then follow a feed there with <code>/subscribe &lt;feed url&gt;</code>.",
        "<code>/feeds</code> shows what the channel follows; <code>/schedule</code> sets when digests are posted.",
    ])


async def failure_page(args: AsyncFailureArgs) -> BoltResponse:
    reason = html.escape(args.reason)
    if args.reason in BAD_REQUEST:
        log.warning("slack: install refused (%s); nothing was stored", args.reason)
        return _page(400, "Installation failed", [
            f"This installation link is not valid any more ({reason}): it was already used, is older "
            "than 10 minutes, or did not come from this server.", "Start again from the install link."])
    if args.reason == "storage_error":
        log.error("slack: install could not be stored: %s", args.error)
        return _page(500, "Installation failed", ["The installation could not be saved; the bot's log has details."])
    return _page(200, "Installation cancelled", [f"Slack reported: {reason}. Nothing was installed."])


CALLBACKS = AsyncCallbackOptions(success=success_page, failure=failure_page)
