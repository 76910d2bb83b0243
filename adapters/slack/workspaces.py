"""Many workspaces (`[slack] mode = "oauth"`): the install flow's settings, which token posts
where, and what happens when a workspace uninstalls the app or its token dies.

A channel belongs to the workspace it was used from (recorded on every command). Posting looks
the workspace's bot token up for each send, so a workspace that uninstalled is refused before
any call is made: nothing is ever retried against a dead token.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.client import build_client
from adapters.slack.installs import (
    CALLBACKS,
    PLATFORM,
    SCOPES,
    STATE_MAX_AGE,
    StoreInstallations,
    StoreStates,
    workspace_key,
)
from bot.config import Secrets, SlackSettings
from bot.models import ChannelRef
from bot.ports import Clock, DeliveryError
from bot.store.installations import Installations, SecretBox

log = logging.getLogger(__name__)

DEAD_TOKEN = ("invalid_auth", "account_inactive", "token_revoked")


def oauth_settings(settings: SlackSettings, secrets: Secrets, installs: StoreInstallations,
                   states: StoreStates) -> AsyncOAuthSettings:
    """bolt's own OAuth v2 flow: /slack/install redirects to Slack, /slack/oauth_redirect finishes."""
    return AsyncOAuthSettings(
        client_id=settings.client_id, client_secret=secrets.slack_client_secret,
        scopes=list(SCOPES), user_scopes=[],
        install_path=settings.install_path, redirect_uri_path=settings.redirect_uri_path,
        install_page_rendering_enabled=False,  # straight to Slack's authorize page
        authorization_url=settings.authorize_url,
        installation_store=installs, state_store=states, state_expiration_seconds=STATE_MAX_AGE,
        callback_options=CALLBACKS, logger=logging.getLogger("adapters.slack.bolt"),
    )


def register_single_workspace(app: AsyncApp) -> None:
    """One workspace (a token from the environment): nothing to delete, but say what happened."""
    async def gone(event: dict[str, Any]) -> None:
        log.warning("slack: Slack reports %s for this workspace; SLACK_BOT_TOKEN no longer works and "
                    "deliveries will fail until the app is reinstalled and the new token is set",
                    event.get("type"))

    app.event("app_uninstalled")(gone)
    app.event("tokens_revoked")(gone)


async def bind_channel(repo: Installations, clock: Clock, command: dict[str, Any]) -> None:
    """A command came from this channel: remember its workspace (its posts use that token)."""
    channel, team = command.get("channel_id"), command.get("team_id")
    if not channel or not team:
        return
    enterprise_install = str(command.get("is_enterprise_install")).lower() == "true"
    workspace, enterprise = workspace_key(command.get("enterprise_id"), team, enterprise_install)
    await repo.bind_channel(str(ChannelRef("slack", channel)), PLATFORM, workspace, enterprise, clock.now())


class Workspaces:
    """Per-workspace clients and the workspace of each channel."""

    def __init__(self, repo: Installations, box: SecretBox, clock: Clock, base_url: str,
                 session: aiohttp.ClientSession) -> None:
        self.repo = repo
        self.clock = clock
        self.installs = StoreInstallations(repo, box, clock)
        self.states = StoreStates(repo, clock)
        self._base_url = base_url
        self._session = session
        self._clients: dict[tuple[str, str], tuple[str, AsyncWebClient]] = {}

    def register(self, app: AsyncApp) -> None:
        app.event("app_uninstalled")(self._on_uninstalled)
        app.event("tokens_revoked")(self._on_tokens_revoked)

    async def workspace_of(self, channel: ChannelRef) -> tuple[str, str]:
        known = await self.repo.channel_workspace(str(channel))
        if known is not None:
            return known
        active = await self.repo.active(PLATFORM)
        if len(active) == 1:  # one installed workspace: a channel from the config is its channel
            return active[0].workspace, active[0].enterprise
        raise DeliveryError(f"{channel} is not linked to a Slack workspace yet: run /feeds in that channel "
                            "once so the bot learns which workspace it belongs to", permanent=True)

    async def client_for(self, channel: ChannelRef) -> tuple[AsyncWebClient, tuple[str, str]]:
        """The client holding the token of the channel's workspace, or a permanent DeliveryError."""
        key = await self.workspace_of(channel)
        token = await self.installs.bot_token(*key)
        if token is None:
            self._clients.pop(key, None)
            row = await self.repo.get(PLATFORM, *key)
            reason = (row.revoked_reason if row and row.revoked_reason
                      else f"the app is not installed in workspace {key[0]}")
            raise DeliveryError(f"not posting in {channel}: {reason}; delivery resumes once the app is "
                                "reinstalled", permanent=True)
        cached = self._clients.get(key)
        if cached is None or cached[0] != token:
            cached = (token, build_client(token, self._base_url, self._session))
            self._clients[key] = cached
        return cached[1], key

    async def token_died(self, key: tuple[str, str], error: str) -> None:
        """Slack rejected the workspace's token while posting: same as an uninstall."""
        self._clients.pop(key, None)
        await self.installs.forget(*key, f"workspace {key[0]}: Slack rejected the bot token ({error}); "
                                        "reinstall the app there")

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        key = self._key_of(body)
        self._clients.pop(key, None)
        await self.installs.forget(*key, f"workspace {key[0]} uninstalled the app (app_uninstalled)")

    async def _on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if not (event.get("tokens") or {}).get("bot"):
            return  # only user tokens were revoked; we hold none
        key = self._key_of(body)
        self._clients.pop(key, None)
        await self.installs.forget(*key, f"workspace {key[0]} revoked the bot token (tokens_revoked)")

    @staticmethod
    def _key_of(body: dict[str, Any]) -> tuple[str, str]:
        auths = body.get("authorizations") or [{}]
        enterprise_install = bool(auths[0].get("is_enterprise_install"))
        return workspace_key(body.get("enterprise_id"), body.get("team_id"), enterprise_install)
