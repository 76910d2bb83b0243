"""The store under the conditions that break ledgers: cancellation, two senders, restarts."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import check_schedule
from bot.models import ChannelRef
from bot.store import Store

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


async def test_a_cancelled_write_never_wedges_the_connection(store_target) -> None:
    async with Store(store_target) as store:
        async def slow_writer() -> None:
            async with store.db.transaction() as conn:
                await conn.execute("INSERT INTO feeds (url, created) VALUES ('https://a.example/' || random(), 'x')")
                await asyncio.sleep(5)

        for delay in (0, 0.0001, 0.001, 0.01):
            task = asyncio.create_task(slow_writer())
            await asyncio.sleep(delay)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            feed, created = await store.catalog.add_feed(f"https://b.example/{delay}", NOW)
            assert created
        assert len(await store.catalog.all_feeds()) == 4  # the cancelled inserts were rolled back


async def test_a_live_senders_lease_is_respected_and_a_dead_ones_is_not(tmp_path) -> None:
    async with Store(tmp_path / "s.db") as store:  # SQLite: every sender is on this host
        channel = await store.catalog.ensure_channel(ChannelRef.parse("console"), NOW)
        digest_id = await store.ledger.record_digest(channel.id, {"text": "x"}, [], [], NOW, kind="notice")
        me = f"{socket.gethostname()}:{os.getpid()}"
        lease = timedelta(minutes=10)
        assert await store.ledger.claim(digest_id, me, NOW, NOW + lease)
        assert not await store.ledger.claim(digest_id, "other-host:1", NOW, NOW + lease)  # live, unexpired
        later = NOW + lease + timedelta(seconds=1)
        assert await store.ledger.claim(digest_id, "other-host:1", later, later + lease)  # expired: taken
        dead = f"{socket.gethostname()}:{2 ** 22 + 12345}"  # no such process
        much_later = later + 2 * lease
        assert await store.ledger.claim(digest_id, dead, much_later, much_later + 10 * lease)
        assert await store.ledger.claim(digest_id, me, much_later, much_later + lease)  # holder gone: at once
        await store.ledger.mark_sent(digest_id, NOW)
        assert not await store.ledger.claim(digest_id, me, NOW, NOW + lease)  # nothing left to send


async def test_on_postgres_only_a_leases_time_counts_not_a_pid(postgres_url) -> None:
    async with Store(postgres_url) as store:
        channel = await store.catalog.ensure_channel(ChannelRef.parse("console"), NOW)
        digest_id = await store.ledger.record_digest(channel.id, {"text": "x"}, [], [], NOW, kind="notice")
        lease = timedelta(minutes=1)
        dead = f"{socket.gethostname()}:{2 ** 22 + 12345}:t"  # no such process here, maybe one elsewhere
        assert await store.ledger.claim(digest_id, dead, NOW, NOW + lease)
        assert not await store.ledger.claim(digest_id, "me", NOW + lease / 2, NOW + lease)  # not lapsed yet
        assert await store.ledger.renew(digest_id, dead, NOW + 2 * lease)  # the holder renews while sending
        assert not await store.ledger.claim(digest_id, "me", NOW + lease * 1.5, NOW + 3 * lease)
        assert await store.ledger.claim(digest_id, "me", NOW + 2 * lease, NOW + 3 * lease)  # lapsed: taken over
        assert not await store.ledger.renew(digest_id, dead, NOW + 4 * lease)  # and the old holder knows it


def test_schedules_that_never_fire_or_have_odd_fields_are_refused() -> None:
    for bad in ("0 8 30 2 *", "0 8 31 4 *", "0 8 * * * *", "* * *", "soon"):
        with pytest.raises(ValueError):
            check_schedule(bad)
    assert check_schedule("0  8 * * 1-5") == "0 8 * * 1-5"
    assert check_schedule("@daily") == "@daily"


async def test_schema_is_migrated_and_reopening_is_idempotent(store_target) -> None:
    async with Store(store_target) as store:
        version = await store.db.schema_version()
    async with Store(store_target) as store:
        assert await store.db.schema_version() == version > 0
        if store.db.dialect == "sqlite":
            assert await store.db.scalar("PRAGMA user_version") == version
            assert await store.db.scalar("PRAGMA journal_mode") == "wal"
