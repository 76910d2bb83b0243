"""The store contract: every test runs unchanged on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.filters import make_spec
from bot.models import ChannelRef
from bot.pipeline.dedupe import content_hash
from bot.store import NewEntry, Store
from bot.store.articles import MIN_TEXT_FOR_HASH_MATCH
from bot.store.db import MIGRATIONS

NOW = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
TABLES = ("feeds", "articles", "entries", "summaries", "channels", "subscriptions", "digests", "digest_messages",
          "deliveries", "config_applied", "filters", "installations", "channel_workspaces", "oauth_states", "leases")


def entry(n: int, url: str | None = None, text: str = "") -> NewEntry:
    return NewEntry(key=f"k{n}", canonical_url=url if url is not None else f"https://news.example/{n}",
                    url=url or f"https://news.example/{n}", title=f"Item {n}", published=NOW - timedelta(hours=n),
                    text=text or f"Text of item {n}. " * 20, content_hash=f"h{n}", is_teaser=False,
                    author="Ann", categories=["a", "b"])


async def subscribed(store: Store, ref: str = "console", url: str = "https://feed.example/rss") -> tuple[int, int]:
    feed, _ = await store.catalog.add_feed(url, NOW)
    channel = await store.catalog.ensure_channel(ChannelRef.parse(ref), NOW, max_items=5)
    assert await store.catalog.subscribe(channel.id, feed.id, NOW)
    return feed.id, channel.id


async def test_migrations_from_empty_create_every_table(store_target) -> None:
    async with Store(store_target) as store:
        assert await store.db.schema_version() == len(MIGRATIONS)
        for table in TABLES:
            assert await store.db.scalar(f"SELECT COUNT(*) FROM {table}") == 0
    async with Store(store_target) as store:  # reopening applies nothing twice
        assert await store.db.schema_version() == len(MIGRATIONS)


async def test_migration_from_the_previous_version_keeps_the_data(store_target) -> None:
    async with Store(store_target, migrations=MIGRATIONS[:-1]) as old:
        assert await old.db.schema_version() == len(MIGRATIONS) - 1
        feed_id, channel_id = await subscribed(old)
        await old.articles.store_entries(feed_id, [entry(1), entry(2)], NOW, {})
    async with Store(store_target) as store:
        assert await store.db.schema_version() == len(MIGRATIONS)
        assert await store.articles.count() == 2
        assert [f.id for f in await store.catalog.channel_feeds(channel_id)] == [feed_id]
        assert await store.leases.claim_role("x", "me", NOW, NOW + timedelta(seconds=5))  # the new table works


async def test_articles_are_stored_once_and_delivered_once(store_target) -> None:
    async with Store(store_target) as store:
        feed_a, channel_id = await subscribed(store)
        feed_b = (await store.catalog.add_feed("https://other.example/rss", NOW))[0].id
        await store.catalog.subscribe(channel_id, feed_b, NOW)
        for feed_id in (feed_a, feed_b):  # baseline with everything kept
            await store.articles.store_entries(feed_id, [], NOW, {channel_id: 10})
        assert await store.articles.store_entries(feed_a, [entry(1), entry(2), entry(3)], NOW, {}) == 3
        assert await store.articles.store_entries(feed_a, [entry(1), entry(4)], NOW, {}) == 1  # k1 known
        assert await store.articles.store_entries(feed_b, [entry(1)], NOW, {}) == 1  # same URL: same article
        assert await store.articles.count() == 4
        assert await store.articles.known_keys(feed_a, ["k1", "k9"]) == {"k1"}
        candidates = await store.ledger.candidates(channel_id)
        assert [a.title for a in candidates] == ["Item 1", "Item 2", "Item 3", "Item 4"]
        assert candidates[0].feed_ids == sorted([feed_a, feed_b]) and candidates[0].categories == ["a", "b"]
        ids = [a.id for a in candidates]
        digest = await store.ledger.record_digest(channel_id, {"items": []}, ids[:2], ids[2:3], NOW)
        assert digest is not None
        assert await store.ledger.record_digest(channel_id, {}, ids[1:2], [], NOW) is None  # taken already
        assert [a.id for a in await store.ledger.candidates(channel_id)] == ids[3:]
        await store.ledger.mark_part_sent(digest, 0, "m1", NOW)
        await store.ledger.mark_part_sent(digest, 0, "m1", NOW)  # a repeat is harmless
        [pending] = await store.ledger.pending()
        assert pending.sent_parts == {0: "m1"}
        await store.ledger.mark_sent(digest, NOW)
        assert await store.ledger.pending() == []
        assert await store.ledger.stats() == {"sent": 2, "rolled": 1}
        await store.articles.save_summary(ids[0], "lexrank", 2, "english", ["a"])
        await store.articles.save_summary(ids[0], "lexrank", 2, "english", ["b"])  # replaced, not duplicated
        assert await store.articles.cached_summary(ids[0], "lexrank", 2, "english") == ["b"]


async def test_a_new_subscription_is_baselined_to_its_backfill(store_target) -> None:
    async with Store(store_target) as store:
        feed_id, channel_id = await subscribed(store)
        await store.articles.store_entries(feed_id, [entry(n) for n in range(1, 8)], NOW, {channel_id: 2})
        assert [a.title for a in await store.ledger.candidates(channel_id)] == ["Item 1", "Item 2"]
        assert await store.ledger.stats() == {"skipped": 5}
        assert await store.history.subscription_baselined(channel_id, feed_id) is True


async def test_filters_and_config_items(store_target) -> None:
    async with Store(store_target) as store:
        feed_id, channel_id = await subscribed(store)
        spec = make_spec("exclude", "sponsored")
        row, added = await store.filters.add(channel_id, None, spec, NOW)
        assert added and row.id > 0
        assert (await store.filters.add(channel_id, None, spec, NOW))[1] is False  # NULL feed matches NULL
        per_feed, added = await store.filters.add(channel_id, feed_id, spec, NOW)
        assert added and per_feed.id != row.id
        await store.filters.replace_config([(channel_id, None, make_spec("include", "solar"))], NOW)
        await store.filters.replace_config([(channel_id, None, make_spec("include", "solar"))], NOW)
        assert len(await store.filters.of_channel(channel_id)) == 3
        assert await store.filters.remove(channel_id, row.id) and not await store.filters.remove(channel_id, row.id)
        assert await store.catalog.claim_config_item("feed x -> console", NOW)
        assert not await store.catalog.claim_config_item("feed x -> console", NOW)
        assert not await store.catalog.subscribe(channel_id, feed_id, NOW)
        assert await store.catalog.unsubscribe(channel_id, feed_id)


async def test_two_workers_claim_disjoint_feeds_and_take_over_a_lapsed_lease(store_target) -> None:
    async with Store(store_target) as a, Store(store_target) as b:
        channel = await a.catalog.ensure_channel(ChannelRef.parse("console"), NOW)
        for n in range(10):
            feed, _ = await a.catalog.add_feed(f"https://f{n}.example/rss", NOW)
            await a.catalog.subscribe(channel.id, feed.id, NOW)
        until = NOW + timedelta(seconds=60)
        got_a, got_b = await asyncio.gather(a.leases.claim_due_feeds("a", NOW, until, 6),
                                            b.leases.claim_due_feeds("b", NOW, until, 6))
        ids_a, ids_b = {f.id for f in got_a}, {f.id for f in got_b}
        assert not ids_a & ids_b and len(ids_a | ids_b) == 10
        assert await a.leases.claim_due_feeds("c", NOW, until, 10) == []  # all held
        await a.leases.release_feeds(sorted(ids_a), "a")
        assert {f.id for f in await b.leases.claim_due_feeds("c", NOW, until, 10)} == ids_a
        await b.leases.renew_feeds(sorted(ids_b), "b", NOW + timedelta(seconds=300))
        later = NOW + timedelta(seconds=120)  # "c"'s lease lapsed, "b" renewed its own
        assert {f.id for f in await b.leases.claim_due_feeds("d", later, later + timedelta(60), 10)} == ids_a


async def test_cron_anchor_and_build_leases_let_exactly_one_worker_fire(store_target) -> None:
    async with Store(store_target) as a, Store(store_target) as b:
        channel = await a.catalog.ensure_channel(ChannelRef.parse("console"), NOW)
        fired = await asyncio.gather(*(s.leases.advance_anchor(channel.id, channel.schedule_anchor, NOW + timedelta(1))
                                       for s in (a, b, a, b)))
        assert sorted(fired) == [False, False, False, True]
        until = NOW + timedelta(seconds=60)
        builds = await asyncio.gather(a.leases.claim_build(channel.id, "a", NOW, until),
                                      b.leases.claim_build(channel.id, "b", NOW, until))
        assert sorted(builds) == [False, True]
        winner = "a" if builds[0] else "b"
        assert await a.leases.renew_build(channel.id, winner, until + timedelta(seconds=60))
        assert not await a.leases.claim_build(channel.id, "c", until + timedelta(seconds=1), until)  # renewed
        await a.leases.release_build(channel.id, winner)
        assert await b.leases.claim_build(channel.id, "c", NOW, until)
        assert await a.leases.claim_role("commands", "a", NOW, until)
        assert not await b.leases.claim_role("commands", "b", NOW, until)
        assert await b.leases.claim_role("commands", "b", until, until + timedelta(seconds=60))  # lapsed
        assert await a.leases.holders("comm", until) == ["b"]


async def test_concurrent_digests_of_the_same_articles_record_one(store_target) -> None:
    async with Store(store_target) as a, Store(store_target) as b:
        feed_id, channel_id = await subscribed(a)
        await a.articles.store_entries(feed_id, [], NOW, {channel_id: 10})
        await a.articles.store_entries(feed_id, [entry(n) for n in range(1, 6)], NOW, {})
        ids = [x.id for x in await a.ledger.candidates(channel_id)]
        made = await asyncio.gather(*(s.ledger.record_digest(channel_id, {}, ids, [], NOW) for s in (a, b, a, b)))
        assert len([d for d in made if d is not None]) == 1
        assert await a.ledger.stats() == {"pending": 5}


async def test_installations_round_trip_bytes(store_target) -> None:
    async with Store(store_target) as store:
        assert not await store.installations.save("slack", "T1", "", sealed=b"\x00\xffsecret", bot_user_id="U1",
                                                  scopes="chat:write", now=NOW)
        row = await store.installations.get("slack", "T1")
        assert row is not None and row.sealed == b"\x00\xffsecret" and row.active


async def test_the_fleet_request_budget_is_a_sliding_window(store_target) -> None:
    async with Store(store_target) as a, Store(store_target) as b:
        waits = await asyncio.gather(*(s.leases.take_slot("rest", 5) for s in (a, b) * 4))
        assert sorted(w == 0.0 for w in waits) == [False] * 3 + [True] * 5  # five slots per second in all
        assert all(0 < w <= 1.0 for w in waits if w)


async def test_a_poll_commits_without_waiting_for_the_disk_and_digests_still_do(store_target) -> None:
    """What a poll stores is redone if a crash loses it, so on PostgreSQL it commits with
    synchronous_commit off (the fleet's write lock is not held across a flush); everything
    else stays durable. Both backends see the data at once."""
    async with Store(store_target) as store:
        feed_id, _ = await subscribed(store)
        async with store.db.transaction(durable=False) as conn:
            if store.db.dialect == "postgresql":
                async with conn.execute("SHOW synchronous_commit") as cur:
                    assert (await cur.fetchone())[0] == "off"
            await conn.execute("UPDATE feeds SET title = ? WHERE id = ?", ("Quick", feed_id))
        assert await store.db.scalar("SELECT title FROM feeds WHERE id = ?", (feed_id,)) == "Quick"
        async with store.db.transaction() as conn:
            if store.db.dialect == "postgresql":
                async with conn.execute("SHOW synchronous_commit") as cur:
                    assert (await cur.fetchone())[0] == "on"  # SET LOCAL ended with its transaction
            await conn.execute("UPDATE feeds SET title = ? WHERE id = ?", ("Durable", feed_id))
        assert await store.db.scalar("SELECT title FROM feeds WHERE id = ?", (feed_id,)) == "Durable"


async def test_a_large_poll_is_stored_whole_with_its_backfill_and_duplicates(store_target) -> None:
    """More entries than one multi-row statement holds (PostgreSQL writes them in batches),
    an entry key twice and two entries of one article: each stored once, the newest kept."""
    many = [entry(n) for n in range(1, 1201)]
    twice = NewEntry(key="k7", canonical_url="https://news.example/again", url=None, title="Again",
                     published=NOW, text="x", content_hash="again", is_teaser=False)
    same_article = NewEntry(key="k-alias", canonical_url="https://news.example/3", url=None, title="Alias",
                            published=NOW - timedelta(days=900), text="y", content_hash="alias", is_teaser=False)
    async with Store(store_target) as store:
        feed_id, channel_id = await subscribed(store)
        new = await store.articles.store_entries(feed_id, [*many, twice, same_article], NOW, {channel_id: 3})
        assert new == 1201  # k7 is stored once; the alias is a new entry of an old article
        assert await store.articles.count() == 1200
        assert await store.db.scalar("SELECT COUNT(*) FROM entries") == 1201
        assert await store.db.scalar("SELECT COUNT(DISTINCT entry_key) FROM entries") == 1201
        candidates = await store.ledger.candidates(channel_id)
        # the newest three; item 3 shares the alias's article (stored first: feeds list newest
        # first, so the list is stored from its end), which carries the alias's old date
        assert [a.title for a in candidates] == ["Item 1", "Item 2", "Item 4"]
        skipped = await store.db.scalar("SELECT COUNT(*) FROM deliveries WHERE state = 'skipped'")
        assert skipped == 1197
        again = await store.articles.store_entries(feed_id, many, NOW, {})
        assert again == 0 and await store.articles.count() == 1200


async def test_two_workers_storing_the_same_articles_at_once_store_each_once(store_target) -> None:
    """Two stores on one database (two workers) poll two feeds that carry the same stories
    (same links, or the same long text under other links) at the same moment."""
    async with Store(store_target) as first, Store(store_target) as second:
        feed_a, channel_id = await subscribed(first)
        feed_b = (await first.catalog.add_feed("https://other.example/rss", NOW))[0].id
        await first.catalog.subscribe(channel_id, feed_b, NOW)
        long_text = "A long report on the same event, told at length. " * 10
        for round_ in range(8):
            shared = [entry(100 * round_ + n) for n in range(10)]
            copied = [NewEntry(key=f"b{100 * round_ + n}", canonical_url=f"https://mirror.example/{round_}/{n}",
                               url=None, title=f"Copy {n}", published=NOW, text=long_text + str(100 * round_ + n),
                               content_hash=f"long{100 * round_ + n}", is_teaser=False) for n in range(5)]
            originals = [NewEntry(key=f"a{100 * round_ + n}", canonical_url=f"https://origin.example/{round_}/{n}",
                                  url=None, title=f"Original {n}", published=NOW,
                                  text=long_text + str(100 * round_ + n), content_hash=f"long{100 * round_ + n}",
                                  is_teaser=False) for n in range(5)]
            await asyncio.gather(first.articles.store_entries(feed_a, [*shared, *originals], NOW, {channel_id: 100}),
                                 second.articles.store_entries(feed_b, [*shared, *copied], NOW, {channel_id: 100}))
        assert await first.articles.count() == 8 * 15  # 10 shared links and 5 shared texts per round
        assert await first.db.scalar("SELECT COUNT(*) FROM entries") == 8 * 30
        unlinked = await first.db.scalar(
            "SELECT COUNT(*) FROM articles a WHERE (SELECT COUNT(*) FROM entries e WHERE e.article_id = a.id) != 2")
        assert unlinked == 0  # every article is carried by both feeds


async def test_a_poll_write_waits_for_a_digest_write_and_the_other_way_round(store_target) -> None:
    async with Store(store_target) as first, Store(store_target) as second:
        feed_id, channel_id = await subscribed(first)
        for n, (exclusive_first, name) in enumerate(((True, "digest first"), (False, "poll first"))):
            entered = asyncio.Event()
            release = asyncio.Event()

            async def hold(exclusive: bool = exclusive_first, entered: asyncio.Event = entered,
                           release: asyncio.Event = release) -> None:
                keys = () if exclusive else [f"feed:{feed_id}"]
                async with first.db.transaction(keys=keys) as conn:
                    await conn.execute("UPDATE channels SET name = 'held' WHERE id = ?", (channel_id,))
                    entered.set()
                    await release.wait()

            holder = asyncio.create_task(hold())
            await entered.wait()
            if exclusive_first:  # a poll's (keyed) write must wait for the digest's
                other = asyncio.create_task(second.articles.store_entries(feed_id, [entry(n)], NOW, {}))
            else:  # a digest-side (unkeyed) write must wait for the poll's
                other = asyncio.create_task(second.catalog.set_channel_error(channel_id, "x"))
            await asyncio.sleep(0.4)
            assert not other.done(), name
            release.set()
            await asyncio.wait_for(asyncio.gather(holder, other), 30)
        assert await first.articles.count() == 1


async def test_a_long_text_waits_for_a_short_one_of_the_same_hash_being_stored(store_target) -> None:
    """Normalizing makes "a b c" and "a -- b -- c" hash alike, so a long entry matches a short
    stored article by hash: while another worker is storing the short one, the long one waits
    and then joins it, instead of storing the story a second time."""
    words = [f"word{n}" for n in range(30)]
    short, long_ = " ".join(words), " -- ".join(words)
    assert len(short) < MIN_TEXT_FOR_HASH_MATCH <= len(long_)

    def one(key: str, url: str, text: str) -> NewEntry:
        return NewEntry(key=key, canonical_url=url, url=url, title="T", published=NOW, text=text,
                        content_hash=content_hash("T", text), is_teaser=False)

    assert one("a", "https://a.example/1", short).content_hash == one("b", "https://b.example/1", long_).content_hash
    async with Store(store_target) as first, Store(store_target) as second:
        feed_short, _ = await subscribed(first)
        feed_long = (await first.catalog.add_feed("https://other.example/rss", NOW))[0].id
        inside, go_on = asyncio.Event(), asyncio.Event()
        reserve = first.db.reserve_ids

        async def paused(conn, table: str, count: int) -> list[int]:  # noqa: ANN001 - either backend's
            ids = await reserve(conn, table, count)
            inside.set()
            await go_on.wait()  # the short article's write is open here
            return ids

        first.db.reserve_ids = paused
        storing_short = asyncio.create_task(
            first.articles.store_entries(feed_short, [one("a", "https://a.example/1", short)], NOW, {}))
        await inside.wait()
        storing_long = asyncio.create_task(
            second.articles.store_entries(feed_long, [one("b", "https://b.example/1", long_)], NOW, {}))
        await asyncio.sleep(0.4)
        assert not storing_long.done()
        go_on.set()
        await asyncio.wait_for(asyncio.gather(storing_short, storing_long), 30)
        assert await first.articles.count() == 1


def _linkless(key: str, text: str) -> NewEntry:
    return NewEntry(key=key, canonical_url=None, url=None, title="Untitled", published=None, text=text,
                    content_hash=content_hash("Untitled", text), is_teaser=False)


async def test_equal_text_is_one_article_store_wide_when_long_and_within_its_feed_when_short(store_target) -> None:
    """A feed that changes its GUIDs on every fetch and has no links must not repost (equal text
    within one feed is the same item, however short); across feeds only a long text says that
    two items are one article, a short one ("Read more") says nothing."""
    short, long_ = "Read more.", "A long report on the same events, told at length. " * 8
    assert len(short) < MIN_TEXT_FOR_HASH_MATCH <= len(long_)
    async with Store(store_target) as store:
        feed_a, _ = await subscribed(store)
        feed_b = (await store.catalog.add_feed("https://other.example/rss", NOW))[0].id
        await store.articles.store_entries(feed_a, [_linkless("a1", short), _linkless("a2", long_)], NOW, {})
        assert await store.articles.count() == 2
        # the same feed, new GUIDs: both texts are the articles already stored
        await store.articles.store_entries(feed_a, [_linkless("a3", short), _linkless("a4", long_)], NOW, {})
        assert await store.articles.count() == 2
        # another feed: the long text is the same article, the short one a new one
        await store.articles.store_entries(feed_b, [_linkless("b1", short), _linkless("b2", long_)], NOW, {})
        assert await store.articles.count() == 3
        rows = await store.db.fetchall("SELECT entry_key, article_id FROM entries ORDER BY entry_key")
        ids = {row[0]: row[1] for row in rows}
        assert ids["a1"] == ids["a3"] != ids["b1"] and ids["a2"] == ids["a4"] == ids["b2"]
