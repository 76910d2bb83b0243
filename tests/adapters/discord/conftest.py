"""Fixtures: a FakeDiscord on 127.0.0.1:0 and a DiscordAdapter started against it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.discord import DiscordAdapter
from bot.config import DiscordSettings, Secrets, Settings
from bot.models import FeedHealth
from bot.ports import CommandContext, Reply, SystemClock
from tests.fakes.discord import FakeDiscord


class RecordingPort:
    """A small CommandPort: records calls, answers with canned replies, can be slow."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, CommandContext, tuple[Any, ...]]] = []
        self.delay: dict[str, float] = {}
        self.replies: dict[str, Reply] = {}
        self.feed_list: list[FeedHealth] = []
        self.raise_in: set[str] = set()

    async def _call(self, name: str, ctx: CommandContext, *args: Any) -> Reply:
        self.calls.append((name, ctx, args))
        if name in self.delay:
            await asyncio.sleep(self.delay[name])
        if name in self.raise_in:
            raise RuntimeError("boom in the core")
        return self.replies.get(name, Reply(text=f"{name} ok"))

    async def digest(self, ctx: CommandContext) -> Reply:
        return await self._call("digest", ctx)

    async def summarize(self, ctx: CommandContext, url: str) -> Reply:
        return await self._call("summarize", ctx, url)

    async def subscribe(self, ctx: CommandContext, url: str) -> Reply:
        return await self._call("subscribe", ctx, url)

    async def unsubscribe(self, ctx: CommandContext, feed: str) -> Reply:
        return await self._call("unsubscribe", ctx, feed)

    async def feeds(self, ctx: CommandContext) -> Reply:
        reply = await self._call("feeds", ctx)
        reply.feeds = self.feed_list
        return reply

    async def schedule(self, ctx: CommandContext, when: str, timezone: str | None) -> Reply:
        return await self._call("schedule", ctx, when, timezone)

    async def feed_choices(self, ctx: CommandContext, prefix: str) -> list[tuple[str, str]]:
        self.calls.append(("feed_choices", ctx, (prefix,)))
        return [(f"Feed {i} {prefix}", str(i)) for i in range(30)]

    async def digest_preview(self, ctx: CommandContext) -> Reply:
        return await self._call("digest_preview", ctx)

    async def why(self, ctx: CommandContext, url: str) -> Reply:
        return await self._call("why", ctx, url)

    async def filter(self, ctx: CommandContext, words: list[str]) -> Reply:
        return await self._call("filter", ctx, *words)

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


def discord_settings(fake: FakeDiscord, guild: bool = True) -> Settings:
    return Settings(discord=DiscordSettings(api_base_url=fake.base_url, gateway_url=fake.gateway_url,
                                            guild_ids=[int(fake.guild_id)] if guild else []))


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def port() -> RecordingPort:
    return RecordingPort()


@pytest.fixture
async def adapter(fake: FakeDiscord, port: RecordingPort) -> AsyncIterator[DiscordAdapter]:
    bot = DiscordAdapter(discord_settings(fake), Secrets(discord_token=fake.token), SystemClock(),
                         reconnect=False, guild_ready_timeout=0.1, start_timeout=10)
    await bot.start(port)
    yield bot
    await bot.stop()
