"""Stories, filters, `/why` and `/digest preview` end to end: the whole bot (Service) with the
real discord.py client against the fake Discord, three outlets on a real local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.discord import DiscordAdapter
from bot.config import Secrets
from bot.service import Service
from tests.adapters.discord.e2e_support import settings_for, until
from tests.fakes.discord import MANAGE_CHANNELS, FakeDiscord
from tests.support.clock import FakeClock
from tests.support.feedserver import ThreadedFeedServer, rss
from tests.support.stories import late_bridge_item, outlet_items

MANAGER = (1 << 10) | (1 << 11) | MANAGE_CHANNELS


@pytest.fixture
def outlets() -> Iterator[ThreadedFeedServer]:
    server = ThreadedFeedServer().start()
    for index, outlet in enumerate("abc"):
        server.set(f"/{outlet}", body=rss(outlet_items(outlet, index), title=f"Outlet {outlet.upper()}"))
    server.set("/d", body=rss(outlet_items("d", 3, bridge=False), title="Outlet D"))
    yield server
    server.stop()


def embeds(fake: FakeDiscord, channel: str) -> list[dict]:
    return [e for p in fake.posted(channel) for e in p.body.get("embeds", [])]


async def test_one_entry_per_story_why_filters_and_preview(fake: FakeDiscord, outlets, tmp_path) -> None:
    ref = f"discord:{fake.channel_ids[0]}"
    clock = FakeClock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    settings = settings_for(fake, schedule="immediate", channels=[{"ref": ref, "backfill": 5}],
                            feeds=[{"url": outlets.url(f"/{o}"), "channels": [ref]} for o in "abcd"])
    secrets = Secrets(discord_token=fake.token)
    adapter = DiscordAdapter(settings, secrets, clock, reconnect=False, guild_ready_timeout=0.1, start_timeout=10)
    service = Service(settings, secrets, db_path=str(tmp_path / "bot.db"), clock=clock, adapters=[adapter])
    await service.start()
    channel = fake.channel_ids[0]
    try:
        await until(lambda: len(embeds(fake, channel)) >= 5, timeout=30, what="the first digest")
        bridge = [e for e in embeds(fake, channel) if "Bridge" in e["title"]]
        assert len(bridge) == 1
        assert "Also:" in bridge[0]["description"]
        assert "Outlet B" in bridge[0]["description"] and "Outlet C" in bridge[0]["description"]
        await until(lambda: _sent(service), timeout=20, what="the digest to be marked sent")
        posts = len(fake.posted(channel))

        inter = await fake.invoke("why", {"url": "https://b.example/news/1"})
        answer = (await inter.wait_answered(timeout=10))["content"]
        assert "merged into story" in answer and inter.ephemeral()

        inter = await fake.invoke("filter add", {"action": "exclude", "pattern": "steel girders"},
                                  permissions=MANAGER)
        assert "Added filter" in (await inter.wait_answered(timeout=10))["content"]

        outlets.set("/d", body=rss([late_bridge_item("d"), *outlet_items("d", 3, bridge=False)], title="Outlet D"))
        inter = await fake.invoke("digest", {"preview": True})
        preview = (await inter.wait_answered(timeout=20))["content"]
        assert inter.ephemeral() and ("Nothing new" in preview or "Preview" in preview)
        clock.advance(minutes=20)  # the next poll round picks up outlet D's late report
        await until(lambda: service.store.articles.count(), what="articles")

        async def late_decided() -> bool:
            clock.advance(seconds=30)
            rows = await service.store.db.fetchall(
                "SELECT d.state FROM deliveries d JOIN articles a ON a.id = d.article_id WHERE a.url = ?",
                ("https://d.example/news/2",))
            return bool(rows)

        await until(late_decided, timeout=30, what="outlet D's late report to be decided")
        inter = await fake.invoke("why", {"url": "https://d.example/news/2"})
        answer = (await inter.wait_answered(timeout=10))["content"]
        assert "steel girders" in answer or "same story" in answer
        assert len(fake.posted(channel)) == posts  # neither the preview nor the late report posted anything
        assert fake.violations == [] and fake.unhandled == []
    finally:
        await service.stop()


async def _sent(service: Service) -> bool:
    return (await service.store.ledger.stats()).get("sent", 0) >= 5
