"""Never a flood (threat guide item 19): a first subscription posts at most `backfill` items,
and after a 3-day outage with 500 new items each channel gets at most `max_items` plus one
"and N more" line — immediate and daily channels alike. In-process service, fake clock."""

from __future__ import annotations

import asyncio
import math
import re
from datetime import UTC, datetime

import msgspec

from bot import defaults
from bot.config import parse_settings
from bot.service import Service
from bot.workers import Workers
from tests.reliability.fakes import RecordingAdapter
from tests.reliability.items import feed_xml
from tests.support.clock import FakeClock

ITEM_LINE = re.compile(r"^\d+\. ", re.MULTILINE)
MORE_LINE = re.compile(r"^…and (\d+) more$", re.MULTILINE)
CHANNELS = {  # ref: (max_items, backfill, schedule)
    "discord:1": (10, 3, "immediate"),
    "discord:2": (5, 2, "immediate"),
    "discord:3": (10, 3, "0 8 * * *"),
}


async def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"condition not reached in time: {predicate.__doc__}"
        await asyncio.sleep(0.02)


async def idle(clock: FakeClock, seconds: float, steps: int = 5) -> None:
    """Let the loops run while clock time passes in small steps."""
    for _ in range(steps):
        clock.advance(seconds / steps)
        await asyncio.sleep(0.1)


def settings(url: str):
    return parse_settings({
        "fetch": {"allow_private_addresses": True, "full_text": "never"},
        "summary": {"algorithm": "luhn", "sentences": 1}, "bot": {"poll_interval": 60},
        "channels": [{"ref": ref, "max_items": cap, "backfill": backfill, "schedule": schedule, "timezone": "UTC"}
                     for ref, (cap, backfill, schedule) in CHANNELS.items()],
        "feeds": [{"url": url, "channels": list(CHANNELS)}],
    })


async def run_until(service: Service, adapter: RecordingAdapter, expect: int, clock: FakeClock,
                    advance_to_eight: bool = False) -> None:
    await service.start()
    try:
        await wait_for(lambda: len(adapter.sent) >= expect - (1 if advance_to_eight else 0))
        if advance_to_eight:
            clock.set(clock.now().replace(hour=8, minute=0, second=5))
            await wait_for(lambda: len(adapter.sent) >= expect)
        await idle(clock, 600)  # ten more minutes of polls and schedule checks: nothing else may arrive
    finally:
        await service.stop()


def shape(text: str) -> tuple[int, int]:
    """(items shown, N of the 'and N more' line or 0)."""
    more = MORE_LINE.findall(text)
    assert len(more) <= 1
    return len(ITEM_LINE.findall(text)), int(more[0]) if more else 0


async def test_first_add_then_three_day_outage_never_floods(tmp_path, feed_server) -> None:
    feed_server.set("/feed", body=feed_xml(0, list(range(1, 51))))  # 50 items already exist
    clock = FakeClock(datetime(2026, 1, 5, 7, 0, tzinfo=UTC))
    db = str(tmp_path / "d.db")

    first = RecordingAdapter()
    await run_until(Service(settings(feed_server.url("/feed")), db_path=db, clock=clock, adapters=[first],
                            workers=Workers(0)), first, expect=3, clock=clock, advance_to_eight=True)
    for ref, (_cap, backfill, _s) in CHANNELS.items():
        texts = first.texts(ref)
        assert len(texts) == 1, (ref, texts)
        assert shape(texts[0]) == (backfill, 0), ref  # the newest `backfill` items, nothing rolled
        assert "Item50 " in texts[0]

    # the bot is down for three days; 500 items arrive meanwhile
    clock.advance(days=3)
    feed_server.set("/feed", body=feed_xml(0, list(range(1, 551))))
    second = RecordingAdapter()
    await run_until(Service(settings(feed_server.url("/feed")), db_path=db, clock=clock, adapters=[second],
                            workers=Workers(0)), second, expect=3, clock=clock)
    for ref, (cap, _b, _s) in CHANNELS.items():
        texts = second.texts(ref)
        assert len(texts) == 1, (ref, len(texts))  # one message per channel, daily one included
        assert shape(texts[0]) == (cap, 500 - cap), ref
        assert "Item550 " in texts[0] and "Item50 " not in texts[0]


async def test_feed_outage_then_recovery_is_capped_too(tmp_path, feed_server) -> None:
    """The bot keeps running while the feed is down for a day (polls fail and back off; with
    the defaults a feed is disabled after 10 failures, about 29 hours), then the feed returns
    with 500 new items: the same cap applies."""
    feed_server.set("/feed", body=feed_xml(0, list(range(1, 4))))
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    adapter = RecordingAdapter()
    data = msgspec.to_builtins(settings(feed_server.url("/feed")))
    data["channels"] = [c for c in data["channels"] if c["ref"] == "discord:1"]
    data["feeds"][0]["channels"] = ["discord:1"]
    service = Service(parse_settings(data), db_path=str(tmp_path / "o.db"), clock=clock, adapters=[adapter],
                      workers=Workers(0))
    await service.start()
    try:
        await wait_for(lambda: len(adapter.sent) == 1)
        feed_server.set("/feed", status=503, body=b"down")
        for _ in range(12):  # a day in two-hour steps: failed polls, backing off
            await idle(clock, 7200, steps=2)
        feed = (await service.store.catalog.all_feeds())[0]
        assert 5 <= feed.failures < 10 and feed.disabled_reason is None, feed
        feed_server.set("/feed", body=feed_xml(0, list(range(1, 504))))  # 500 new
        # past the longest backoff with its jitter (6 h × 1.2) after a failure as late as the
        # day's last step, in one-hour steps (7 h was short when the jitter ran high)
        longest = defaults.BACKOFF_MAX * (1 + defaults.BACKOFF_JITTER)
        hours = math.ceil(longest / 3600) + 1
        await idle(clock, hours * 3600, steps=hours)
        await wait_for(lambda: len(adapter.sent) == 2)
        await idle(clock, 600)
    finally:
        await service.stop()
    assert len(adapter.sent) == 2
    assert shape(adapter.sent[1][1]) == (10, 490)
