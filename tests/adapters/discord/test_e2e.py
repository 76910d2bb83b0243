"""The whole bot (bot.service.Service, in process) against the fake Discord and a local feed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.discord import DiscordAdapter
from bot.config import Secrets
from bot.service import Service
from tests.adapters.discord.e2e_support import FeedServer, settings_for, until
from tests.fakes.discord import MANAGE_CHANNELS, FakeDiscord
from tests.support.clock import FakeClock

MANAGER = (1 << 10) | (1 << 11) | MANAGE_CHANNELS
HOSTILE = "@everyone <@&123456789012345678> [bank](https://evil.example)"


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = await FeedServer().start()
    yield server
    await server.stop()


async def start_service(fake: FakeDiscord, tmp_path, clock: FakeClock, **kwargs) -> Service:
    settings = settings_for(fake, **kwargs)
    secrets = Secrets(discord_token=fake.token)
    adapter = DiscordAdapter(settings, secrets, clock, reconnect=False, guild_ready_timeout=0.1, start_timeout=10)
    service = Service(settings, secrets, db_path=str(tmp_path / "bot.db"), clock=clock, adapters=[adapter])
    await service.start()
    return service


def titles(fake: FakeDiscord, channel: str) -> list[str]:
    return [e["title"] for p in fake.posted(channel) for e in p.body.get("embeds", [])]


async def test_subscribe_digest_and_schedule(fake: FakeDiscord, feeds: FeedServer, tmp_path) -> None:
    feeds.add_items(5)
    clock = FakeClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    service = await start_service(fake, tmp_path, clock)  # channel schedule: 08:00 UTC daily
    channel = fake.channel_ids[0]
    try:
        # a member without Manage Channels is refused and nothing is written
        inter = await fake.invoke("subscribe", {"url": feeds.url + "/feed.xml"})
        assert "Manage Channels" in (await inter.wait_answered())["content"] and inter.ephemeral()
        assert await service.store.catalog.all_feeds() == []
        assert await service.store.catalog.all_channels() == []
        # with it, the channel subscribes
        inter = await fake.invoke("subscribe", {"url": feeds.url + "/feed.xml"}, permissions=MANAGER)
        assert "Subscribed" in (await inter.wait_answered())["content"]
        (feed,) = await service.store.catalog.all_feeds()
        await until(lambda: service.store.articles.count(), what="the feed to be polled")
        # /digest posts the digest (backfill: the 3 newest items) to the channel
        inter = await fake.invoke("digest")
        assert "Posting a digest" in (await inter.wait_answered(timeout=10))["content"]
        await until(lambda: fake.posted(channel), what="the digest post")
        assert titles(fake, channel) == ["Story 0", "Story 1", "Story 2"]
        # a second /digest posts nothing new
        inter = await fake.invoke("digest")
        assert "Nothing new" in (await inter.wait_answered(timeout=10))["content"]
        assert len(fake.posted(channel)) == 1
        # new items arrive; the scheduled digest waits for 08:00, then arrives
        feeds.add_items(2, start=100)
        clock.advance(minutes=5)
        await until(lambda: _count(service, 7), what="new items polled")
        clock.set(datetime(2026, 1, 5, 7, 59, tzinfo=UTC))
        await until(lambda: service.sender.last_progress >= clock.now(), what="a sender pass")
        assert len(fake.posted(channel)) == 1  # not before its time
        clock.set(datetime(2026, 1, 5, 8, 0, 1, tzinfo=UTC))
        await until(lambda: len(fake.posted(channel)) == 2, what="the 08:00 digest")
        assert titles(fake, channel)[3:] == ["Story 100", "Story 101"]
        assert fake.violations == [] and fake.unhandled == []
    finally:
        await service.stop()


async def _count(service: Service, n: int) -> bool:
    return await service.store.articles.count() >= n


async def test_forty_long_items_hostile_title_429s_and_500(fake: FakeDiscord, feeds: FeedServer, tmp_path) -> None:
    feeds.add_items(40, long=True, title=lambda i: HOSTILE if i == 0 else f"Story {i} " + "long words " * 40)
    ref = f"discord:{fake.channel_ids[0]}"
    clock = FakeClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    service = await start_service(fake, tmp_path, clock, channels=[{"ref": ref, "max_items": 40, "backfill": 40}],
                                  feeds=[{"url": feeds.url + "/feed.xml", "channels": [ref]}])
    channel = fake.channel_ids[0]
    try:
        await until(lambda: _count(service, 40), what="40 items polled")
        fake.fail_next("messages", 429, count=3, retry_after=0.2)
        fake.fail_next("messages", 429, retry_after=0.2, is_global=True)
        inter = await fake.invoke("digest")
        assert "40 items" in (await inter.wait_answered(timeout=10))["content"]
        fake.fail_next("messages", 500)

        def all_posted() -> bool:
            clock.advance(5)  # the core's retry backoff runs on the injected clock
            return len(titles(fake, channel)) >= 40

        await until(all_posted, timeout=20, what="all 40 items posted")
        stats = await service.store.ledger.stats()
        posted = fake.posted(channel)
        assert len(posted) > 1  # split across messages, each validated by the fake
        assert fake.violations == []
        nonces = [p.body["nonce"] for p in posted]
        assert len(set(nonces)) == len(nonces)  # nothing posted twice
        statuses = [r.status for r in fake.calls("messages")]
        assert statuses.count(429) == 4 and statuses.count(500) == 1
        assert all(p.body["allowed_mentions"] == {"parse": []} for p in posted)
        hostile = next(t for t in titles(fake, channel) if "bank" in t)
        assert re.sub(r"\\(.)", r"\1", hostile).replace("\u200b", "") == HOSTILE
        assert "@everyone" not in hostile and "<@&" not in hostile
        assert all(len(p.body.get("content", "")) <= 2000 for p in posted)
        assert len(titles(fake, channel)) == 40, stats
    finally:
        await service.stop()


async def test_summarize_slow_page_defers_then_follows_up(fake: FakeDiscord, feeds: FeedServer, tmp_path) -> None:
    feeds.page_delay = 3.5  # longer than the 3 s interaction deadline
    clock = FakeClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    service = await start_service(fake, tmp_path, clock)
    try:
        inter = await fake.invoke("summarize", {"url": feeds.url + "/page.html"})
        answer = await inter.wait_answered(timeout=30)
        assert inter.callback_type == 5 and inter.latency < 1.0
        assert inter.followup_at[-1] - inter.dispatched_at < 15 * 60
        embed = answer["embeds"][0]
        assert "river" in embed["description"].lower() and feeds.url + "/page.html" in embed["description"]
        assert fake.violations == []
    finally:
        await service.stop()
