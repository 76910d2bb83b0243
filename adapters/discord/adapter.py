"""DiscordAdapter: the ChatAdapter for Discord (discord.py, slash commands, embeds).

Lifecycle, rendering and delivery only; command logic lives in the core (CommandPort).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
import discord

from adapters.discord import client as client_mod
from adapters.discord import render
from adapters.discord.render import DiscordMessage
from bot.config import Secrets, Settings
from bot.models import ChannelRef, Digest, Notice
from bot.ports import Clock, CommandPort, DeliveryError, SentMessage

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class DiscordAdapter:
    """Connects with DISCORD_TOKEN, registers the slash commands, renders and sends digests."""

    platform = "discord"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock, *, reconnect: bool = True,
                 guild_ready_timeout: float = 2.0, start_timeout: float = START_TIMEOUT) -> None:
        self.settings = settings.discord
        self._token = secrets.discord_token
        self.clock = clock
        self.reconnect = reconnect
        self.guild_ready_timeout = guild_ready_timeout
        self.start_timeout = start_timeout
        self.client: client_mod.DigestClient | None = None
        self._commands: CommandPort | None = None
        self._runner: asyncio.Task[None] | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self, commands: CommandPort) -> None:
        """Log in, register commands, connect the gateway; return once ready."""
        if not self._token:
            raise RuntimeError("discord: DISCORD_TOKEN is not set")
        self._commands = commands
        client_mod.apply_endpoints(self.settings)
        ready = asyncio.Event()
        client = client_mod.DigestClient(port=self._port, guild_ids=self.settings.guild_ids,
                                         guild_ready_timeout=self.guild_ready_timeout)
        client.event(_on_ready_setter(ready))
        self.client = client
        self._runner = asyncio.create_task(client.start(self._token, reconnect=self.reconnect),
                                           name="discord-client")
        waiter = asyncio.create_task(ready.wait())
        try:
            done, _ = await asyncio.wait({waiter, self._runner}, timeout=self.start_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if self._runner in done:
            exc = self._runner.exception()
            await self.stop()
            raise RuntimeError(self._redact(_start_error(exc, self.settings.api_base_url))) from None
        if not done:
            await self.stop()
            raise RuntimeError(f"discord: not ready after {self.start_timeout:.0f} s "
                               f"(gateway {self.settings.gateway_url} unreachable?)")
        self._runner.add_done_callback(self._runner_ended)
        user = client.user
        log.info("discord: connected as %s (%s), %d guild(s)", user, user.id if user else "?",
                 len(client.guilds))

    async def stop(self) -> None:
        """Close the client and wait for its task (idempotent)."""
        client, runner = self.client, self._runner
        self.client, self._runner = None, None
        if client is not None and not client.is_closed():
            with contextlib.suppress(Exception):
                await client.close()
        if runner is not None and not runner.done():
            try:
                await asyncio.wait_for(runner, STOP_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError, Exception):  # noqa: S110 - closing anyway
                pass
        if client is not None:
            client_mod.restore_endpoints()

    def _port(self) -> CommandPort:
        if self._commands is None:
            raise RuntimeError("discord adapter not started")
        return self._commands

    def _runner_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("discord: client stopped: %s", self._redact(str(task.exception())))

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "[token]") if self._token else text

    # ---- rendering ------------------------------------------------------------------------

    def render_digest(self, digest: Digest) -> list[DiscordMessage]:
        return render.render_digest(digest)

    def render_notice(self, notice: Notice) -> list[DiscordMessage]:
        return render.render_notice(notice)

    # ---- delivery -------------------------------------------------------------------------

    async def send(self, channel: ChannelRef, payload: Any, *, nonce: str) -> SentMessage:
        """Post one payload; the nonce (enforce_nonce) makes a retried send return the first post."""
        client = self.client
        if client is None or client.is_closed():
            raise DeliveryError("discord: not connected")
        if not isinstance(payload, DiscordMessage):
            raise DeliveryError(f"discord: cannot send a {type(payload).__name__}", permanent=True)
        if not channel.external_id.isdigit():
            raise DeliveryError(f"discord: bad channel id {channel.external_id!r}", permanent=True)
        target = client.get_partial_messageable(int(channel.external_id))
        try:
            message = await target.send(nonce=nonce, **payload.send_kwargs())
        except discord.HTTPException as exc:
            raise self._delivery_error(channel, exc) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"discord: cannot reach Discord ({type(exc).__name__})") from None
        return SentMessage(message_id=str(message.id))

    def _delivery_error(self, channel: ChannelRef, exc: discord.HTTPException) -> DeliveryError:
        where = f"channel {channel.external_id}"
        detail = self._redact(f"{exc.status} code {exc.code}: {exc.text}"[:200])
        if isinstance(exc, discord.RateLimited):
            return DeliveryError(f"discord: rate limited in {where}", retry_after=exc.retry_after)
        if isinstance(exc, discord.Forbidden):
            msg = (f"discord: missing access to {where} - let the bot view it and send messages "
                   f"and embeds there ({detail})")
            log.warning(msg)
            return DeliveryError(msg, permanent=True)
        if isinstance(exc, discord.NotFound):
            msg = f"discord: unknown {where} - deleted, or the bot is not in that server ({detail})"
            log.warning(msg)
            return DeliveryError(msg, permanent=True)
        if exc.status == 429:
            retry = _retry_after(exc)
            return DeliveryError(f"discord: rate limited in {where} ({detail})", retry_after=retry)
        if exc.status == 401:
            return DeliveryError("discord: the bot token was rejected (401)", permanent=True)
        if 400 <= exc.status < 500:
            msg = f"discord: message rejected in {where} ({detail})"
            log.error(msg)
            return DeliveryError(msg, permanent=True)
        return DeliveryError(f"discord: server error in {where} ({detail})")


def _retry_after(exc: discord.HTTPException) -> float:
    try:
        return float(exc.response.headers.get("Retry-After", "5"))
    except (TypeError, ValueError, AttributeError):
        return 5.0


def _on_ready_setter(ready: asyncio.Event):
    async def on_ready() -> None:
        ready.set()

    return on_ready


def _start_error(exc: BaseException | None, api_base: str) -> str:
    """A one-line reason the client could not start (never includes the token)."""
    if isinstance(exc, discord.LoginFailure):
        return "discord: the bot token was rejected (401) - check DISCORD_TOKEN"
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return "discord: privileged intents requested but not enabled for this application"
    if isinstance(exc, discord.app_commands.CommandSyncFailure):
        return f"discord: could not register slash commands: {exc.status} {exc.text}"[:300]
    if isinstance(exc, discord.HTTPException):
        return f"discord: API error during start: {exc.status} {exc.text}"[:300]
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return f"discord: cannot reach {api_base} ({type(exc).__name__}: {exc})"[:300]
    if isinstance(exc, discord.ConnectionClosed):
        return f"discord: gateway closed the connection during start (code {exc.code})"
    return f"discord: client stopped during start ({type(exc).__name__}: {exc})"[:300]
