"""DiscordAdapter: the ChatAdapter for Discord (discord.py, slash commands, embeds).

Lifecycle, rendering and delivery only; command logic lives in the core (CommandPort).
In a fleet (many workers on one PostgreSQL store) each worker holds the shards it is given,
one worker registers the slash commands, and every REST request first takes a slot of the
fleet's shared per-second budget, so the bot as a whole stays under Discord's global limit.
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
from bot.fleet import Fleet
from bot.models import ChannelRef, Digest, Notice
from bot.ports import Clock, CommandPort, DeliveryError, SentMessage

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
COMMANDS_ROLE = "discord-commands"
COMMANDS_ROLE_SECONDS = 600.0  # workers started together register once; a later restart again


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
        self._fleet: Fleet | None = None

    def join_fleet(self, fleet: Fleet) -> None:
        """Called by the service before `start` when the store may be shared."""
        self._fleet = fleet

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self, commands: CommandPort) -> None:
        """Log in, register commands, connect the gateway; return once ready."""
        if not self._token:
            raise RuntimeError("discord: DISCORD_TOKEN is not set")
        self._commands = commands
        client_mod.apply_endpoints(self.settings)
        ready = asyncio.Event()
        options: dict[str, Any] = {}
        fleet = self._fleet
        if fleet is not None and fleet.shared:
            options["may_register"] = lambda: fleet.claim_role(COMMANDS_ROLE, COMMANDS_ROLE_SECONDS)
        if fleet is not None:
            options["http_trace"] = _rest_budget(fleet, int(self.settings.rest_per_second))
        client = client_mod.make_client(port=self._port, guild_ids=self.settings.guild_ids,
                                        guild_ready_timeout=self.guild_ready_timeout,
                                        shard_count=self.settings.shard_count, shard_ids=self.settings.shard_ids,
                                        **options)
        client.event(_on_ready_setter(ready))
        self.client = client
        if self.settings.shard_count is not None and self.settings.shard_ids == []:
            await self._login_only(client)
            return
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

    async def _login_only(self, client: client_mod.DigestClient) -> None:
        """A worker given no shards: REST only (it posts digests; others hold the gateway)."""
        assert self._token is not None
        try:
            await asyncio.wait_for(client.login(self._token), self.start_timeout)
        except Exception as exc:  # noqa: BLE001 - reported as one line like a failed connect
            await self.stop()
            raise RuntimeError(self._redact(_start_error(exc, self.settings.api_base_url))) from None
        log.info("discord: logged in as %s for posting only (this worker holds no shards)", client.user)

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


def _rest_budget(fleet: Fleet, per_second: int) -> aiohttp.TraceConfig:
    """An aiohttp hook awaited before each REST request discord.py makes (not the gateway)."""
    trace = aiohttp.TraceConfig()

    async def before(_session: object, _ctx: object, params: aiohttp.TraceRequestStartParams) -> None:
        if params.url.scheme in ("http", "https") and "/interactions/" not in params.url.path:
            await fleet.request_slot("discord-rest", max(1, per_second))

    trace.on_request_start.append(before)
    return trace


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
