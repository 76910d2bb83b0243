"""The discord.py client: endpoints from settings, intents, command tree, command sync.

`apply_endpoints` is the one place that points discord.py at a different REST base or
gateway (tests, proxies): discord.py reads `Route.BASE` per request and
`DiscordWebSocket.DEFAULT_GATEWAY` per connect, so setting both before start is enough.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
import yarl
from discord import app_commands

from adapters.discord import commands
from bot.config import DiscordSettings
from bot.ports import CommandPort

log = logging.getLogger(__name__)

DEFAULT_API_BASE = discord.http.Route.BASE
DEFAULT_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


def apply_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py's REST and gateway at the configured URLs (Discord's own by default)."""
    discord.http.Route.BASE = settings.api_base_url.rstrip("/")
    gateway = yarl.URL(settings.gateway_url)
    if not gateway.path:
        gateway = gateway.with_path("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


def restore_endpoints() -> None:
    discord.http.Route.BASE = DEFAULT_API_BASE
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = DEFAULT_GATEWAY


class ReportingTree(app_commands.CommandTree):
    """A tree whose errors become one ephemeral line for the user and a log entry."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        name = interaction.command.name if interaction.command else "command"
        if isinstance(error, app_commands.CheckFailure):
            text = commands.NEEDS_MANAGE if interaction.guild_id else commands.NOT_IN_GUILD
        else:
            log.error("discord: /%s raised", name, exc_info=error)
            text = commands.FAILED.format(name=name)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True,
                                                allowed_mentions=discord.AllowedMentions.none())
            else:
                await commands.refuse(interaction, text)
        except discord.HTTPException as exc:
            log.warning("discord: could not report an error for /%s: %s", name, exc.status)


class _Digest:
    """No privileged intents: slash commands need none, and the bot reads no messages.

    `may_register` decides whether this process registers the slash commands: with many
    workers only the one that wins the fleet's `discord-commands` role does."""

    def __init__(self, *, port: Callable[[], CommandPort], guild_ids: list[int], guild_ready_timeout: float = 2.0,
                 may_register: Callable[[], Awaitable[bool]] | None = None, **options: Any) -> None:
        super().__init__(intents=discord.Intents(guilds=True),  # type: ignore[call-arg]
                         allowed_mentions=discord.AllowedMentions.none(),
                         guild_ready_timeout=guild_ready_timeout, **options)
        self.guild_ids = list(guild_ids)
        self.may_register = may_register
        self.tree = ReportingTree(self)  # type: ignore[arg-type]
        commands.install(self.tree, port)

    async def setup_hook(self) -> None:
        """Register the slash commands: per guild when configured (instant), else globally."""
        if self.may_register is not None and not await self.may_register():
            log.info("discord: another worker registers the slash commands")
            return
        if self.guild_ids:
            for guild_id in self.guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("discord: registered %d commands in guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("discord: registered %d global commands (may take a while to appear)", len(synced))


class DigestClient(_Digest, discord.Client):
    """One gateway connection (a small bot, as before sharding)."""


class ShardedDigestClient(_Digest, discord.AutoShardedClient):
    """The shards this worker was given (`[discord] shard_count` / `shard_ids`)."""


def make_client(*, shard_count: int | None, shard_ids: list[int] | None, **options: Any) -> DigestClient:
    if shard_count is None or shard_ids == []:  # one connection, or none at all (REST only)
        return DigestClient(**options)
    ids = shard_ids if shard_ids is not None else list(range(shard_count))
    return ShardedDigestClient(shard_count=shard_count, shard_ids=ids, **options)  # type: ignore[return-value]

