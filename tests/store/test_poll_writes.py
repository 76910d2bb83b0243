"""A poll's writes on both backends: its bookkeeping commits with its entries, in one write."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

import pytest

from bot.config import parse_settings
from bot.ingest import Ingestor
from bot.models import ChannelRef
from bot.store import Store
from bot.store.articles import CHUNK
from bot.store.catalog import PollSuccess
from bot.workers import Workers
from tests.store.test_contract import NOW, entry, subscribed
from tests.support.clock import FakeClock
from tests.support.feedserver import make_items, rss


class Refused(Exception):
    pass


async def test_a_polls_bookkeeping_commits_with_its_entries_or_neither_does(store_target) -> None:
    async with Store(store_target) as store:
        feed_id, channel_id = await subscribed(store)
        success = PollSuccess(NOW, NOW + timedelta(minutes=5), '"v1"', None, "The Feed")
        record = partial(store.catalog.write_poll, feed_id=feed_id, success=success)
        assert await store.articles.store_entries(feed_id, [entry(1), entry(2)], NOW, {channel_id: 1}, record) == 2
        feed = await store.catalog.feed(feed_id)
        assert (feed.etag, feed.title, feed.last_success, feed.next_poll) == ('"v1"', "The Feed", NOW,
                                                                             success.next_poll)

        async def refused(conn) -> None:  # noqa: ANN001 - the write fails after the entries went in
            await store.catalog.write_poll(conn, feed_id=feed_id, success=PollSuccess(
                NOW + timedelta(hours=1), NOW + timedelta(hours=2), '"v2"', None, None))
            raise Refused

        with pytest.raises(Refused):
            await store.articles.store_entries(feed_id, [entry(3)], NOW + timedelta(hours=1), {}, refused)
        feed = await store.catalog.feed(feed_id)
        assert (feed.etag, feed.last_success) == ('"v1"', NOW)  # the bookkeeping went with the entries:
        assert await store.articles.count() == 2  # item 3 is polled again, not lost behind new validators
        assert await store.articles.known_keys(feed_id, ["k1", "k2", "k3"]) == {"k1", "k2"}


async def test_a_polls_first_read_names_known_keys_and_subscriptions_awaiting_a_baseline(store_target) -> None:
    async with Store(store_target) as store:
        feed_id, first = await subscribed(store)
        other = (await store.catalog.ensure_channel(ChannelRef.parse("discord:42"), NOW, backfill=3)).id
        await store.catalog.subscribe(other, feed_id, NOW)
        assert await store.articles.poll_lookup(feed_id, []) == (set(), sorted([first, other]))
        await store.articles.store_entries(feed_id, [entry(1), entry(2)], NOW, {first: 5})
        keys = ["k1", "k3", *(f"x{n}" for n in range(CHUNK)), "k2", "k1"]  # past one chunk, repeats
        assert await store.articles.poll_lookup(feed_id, keys) == ({"k1", "k2"}, [other])
        await store.articles.store_entries(feed_id, [], NOW, {other: 3})
        assert await store.articles.poll_lookup(feed_id, ["k2"]) == ({"k2"}, [])


@asynccontextmanager
async def _counting_writes(store: Store):
    """The store's write transactions, counted as the poll opens them (the real ones run)."""
    opened: list[bool] = []
    real = store.db.transaction

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the same signature
        opened.append(kwargs.get("lock", True))
        return real(*args, **kwargs)

    store.db.transaction = counted  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        store.db.transaction = real  # type: ignore[method-assign]


async def test_a_first_poll_stores_and_records_in_one_write(store_target, tmp_path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(rss(make_items(1, 4)))
    settings = parse_settings({"channels": [{"ref": "console", "backfill": 2}],
                               "feeds": [{"url": str(path), "channels": ["console"]}]})
    workers = Workers(0)
    async with Store(store_target) as store:
        feed, _ = await store.catalog.add_feed(str(path), NOW)
        channel = await store.catalog.ensure_channel(ChannelRef.parse("console"), NOW, backfill=2)
        await store.catalog.subscribe(channel.id, feed.id, NOW)
        ingestor = Ingestor(settings, store, None, workers, FakeClock(NOW))
        try:
            async with _counting_writes(store) as opened:
                outcome = await ingestor.poll(feed)
            assert outcome.new == 4 and outcome.error is None
            assert opened == [True]  # entries, baseline and the feed's bookkeeping: one write
            polled = await store.catalog.feed(feed.id)
            assert polled.last_success == NOW and polled.next_poll > NOW
            assert await store.articles.poll_lookup(feed.id, []) == (set(), [])  # baselined
            skipped = await store.db.scalar("SELECT COUNT(*) FROM deliveries WHERE channel_id = ? AND state = ?",
                                            (channel.id, "skipped"))
            assert skipped == 2  # four items, the newest two kept for the first digest
            async with _counting_writes(store) as opened:  # nothing new: the bookkeeping alone
                assert (await ingestor.poll(polled)).new == 0
            assert opened == [True]
            assert (await store.catalog.feed(feed.id)).last_success == NOW
        finally:
            workers.close()
