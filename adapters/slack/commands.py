"""Slash commands: Slack payload → CommandContext → CommandPort → ack / response_url.

Slack wants an ack within 3 s. A command whose answer arrives within ACK_BUDGET is answered
in the ack itself (no response_url use); otherwise we ack with "working on it" and answer
once through response_url (Slack allows 5 uses in 30 minutes; we use at most one).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncApp

from adapters.slack import limits
from adapters.slack.permissions import AdminPolicy
from adapters.slack.render import clip, render_reply
from bot.models import ChannelRef
from bot.ports import CommandContext, CommandPort, Reply

log = logging.getLogger(__name__)

COMMANDS = ("digest", "summarize", "subscribe", "unsubscribe", "feeds", "schedule", "why", "filter")
MANAGING = frozenset({"subscribe", "unsubscribe", "schedule"})
USAGE = {
    "digest": "[preview]",
    "summarize": "<url>",
    "subscribe": "<feed url>",
    "unsubscribe": "<feed id or url>",
    "feeds": "",
    "schedule": "<immediate | cron expression> [timezone]",
    "why": "<article url>",
    "filter": "list | add [feed:<id>] <include|exclude|include-regex|exclude-regex> [field:]pattern | remove <id>",
}
REFUSAL = ("Only workspace admins and owners, or the users and groups listed in the bot's "
           "`[slack] admins` setting, can change this channel's feeds and schedule.")
_NAME = re.compile(r"^/[a-z0-9_\-]{1,31}$")
_LINK = re.compile(r"^<([^<>|]+)(?:\|[^<>]*)?>$")


def command_names(overrides: Mapping[str, str]) -> dict[str, str]:
    """Canonical name → the slash command registered in Slack (`[slack] commands`)."""
    names = {name: f"/{name}" for name in COMMANDS}
    for key, value in overrides.items():
        canonical = key.strip().lstrip("/")
        if canonical not in names:
            raise ValueError(f"[slack] commands: unknown command {key!r} (known: {', '.join(COMMANDS)})")
        slash = "/" + value.strip().lstrip("/").lower()
        if not _NAME.match(slash):
            raise ValueError(f"[slack] commands.{canonical}: {value!r} is not a valid Slack command name")
        names[canonical] = slash
    if len(set(names.values())) != len(names):
        raise ValueError("[slack] commands: two commands share one name")
    return names


def _unslack(token: str) -> str:
    """Undo Slack's formatting of one argument: `<url|label>` → url, `&amp;` → `&` (once)."""
    token = token.strip()
    match = _LINK.match(token)
    if match:
        token = match.group(1)
    return token.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_args(text: str) -> list[str]:
    return [_unslack(tok) for tok in (text or "").split()]


def parse_schedule(args: list[str]) -> tuple[str, str | None]:
    """`immediate [tz]` or `<5-6 cron fields> [tz]`; a trailing IANA name is the timezone."""
    if not args:
        return "", None
    if len(args) >= 2 and _looks_like_timezone(args[-1]):
        return " ".join(args[:-1]), args[-1]
    return " ".join(args), None


def _looks_like_timezone(token: str) -> bool:
    return token.upper() in ("UTC", "GMT") or ("/" in token and any(ch.isalpha() for ch in token)
                                               and not token.startswith("*"))


Handler = Callable[..., Awaitable[None]]
OnCommand = Callable[[dict[str, Any]], Awaitable[None]]


class CommandRouter:
    """Registers one bolt listener per command and translates to the core's CommandPort."""

    def __init__(self, names: Mapping[str, str], port: CommandPort, policy: AdminPolicy,
                 on_command: OnCommand | None = None):
        self.names = dict(names)
        self._port = port
        self._policy = policy
        self._on_command = on_command  # e.g. remember which workspace the channel belongs to
        self._tasks: set[asyncio.Task[Any]] = set()

    def register(self, app: AsyncApp) -> None:
        for canonical, slash in self.names.items():
            app.command(slash)(self._listener(canonical))

    def _listener(self, canonical: str) -> Handler:
        async def listener(ack: Any, command: dict[str, Any], respond: Any, client: Any) -> None:
            await self.handle(canonical, command, ack, respond, client)

        listener.__name__ = f"slack_{canonical}"
        return listener

    async def handle(self, canonical: str, command: dict[str, Any], ack: Any, respond: Any,
                     client: Any = None) -> None:
        """`client` is bolt's per-request client, carrying the token of the caller's workspace."""
        args = parse_args(command.get("text", ""))
        usage = self._usage(canonical, args)
        if usage:
            await ack(**render_reply(Reply(text=usage, ok=False)))
            return
        work = asyncio.ensure_future(self._run(canonical, command, args, client))
        self._tasks.add(work)
        work.add_done_callback(self._tasks.discard)
        if canonical == "summarize":  # always slow: fetch + summarize
            await ack(**render_reply(Reply(text=f"Summarizing {args[0]} …")))
            await self._answer_later(respond, work)
            return
        done, _ = await asyncio.wait({work}, timeout=limits.ACK_BUDGET)
        if done:
            await ack(**render_reply(work.result()))
            return
        await ack(**render_reply(Reply(text="Working on it …")))
        await self._answer_later(respond, work)

    def cancel(self) -> None:
        """Drop commands still running (the adapter is stopping)."""
        for task in list(self._tasks):
            task.cancel()

    def _usage(self, canonical: str, args: list[str]) -> str | None:
        needs_arg = canonical in ("summarize", "subscribe", "unsubscribe", "schedule", "why")
        if needs_arg and not args:
            return f"Usage: {self.names[canonical]} {USAGE[canonical]}"
        if canonical == "digest" and args and args != ["preview"]:
            return f"Usage: {self.names[canonical]} {USAGE[canonical]}"
        return None

    async def _answer_later(self, respond: Any, work: asyncio.Future[Reply]) -> None:
        try:
            reply = await work
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if work.cancelled() and not (task and task.cancelling()):
                return  # stopped by cancel(): nobody is left to answer
            raise
        resp = await respond(**render_reply(reply), replace_original=False)
        if getattr(resp, "status_code", 200) != 200:
            log.warning("slack: response_url refused the answer (HTTP %s: %s)",
                        resp.status_code, clip(str(resp.body), 200))

    async def _run(self, canonical: str, command: dict[str, Any], args: list[str], client: Any) -> Reply:
        try:
            if self._on_command is not None:
                await self._on_command(command)
            ctx = await self._context(command, client)
            if canonical in MANAGING and not ctx.can_manage:
                return Reply(text=REFUSAL, ok=False)
            return await self._call(canonical, ctx, args)
        except Exception:
            log.exception("slack: %s failed", self.names.get(canonical, canonical))
            return Reply(text="Sorry, that failed because of an internal error; the bot's log has details.",
                         ok=False)

    async def _context(self, command: dict[str, Any], client: Any) -> CommandContext:
        user_id = str(command.get("user_id") or "")
        return CommandContext(
            channel=ChannelRef("slack", str(command.get("channel_id") or "")),
            user_id=user_id,
            can_manage=bool(user_id) and await self._policy.can_manage(user_id, client),
            channel_name=command.get("channel_name"),
            user_name=command.get("user_name"),
        )

    async def _call(self, canonical: str, ctx: CommandContext, args: list[str]) -> Reply:
        port = self._port
        if canonical == "digest":
            return await (port.digest_preview(ctx) if args == ["preview"] else port.digest(ctx))
        if canonical == "why":
            return await port.why(ctx, args[0])
        if canonical == "filter":  # the core decides who may add or remove (ctx.can_manage)
            return await port.filter(ctx, args)
        if canonical == "summarize":
            return await port.summarize(ctx, args[0])
        if canonical == "subscribe":
            return await port.subscribe(ctx, args[0])
        if canonical == "unsubscribe":
            return await port.unsubscribe(ctx, " ".join(args))
        if canonical == "feeds":
            return await port.feeds(ctx)
        when, timezone = parse_schedule(args)
        return await port.schedule(ctx, when, timezone)
