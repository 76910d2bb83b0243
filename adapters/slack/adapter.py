"""SlackAdapter: slack-bolt AsyncApp in Socket Mode or HTTP mode, plus paced delivery.

Mode (`[slack] mode = "auto"`): SLACK_APP_TOKEN present → Socket Mode (no public URL needed);
otherwise SLACK_SIGNING_SECRET → HTTP mode serving /slack/events, where bolt verifies each
request's signature and rejects timestamps more than 5 minutes off with 401. `mode = "oauth"`
(or auto with `[slack] client_id` and no SLACK_BOT_TOKEN) is HTTP mode for many workspaces:
bolt's install flow, tokens from our encrypted store, one token per workspace (workspaces.py).

Delivery is at-least-once: Slack has no idempotency key, so if the process dies after
chat.postMessage succeeded but before the core marked the part sent, the part is posted again
after restart (at most one duplicate). Within one process a repeated nonce is answered from
memory instead of posting twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.client import api_error, build_client, retry_after
from adapters.slack.commands import CommandRouter, command_names
from adapters.slack.modes import SlackStartError, check_oauth, choose_mode
from adapters.slack.pacing import ChannelPacer
from adapters.slack.permissions import AdminPolicy, split_admins
from adapters.slack.workspaces import (
    DEAD_TOKEN,
    Workspaces,
    bind_channel,
    oauth_settings,
    register_single_workspace,
)
from bot.config import Secrets, Settings
from bot.models import ChannelRef, Digest, Notice
from bot.ports import Clock, CommandPort, DeliveryError, SentMessage
from bot.store.installations import Installations

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
CONNECT_TIMEOUT = 30.0  # seconds for the Socket Mode websocket to come up
NONCE_MEMORY = 4096
PERMANENT = {
    "not_in_channel": "the bot is not a member of this channel; invite it with /invite @<bot name>",
    "channel_not_found": "the channel does not exist or the bot cannot see it",
    "is_archived": "the channel is archived",
    "restricted_action": "the workspace does not allow the bot to post in this channel",
    "missing_scope": "the bot token lacks the chat:write scope",
    "not_authed": "no bot token was sent",
    "invalid_auth": "the bot token is invalid",
    "account_inactive": "the bot token belongs to a deleted user or app",
    "token_revoked": "the bot token was revoked",
    "invalid_blocks": "Slack rejected the message blocks (a rendering bug; please report it)",
    "msg_too_long": "the message is too long (a rendering bug; please report it)",
    "invalid_arguments": "Slack rejected the arguments (a bug; please report it)",
}


class SlackAdapter:
    """The Slack side of newsdigest (see ADAPTER_CONTRACT.md for the lifecycle)."""

    platform = "slack"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock):
        self.settings = settings.slack
        self._secrets = secrets
        self._clock = clock
        self.mode = choose_mode(settings, secrets)
        self._box = check_oauth(settings, secrets) if self.mode == "oauth" else None
        self._repo: Installations | None = None  # set by use_store(); required in oauth mode
        self.workspaces: Workspaces | None = None
        try:
            self.command_names = command_names(self.settings.commands)
            split_admins(self.settings.admins)
        except ValueError as exc:
            raise SlackStartError(str(exc)) from None
        self.pacer = ChannelPacer(self.settings.messages_per_second)
        self.bound_port: int | None = None  # HTTP mode: the port actually listened on
        self.bot_user_id: str | None = None
        self.client: AsyncWebClient | None = None
        self.app: AsyncApp | None = None
        self._session: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._sent: OrderedDict[str, SentMessage] = OrderedDict()
        self._router: CommandRouter | None = None

    # ---- lifecycle ---------------------------------------------------------------------

    def use_store(self, store: Any) -> None:
        """The bot's store: installations (oauth mode) and each channel's workspace."""
        self._repo = store.installations

    async def start(self, commands: CommandPort) -> None:
        """Connect, register the commands, and return once commands can arrive."""
        self._session = aiohttp.ClientSession()
        try:
            token = None if self.mode == "oauth" else self._secrets.slack_bot_token or ""
            self.client = build_client(token, self.settings.api_base_url, self._session)
            options: dict[str, Any] = {}
            if self.mode == "oauth":
                if self._repo is None or self._box is None:
                    raise SlackStartError("Slack install flow needs the bot's database (use_store was not called)")
                self.workspaces = Workspaces(self._repo, self._box, self._clock, self.settings.api_base_url,
                                             self._session)
                options["oauth_settings"] = oauth_settings(self.settings, self._secrets, self.workspaces.installs,
                                                           self.workspaces.states)
                installed = await self._repo.active("slack")
                auth = {"user": "newsdigest", "team": f"{len(installed)} installed workspace(s)"}
            else:
                auth = await self._call("auth.test", self.client.auth_test(), "SLACK_BOT_TOKEN")
                self.bot_user_id = auth.get("user_id")
            self.app = AsyncApp(
                client=self.client,
                signing_secret=self._secrets.slack_signing_secret or "",
                request_verification_enabled=self.mode != "socket",
                process_before_response=False,
                logger=logging.getLogger("adapters.slack.bolt"),
                **options,
            )
            if self.workspaces is not None:
                self.workspaces.register(self.app)
            else:
                register_single_workspace(self.app)
            policy = AdminPolicy(self.client, self.settings.admins)
            self._router = CommandRouter(self.command_names, commands, policy, on_command=self._bind)
            self._router.register(self.app)
            if self.mode == "socket":
                await self._start_socket()
            else:
                await self._start_http()
        except BaseException:
            await self.stop()
            raise
        log.info("slack: ready in %s mode as %s (team %s)", self.mode, auth.get("user"), auth.get("team"))

    async def _bind(self, command: dict[str, Any]) -> None:
        if self._repo is not None:
            await bind_channel(self._repo, self._clock, command)

    async def _call(self, what: str, call: Any, secret_name: str) -> Any:
        try:
            return await call
        except SlackApiError as exc:
            raise SlackStartError(
                f"Slack {what} failed: {api_error(exc) or exc.response.status_code} (check {secret_name})"
            ) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SlackStartError(
                f"cannot reach the Slack API at {self.settings.api_base_url}: {type(exc).__name__}"
            ) from None

    async def _start_socket(self) -> None:
        assert self.app is not None and self.client is not None
        token = self._secrets.slack_app_token or ""
        opened = await self._call("apps.connections.open", self.client.apps_connections_open(app_token=token),
                                  "SLACK_APP_TOKEN")
        self._socket = AsyncSocketModeHandler(self.app, app_token=token)
        self._socket.client.wss_uri = opened["url"]  # validated above; connect() reuses it
        try:
            await asyncio.wait_for(self._socket.connect_async(), CONNECT_TIMEOUT)
        except TimeoutError:
            raise SlackStartError("Slack Socket Mode websocket did not connect within "
                                  f"{CONNECT_TIMEOUT:.0f} s") from None

    async def _start_http(self) -> None:
        assert self.app is not None
        self._runner = web.AppRunner(self.app.web_app(path=EVENTS_PATH), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.http_host, self.settings.http_port)
        try:
            await site.start()
        except OSError as exc:
            raise SlackStartError(f"cannot listen on {self.settings.http_host}:{self.settings.http_port} "
                                  f"for Slack requests: {exc.strerror or exc}") from None
        self.bound_port = self._runner.addresses[0][1]
        log.info("slack: HTTP mode listening on http://%s:%d%s", self.settings.http_host,
                 self.bound_port, EVENTS_PATH)
        if self.mode == "oauth":
            log.info("slack: install link http://%s:%d%s (behind your public HTTPS URL)", self.settings.http_host,
                     self.bound_port, self.settings.install_path)

    async def stop(self) -> None:
        """Close the socket, the HTTP listener and the client session (safe to call twice)."""
        socket, self._socket = self._socket, None
        runner, self._runner = self._runner, None
        session, self._session = self._session, None
        if self._router is not None:
            self._router.cancel()
        if socket is not None:
            try:
                await socket.close_async()
            except Exception:  # closing a half-broken socket must not mask the real error
                log.debug("slack: error while closing the socket", exc_info=True)
        if runner is not None:
            await runner.cleanup()
        if session is not None:
            await session.close()

    # ---- rendering ---------------------------------------------------------------------

    def render_digest(self, digest: Digest) -> list[render.SlackMessage]:
        return render.render_digest(digest)

    def render_notice(self, notice: Notice) -> list[render.SlackMessage]:
        return render.render_notice(notice)

    # ---- delivery ----------------------------------------------------------------------

    async def send(self, channel: ChannelRef, payload: render.SlackMessage, *, nonce: str) -> SentMessage:
        """Post one rendered message, paced per channel; failures become DeliveryError."""
        if channel.platform != "slack":
            raise DeliveryError(f"not a Slack channel: {channel}", permanent=True)
        if self.client is None:
            raise DeliveryError("the Slack adapter is not started")
        key = f"{channel.external_id}/{nonce}"
        if key in self._sent:
            return self._sent[key]
        client, workspace = self.client, None
        if self.workspaces is not None:  # the channel's own workspace token; refused before any call if dead
            client, workspace = await self.workspaces.client_for(channel)
        async with self.pacer.slot(channel.external_id):
            try:
                resp = await client.chat_postMessage(
                    channel=channel.external_id,
                    text=payload["text"],
                    blocks=payload.get("blocks"),
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except SlackApiError as exc:
                error = api_error(exc)
                if workspace is not None and self.workspaces is not None and error in DEAD_TOKEN:
                    await self.workspaces.token_died(workspace, error)
                raise self._delivery_error(channel, exc) from None
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                reason = type(exc).__name__
                raise DeliveryError(f"cannot reach Slack to post in {channel}: {reason}") from None
        sent = SentMessage(message_id=str(resp.get("ts")), extra={"channel": resp.get("channel")})
        self._sent[key] = sent
        while len(self._sent) > NONCE_MEMORY:
            self._sent.popitem(last=False)
        return sent

    def _delivery_error(self, channel: ChannelRef, exc: SlackApiError) -> DeliveryError:
        error = api_error(exc) or f"HTTP {exc.response.status_code}"
        if exc.response.status_code == 429 or error in ("ratelimited", "rate_limited"):
            wait = retry_after(exc.response.headers) or 30.0
            self.pacer.hold(channel.external_id, wait)
            return DeliveryError(f"Slack rate limit while posting in {channel}; retry in {wait:.0f} s",
                                 retry_after=wait)
        if error in PERMANENT:
            message = f"Slack refused to post in {channel}: {error} ({PERMANENT[error]})"
            log.warning("slack: %s", message)
            return DeliveryError(message, permanent=True)
        return DeliveryError(f"Slack error while posting in {channel}: {error}")
