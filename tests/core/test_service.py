"""The running service in-process, with a controllable clock and the console adapter."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

from adapters.console import ConsoleAdapter
from bot.config import parse_settings
from bot.service import Service
from bot.workers import Workers
from tests.support.clock import FakeClock
from tests.support.feedserver import make_items, rss


async def wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def settings_for(url: str, extra: dict | None = None):
    data = {"fetch": {"allow_private_addresses": True}, "summary": {"algorithm": "luhn"},
            "bot": {"poll_interval": 60},
            "channels": [{"ref": "console", "schedule": "0 8 * * *", "timezone": "Europe/Berlin"}],
            "feeds": [{"url": url, "channels": ["console"]}]}
    data.update(extra or {})
    return parse_settings(data)


async def test_scheduled_digest_arrives_on_time_and_not_before(tmp_path, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 2)))
    clock = FakeClock(datetime(2026, 1, 5, 6, 0, tzinfo=UTC))  # 07:00 in Berlin
    out = io.StringIO()
    console = ConsoleAdapter(stream=out)
    service = Service(settings_for(feed_server.url("/feed")), db_path=str(tmp_path / "s.db"), clock=clock,
                      adapters=[console], workers=Workers(0))
    await service.start()
    try:
        await wait_for(lambda: feed_server.hits("/feed"))
        await asyncio.sleep(0.3)
        assert console.sent == []  # polled, but the schedule says 08:00
        clock.advance(minutes=59)
        await asyncio.sleep(0.3)
        assert console.sent == []
        clock.advance(minutes=1)  # 08:00 Berlin
        await wait_for(lambda: len(console.sent) == 1)
        assert "Story number 2" in out.getvalue() and "Story number 1" in out.getvalue()
        clock.advance(hours=23, minutes=59)
        await asyncio.sleep(0.3)
        assert len(console.sent) == 1  # nothing new: no empty digest
    finally:
        await service.stop()


async def test_immediate_channel_gets_new_items_after_each_poll(tmp_path, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 3)))
    clock = FakeClock()
    console = ConsoleAdapter(stream=io.StringIO())
    settings = settings_for(feed_server.url("/feed"), {"channels": [{"ref": "console"}]})
    service = Service(settings, db_path=str(tmp_path / "s.db"), clock=clock, adapters=[console],
                      workers=Workers(0))
    await service.start()
    try:
        await wait_for(lambda: len(console.sent) == 1)
        feed_server.set("/feed", body=rss(make_items(1, 5)))
        clock.advance(seconds=120)
        await wait_for(lambda: len(console.sent) == 2)
        assert "Story number 5" in console.sent[1] and "Story number 3" not in console.sent[1]
    finally:
        await service.stop()
    # a restart posts nothing again
    console2 = ConsoleAdapter(stream=io.StringIO())
    service = Service(settings, db_path=str(tmp_path / "s.db"), clock=clock, adapters=[console2],
                      workers=Workers(0))
    await service.start()
    try:
        clock.advance(seconds=120)
        await wait_for(lambda: len(feed_server.hits("/feed")) >= 3)
        await asyncio.sleep(0.3)
        assert console2.sent == []
    finally:
        await service.stop()


async def test_failing_feed_backs_off_then_is_disabled_with_a_notice(tmp_path, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 1)))
    clock = FakeClock()
    console = ConsoleAdapter(stream=io.StringIO())
    settings = settings_for(feed_server.url("/feed"), {"channels": [{"ref": "console"}],
                                                       "bot": {"poll_interval": 60, "disable_after_failures": 3}})
    service = Service(settings, db_path=str(tmp_path / "s.db"), clock=clock, adapters=[console],
                      workers=Workers(0))
    await service.start()
    try:
        await wait_for(lambda: len(console.sent) == 1)
        feed_server.set("/feed", status=500, body=b"down")
        delays = []
        for _ in range(3):
            before = len(feed_server.hits("/feed"))
            clock.advance(hours=7)
            await wait_for(lambda: len(feed_server.hits("/feed")) > before)  # noqa: B023
            await asyncio.sleep(0.1)
            [feed] = await service.store.catalog.all_feeds()
            delays.append(feed.next_poll - clock.now() if feed.next_poll else None)
        await wait_for(lambda: any("disabled" in s for s in console.sent))
        [feed] = await service.store.catalog.all_feeds()
        assert feed.disabled_reason and "500" in feed.disabled_reason
        assert delays[1] > delays[0]  # backoff grows
        hits = len(feed_server.hits("/feed"))
        clock.advance(days=2)
        await asyncio.sleep(0.3)
        assert len(feed_server.hits("/feed")) == hits  # disabled feeds are not polled
    finally:
        await service.stop()
