"""The seams between the core and the outside world, one small Protocol per direction.

Adapters implement `ChatAdapter` and call the core through `CommandPort`; the core
never learns which platform it talks to.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from bot.models import ChannelRef, Digest, FeedHealth, Notice


class Clock(Protocol):
    def now(self) -> datetime: ...  # timezone-aware UTC
    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock; tests inject their own."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


# ---- commands: adapters translate platform events into these -------------------------


@dataclass(slots=True)
class CommandContext:
    """Who asked, where. `can_manage` is decided by the adapter from platform permissions."""

    channel: ChannelRef
    user_id: str
    can_manage: bool = False
    channel_name: str | None = None
    user_name: str | None = None


@dataclass(slots=True)
class Reply:
    """A platform-neutral answer. `ephemeral` replies are seen only by the caller.

    `summary` is set by /summarize: {"title", "url", "language", "algorithm", "sentences"}.
    `feeds` is set by /feeds. `digest_posted` counts items queued for the channel by /digest.
    """

    text: str
    ok: bool = True
    ephemeral: bool = True
    summary: dict[str, Any] | None = None
    feeds: list[FeedHealth] | None = None
    channel_error: str | None = None  # a delivery problem in this channel, shown by /feeds
    digest_posted: int = 0


@runtime_checkable
class CommandPort(Protocol):
    """What an adapter may ask of the core (implemented by bot.commands.CommandHandlers)."""

    async def digest(self, ctx: CommandContext) -> Reply: ...
    async def summarize(self, ctx: CommandContext, url: str) -> Reply: ...
    async def subscribe(self, ctx: CommandContext, url: str) -> Reply: ...
    async def unsubscribe(self, ctx: CommandContext, feed: str) -> Reply: ...
    async def feeds(self, ctx: CommandContext) -> Reply: ...
    async def schedule(self, ctx: CommandContext, when: str, timezone: str | None) -> Reply: ...
    async def feed_choices(self, ctx: CommandContext, prefix: str) -> list[tuple[str, str]]: ...
    async def digest_preview(self, ctx: CommandContext) -> Reply: ...
    async def why(self, ctx: CommandContext, url: str) -> Reply: ...
    async def filter(self, ctx: CommandContext, words: list[str]) -> Reply: ...


# ---- delivery: the core's outbox sender calls adapters through this ------------------


class DeliveryError(Exception):
    """A send failed. `permanent` errors (missing access, unknown channel) are not retried
    soon; they are reported in channel health. `retry_after` asks for a wait in seconds."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(slots=True)
class SentMessage:
    message_id: str
    extra: dict[str, Any] = field(default_factory=dict)


class ChatAdapter(Protocol):
    """A chat platform. Rendering respects the platform's limits; `send` posts one payload.

    The core's outbox calls `render_digest` once, stores nothing platform-specific, and
    sends the parts in order, marking each part sent only after `send` returns. A retried
    part carries the same `nonce`, so a platform that supports idempotent sends (Discord's
    enforce_nonce) never posts it twice.
    """

    platform: str

    async def start(self, commands: CommandPort) -> None: ...
    async def stop(self) -> None: ...
    def render_digest(self, digest: Digest) -> list[Any]: ...
    def render_notice(self, notice: Notice) -> list[Any]: ...
    async def send(self, channel: ChannelRef, payload: Any, *, nonce: str) -> SentMessage: ...
