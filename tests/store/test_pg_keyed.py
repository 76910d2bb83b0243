"""PostgreSQL only: poll writes that share no key commit side by side; SQLite has one writer."""

from __future__ import annotations

import asyncio

from bot.store import Store
from bot.store.postgres import MAX_KEYS, key_locks
from tests.store.test_contract import NOW, entry


def test_key_locks_are_sorted_signed_int4_and_deduplicated() -> None:
    ids = key_locks(["feed:1", "url:https://a.example/x", "feed:1", "hash:abc"])
    assert ids == sorted(ids) and len(ids) == 3
    assert all(-(1 << 31) <= i < (1 << 31) for i in ids)


async def _hold(store: Store, keys: list[str], entered: asyncio.Event, release: asyncio.Event) -> None:
    async with store.db.transaction(keys=keys) as conn:
        await conn.execute("SELECT 1")
        entered.set()
        await release.wait()


async def test_writes_with_other_keys_pass_and_writes_with_a_shared_key_wait(postgres_url: str) -> None:
    async with Store(postgres_url) as first, Store(postgres_url) as second:
        entered, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(_hold(first, ["feed:1", "url:https://a.example/1"], entered, release))
        await entered.wait()
        await asyncio.wait_for(_write(second, ["feed:2", "url:https://a.example/2"]), 10)  # no key in common
        shared = asyncio.create_task(_write(second, ["feed:3", "url:https://a.example/1"]))
        too_many = asyncio.create_task(_write(second, [f"feed:{n}" for n in range(10, 11 + MAX_KEYS)]))
        await asyncio.sleep(0.4)
        assert not shared.done() and not too_many.done()  # one key in common; too many keys: exclusive
        release.set()
        await asyncio.wait_for(asyncio.gather(holder, shared, too_many), 30)


async def _write(store: Store, keys: list[str]) -> None:
    async with store.db.transaction(keys=keys) as conn:
        await conn.execute("SELECT 1")


async def test_a_summary_is_saved_beside_a_poll_and_after_an_exclusive_write(postgres_url: str) -> None:
    async with Store(postgres_url) as first, Store(postgres_url) as second:
        feed, _ = await first.catalog.add_feed("https://feed.example/rss", NOW)
        await first.articles.store_entries(feed.id, [entry(1)], NOW, {})
        article = int(await first.db.scalar("SELECT MIN(id) FROM articles"))
        entered, release = asyncio.Event(), asyncio.Event()
        poll = asyncio.create_task(_hold(first, [f"feed:{feed.id}", "url:https://news.example/1"], entered, release))
        await entered.wait()  # a poll's write is open: the summary (a cache) does not wait for it
        await asyncio.wait_for(second.articles.save_summary(article, "news", 3, "en", ["One."]), 10)
        release.set()
        await poll
        entered, release = asyncio.Event(), asyncio.Event()
        digest = asyncio.create_task(_hold(first, [], entered, release))  # no keys: the exclusive write
        await entered.wait()
        saved = asyncio.create_task(second.articles.save_summary(article, "news", 3, "en", ["Two."]))
        await asyncio.sleep(0.4)
        assert not saved.done()  # still ordered with the fleet's exclusive writes
        release.set()
        await asyncio.wait_for(asyncio.gather(digest, saved), 10)
        assert await second.articles.cached_summary(article, "news", 3, "en") == ["Two."]
