"""Fixtures for the Slack adapter tests: a started FakeSlack, settings, and a small in-memory core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack import SlackAdapter
from bot.config import Secrets, Settings, SlackSettings
from bot.models import AlsoLink, ChannelRef, Digest, DigestItem, FeedHealth
from bot.ports import CommandContext, DeliveryError, Reply
from tests.fakes.slack import FakeSlack
from tests.support.clock import FakeClock

GENERAL = "C0GENERAL01"
RANDOM = "C0RANDOM001"  # the bot is not a member
ADMIN = "U0ADMIN0001"
OWNER = "U0OWNER0001"
MEMBER = "U0MEMBER001"
LISTED = "U0LISTED001"  # listed by id in [slack] admins
GROUPED = "U0GROUPED01"  # member of the listed user group
GROUP = "S0EDITORS01"
SIGNING_SECRET = "fake-signing-secret-123"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    slack.add_channel(GENERAL, "general")
    slack.add_channel(RANDOM, "random", bot_member=False)
    slack.add_user(ADMIN, "ada", admin=True)
    slack.add_user(OWNER, "otto", owner=True)
    slack.add_user(MEMBER, "mia")
    slack.add_user(LISTED, "lee")
    slack.add_user(GROUPED, "gus")
    slack.add_usergroup(GROUP, [GROUPED])
    await slack.start()
    yield slack
    await slack.stop()
    assert slack.violations == [], "the bot broke Slack's rules"


def make_settings(fake: FakeSlack, **slack: Any) -> Settings:
    values: dict[str, Any] = {
        "api_base_url": fake.base_url,
        "http_host": "127.0.0.1",
        "http_port": 0,
        "admins": [LISTED, GROUP],
        "messages_per_second": 50.0,
    }
    values.update(slack)
    return Settings(slack=SlackSettings(**values))


def socket_secrets(fake: FakeSlack) -> Secrets:
    return Secrets(slack_bot_token=fake.bot_token, slack_app_token=fake.app_token)


def http_secrets(fake: FakeSlack) -> Secrets:
    return Secrets(slack_bot_token=fake.bot_token, slack_signing_secret=SIGNING_SECRET)


def long_item(n: int, words: int = 400) -> DigestItem:
    sentence = f"Item {n} reports that the committee met again & agreed on <nothing> in particular. "
    return DigestItem(
        article_id=n,
        title=f"Story number {n}: " + "a very long headline " * 20,
        url=f"https://news.example/{n}?a=1&b=2",
        feed="Example News",
        published=datetime(2026, 1, 5, 7, n % 60, tzinfo=UTC),
        summary=[sentence * (words // 12) for _ in range(3)],
        also=[AlsoLink(feed=f"Other Outlet {k}", title="", url=f"https://other{k}.example/{n}") for k in range(7)],
    )


class MemoryCore:
    """A CommandPort standing in for bot.commands: remembers writes, posts digests via send()."""

    def __init__(self) -> None:
        self.adapter: SlackAdapter | None = None
        self.subscriptions: dict[str, list[str]] = {}
        self.schedules: dict[str, tuple[str, str | None]] = {}
        self.writes: list[tuple[str, str]] = []
        self.contexts: list[CommandContext] = []
        self.items: list[DigestItem] = []
        self.delivered: set[tuple[str, int]] = set()
        self.summarize_delay = 0.0
        self.send_errors: list[DeliveryError] = []
        self.tasks: set[asyncio.Task[Any]] = set()

    def _seen(self, ctx: CommandContext) -> None:
        self.contexts.append(ctx)

    async def digest(self, ctx: CommandContext) -> Reply:
        self._seen(ctx)
        channel = ctx.channel.external_id
        fresh = [i for i in self.items if (channel, i.article_id) not in self.delivered]
        if not fresh:
            return Reply(text="Nothing new.")
        self.delivered.update((channel, i.article_id) for i in fresh)
        task = asyncio.create_task(self._post(Digest(channel=ctx.channel, items=fresh)))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return Reply(text=f"Queued {len(fresh)} items.", digest_posted=len(fresh))

    async def _post(self, digest: Digest) -> None:
        assert self.adapter is not None
        for index, part in enumerate(self.adapter.render_digest(digest)):
            try:
                await self.adapter.send(digest.channel, part, nonce=f"d1-{index}")
            except DeliveryError as exc:
                self.send_errors.append(exc)
                return

    async def summarize(self, ctx: CommandContext, url: str) -> Reply:
        self._seen(ctx)
        await asyncio.sleep(self.summarize_delay)
        return Reply(text="Summary", summary={"title": "A <b>page</b>", "url": url, "language": "english",
                                              "algorithm": "news", "sentences": ["One.", "Two."]})

    async def subscribe(self, ctx: CommandContext, url: str) -> Reply:
        self._seen(ctx)
        if not ctx.can_manage:
            return Reply(text="not allowed", ok=False)
        self.subscriptions.setdefault(ctx.channel.external_id, []).append(url)
        self.writes.append(("subscribe", url))
        return Reply(text=f"Subscribed to {url}")

    async def unsubscribe(self, ctx: CommandContext, feed: str) -> Reply:
        self._seen(ctx)
        if not ctx.can_manage:
            return Reply(text="not allowed", ok=False)
        self.writes.append(("unsubscribe", feed))
        return Reply(text=f"Unsubscribed from {feed}")

    async def feeds(self, ctx: CommandContext) -> Reply:
        self._seen(ctx)
        feeds = [FeedHealth(id=i, url=f"https://feeds.example/{i}.xml", title=f"Feed {i} <!here>",
                            channels=[str(ctx.channel)], last_polled=None, last_error=None, disabled=None)
                 for i in range(3)]
        return Reply(text="\n".join(f"#{f.id} {f.title} — ok" for f in feeds), feeds=feeds)

    async def schedule(self, ctx: CommandContext, when: str, timezone: str | None) -> Reply:
        self._seen(ctx)
        if not ctx.can_manage:
            return Reply(text="not allowed", ok=False)
        self.schedules[ctx.channel.external_id] = (when, timezone)
        self.writes.append(("schedule", when))
        return Reply(text=f"Schedule set to {when}")

    async def feed_choices(self, ctx: CommandContext, prefix: str) -> list[tuple[str, str]]:
        return []

    async def digest_preview(self, ctx: CommandContext) -> Reply:
        self._seen(ctx)
        return Reply(text=f"Preview: {len(self.items)} items")

    async def why(self, ctx: CommandContext, url: str) -> Reply:
        self._seen(ctx)
        return Reply(text=f"Why {url}: posted")

    async def filter(self, ctx: CommandContext, words: list[str]) -> Reply:
        self._seen(ctx)
        if words[:1] != ["list"] and not ctx.can_manage:
            return Reply(text="not allowed", ok=False)
        if words[:1] != ["list"]:
            self.writes.append(("filter", " ".join(words)))
        return Reply(text=f"filter {' '.join(words)}")


@pytest.fixture
def core() -> MemoryCore:
    return MemoryCore()


@pytest.fixture
async def start_adapter(fake: FakeSlack, core: MemoryCore) -> AsyncIterator[Callable[..., Any]]:
    """`await start_adapter(mode, **slack_settings)` → a started SlackAdapter wired to `core`."""
    started: list[SlackAdapter] = []

    async def start(mode: str = "socket", **slack: Any) -> SlackAdapter:
        secrets = socket_secrets(fake) if mode == "socket" else http_secrets(fake)
        adapter = SlackAdapter(make_settings(fake, **slack), secrets, FakeClock())
        core.adapter = adapter
        await adapter.start(core)
        started.append(adapter)
        return adapter

    yield start
    for task in list(core.tasks):
        task.cancel()
    for adapter in started:
        await adapter.stop()


def channel(cid: str = GENERAL) -> ChannelRef:
    return ChannelRef("slack", cid)
