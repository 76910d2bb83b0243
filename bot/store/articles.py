"""Articles and feed entries: everything ever seen, each article stored once.

An entry is (feed, key) → article. The article is shared: the same canonical URL or the
same substantial content from any feed maps to one row, so it is extracted and
summarized once and delivered to a channel once, however many feeds carry it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store.db import Database, channel_key, feed_key, iso, parse_iso, rows_of, summary_key

MIN_TEXT_FOR_HASH_MATCH = 200  # below this, equal text (e.g. empty teasers) says nothing
CHUNK = 500  # values per IN (...) query, well under SQLite's variable limit
KNOWN_KEYS_SQL = "SELECT entry_key FROM entries WHERE feed_id = ? AND entry_key IN ({marks})"
Write = Callable[[Any], Awaitable[None]]  # more writes on a transaction's connection


@dataclass(slots=True)
class NewEntry:
    key: str
    canonical_url: str | None
    url: str | None
    title: str
    published: datetime | None
    text: str
    content_hash: str
    is_teaser: bool
    author: str | None = None
    categories: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ArticleRow:
    id: int
    url: str | None
    canonical_url: str | None
    title: str
    published: datetime | None
    text: str
    is_teaser: bool
    full_text_tried: bool
    feed_title: str | None = None
    first_seen: datetime | None = None
    story_id: int | None = None
    author: str | None = None
    categories: list[str] = field(default_factory=list)
    feed_ids: list[int] = field(default_factory=list)  # the channel's feeds that carry it (candidates only)
    fetched: datetime | None = None


def _article(row) -> ArticleRow:
    keys = set(row.keys())  # an asyncpg Record's keys() is a one-pass iterator
    feeds = row["feed_ids"] if "feed_ids" in keys else None
    return ArticleRow(
        id=row["id"], url=row["url"], canonical_url=row["canonical_url"], title=row["title"],
        published=parse_iso(row["published"]), text=row["text"], is_teaser=bool(row["is_teaser"]),
        full_text_tried=bool(row["full_text_tried"]),
        feed_title=row["feed_title"] if "feed_title" in keys else None,
        first_seen=parse_iso(row["first_seen"]) if "first_seen" in keys else None,
        story_id=row["story_id"], author=row["author"],
        categories=json.loads(row["categories"]) if row["categories"] else [],
        feed_ids=sorted(int(f) for f in str(feeds).split(",") if f) if feeds else [],
        fetched=parse_iso(row["fetched"]),
    )


class Articles:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def poll_lookup(self, feed_id: int, keys: list[str]) -> tuple[set[str], list[int]]:
        """A poll's first read (outside any write), in one query: which of these entry keys the
        feed has stored, and the channels whose subscription to it awaits its baseline."""
        unique = list(dict.fromkeys(keys))
        first, rest = unique[:CHUNK], unique[CHUNK:]
        parts, params = [], []
        if first:
            parts.append(f"SELECT 'k', entry_key, 0 FROM entries WHERE feed_id = ? AND entry_key IN ({_marks(first)})")
            params += [feed_id, *first]
        parts.append("SELECT 'c', NULL, channel_id FROM subscriptions WHERE feed_id = ? AND baselined = 0")
        rows = await self.db.fetchall(" UNION ALL ".join(parts), (*params, feed_id))
        known = {r[1] for r in rows if r[0] == "k"}
        if rest:
            known |= await self.known_keys(feed_id, rest)
        return known, sorted(int(r[2]) for r in rows if r[0] == "c")

    async def known_keys(self, feed_id: int, keys: list[str]) -> set[str]:
        rows = await _chunked(None, KNOWN_KEYS_SQL, (feed_id,), keys, self.db)
        return {r[0] for r in rows}

    async def store_entries(self, feed_id: int, entries: list[NewEntry], now: datetime,
                            backfill_for: dict[int, int], also: Write | None = None) -> int:
        """Store new entries in one transaction; return how many were new to this feed.

        `backfill_for` maps channel_id → backfill for subscriptions of this feed that have
        not been baselined: everything but the newest `backfill` entries is marked skipped
        for them, so adding a feed never floods a channel. `also` is a write of the caller's
        that commits with the entries (the feed's poll record: one transaction per poll, not
        two). Not durable on PostgreSQL: a server crash that loses it loses the feed's new
        validators too (they commit with it, or after it), so the feed is simply fetched and
        stored again.
        """
        async with self.db.transaction(durable=False, keys=_write_keys(feed_id, entries, backfill_for)) as conn:
            # within one feed even a short item is the same item when its content is: a feed
            # that changes GUIDs on every fetch and has no links must not repost (same_feed)
            known, by_url, by_hash, same_feed = await _existing(conn, feed_id, entries)
            fresh = _unknown(entries, known)
            # we hold the write lock, so ids can be reserved here (MAX(id)+1 in SQLite, the
            # identity sequence in PostgreSQL) and the rows written with executemany: a few
            # round trips per feed instead of per entry
            free = iter(await self.db.reserve_ids(conn, "articles", len(fresh)))  # at most one each
            articles, links = [], []
            # feeds list newest first: storing in reverse gives newer items higher ids, which
            # breaks ties between undated items the right way (newest first)
            for entry in reversed(fresh):
                article_id = by_url.get(entry.canonical_url or "")
                if article_id is None and len(entry.text) >= MIN_TEXT_FOR_HASH_MATCH:
                    article_id = by_hash.get(entry.content_hash)
                if article_id is None:
                    article_id = same_feed.get(entry.content_hash)
                if article_id is None:
                    article_id = next(free)
                    articles.append((article_id, entry.canonical_url, entry.url, entry.title, iso(entry.published),
                                     iso(now), entry.content_hash, entry.text, int(entry.is_teaser), entry.author,
                                     json.dumps(entry.categories, ensure_ascii=False) if entry.categories else None))
                    if entry.canonical_url:
                        by_url[entry.canonical_url] = article_id
                    by_hash.setdefault(entry.content_hash, article_id)
                    same_feed.setdefault(entry.content_hash, article_id)
                links.append((feed_id, entry.key, article_id, iso(now)))
            # the row updates first, then every INSERT … VALUES together: on PostgreSQL the
            # plan mode then changes as seldom as it can (see pg_sql.plan_free)
            if also is not None:
                await also(conn)
            for channel_id in backfill_for:
                await mark_baselined(conn, channel_id, feed_id)
            await conn.executemany(
                "INSERT INTO articles (id, canonical_url, url, title, published, fetched, content_hash, text, "
                "is_teaser, author, categories) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", articles)
            await conn.executemany(
                "INSERT INTO entries (feed_id, entry_key, article_id, first_seen) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                links)
            for channel_id, backfill in backfill_for.items():
                await skip_old_entries(conn, channel_id, feed_id, backfill, now)
        return len(links)

    async def article(self, article_id: int) -> ArticleRow | None:
        row = await self.db.fetchone("SELECT * FROM articles WHERE id = ?", (article_id,))
        return _article(row) if row else None

    async def set_full_text(self, article_id: int, text: str | None) -> None:
        async with self.db.transaction() as conn:
            if text:
                await conn.execute(
                    "UPDATE articles SET text = ?, is_teaser = 0, full_text_tried = 1 WHERE id = ?",
                    (text, article_id))
            else:
                await conn.execute("UPDATE articles SET full_text_tried = 1 WHERE id = ?", (article_id,))

    async def cached_summary(self, article_id: int, algorithm: str, sentences: int,
                             language: str) -> list[str] | None:
        body = await self.db.scalar(
            "SELECT body FROM summaries WHERE article_id = ? AND algorithm = ? AND sentences = ? "
            "AND language = ?", (article_id, algorithm, sentences, language))
        return json.loads(body) if isinstance(body, str) else None

    async def save_summary(self, article_id: int, algorithm: str, sentences: int, language: str,
                           summary: list[str]) -> None:
        # a cache: lost in a server crash, it is simply made again
        async with self.db.transaction(durable=False, keys=[summary_key(article_id)]) as conn:
            await conn.execute(
                "INSERT INTO summaries (article_id, algorithm, sentences, language, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (article_id, algorithm, sentences, language) DO UPDATE SET body = excluded.body",
                (article_id, algorithm, sentences, language, json.dumps(summary)))

    async def count(self) -> int:
        return int(await self.db.scalar("SELECT COUNT(*) FROM articles") or 0)


async def _chunked(conn, sql: str, prefix: tuple, values: list[str], db: Database | None = None) -> list[tuple]:
    """Run `sql` (with one `{marks}` IN list) over many values in chunks; rows of all chunks.
    On a transaction's `conn`, or outside any transaction through `db`."""
    rows: list[tuple] = []
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start:start + CHUNK]
        query = sql.format(marks=",".join("?" * len(chunk)))
        found = await (db.fetchall(query, (*prefix, *chunk)) if db is not None
                       else rows_of(conn, query, (*prefix, *chunk)))
        rows.extend(tuple(r) for r in found)
    return rows


def _write_keys(feed_id: int, entries: list[NewEntry], backfill_for: dict[int, int]) -> list[str]:
    """All a poll's write can collide on with another poll's: the feed (its entries), each
    canonical URL and each content hash (an article stored once), and the channels it
    baselines (their delivery rows). Every hash, short texts' too: an entry with a long text
    matches a stored article by hash whatever that article's length (normalizing can make a
    short and a long text hash alike), so a short one being stored must be waited for."""
    keys = [feed_key(feed_id), *(channel_key(c) for c in backfill_for)]
    for e in entries:
        if e.canonical_url:
            keys.append(f"url:{e.canonical_url}")
        keys.append(f"hash:{e.content_hash}")
    return keys


def _unknown(entries: list[NewEntry], known: set[str]) -> list[NewEntry]:
    """The entries this feed has not stored yet, each key once."""
    seen: set[str] = set()
    fresh = []
    for entry in entries:
        if entry.key not in known and entry.key not in seen:
            seen.add(entry.key)
            fresh.append(entry)
    return fresh


EXISTING_PER_QUERY = CHUNK // 4  # each entry brings up to four values to the query


async def _existing(conn, feed_id: int, entries: list[NewEntry]) \
        -> tuple[set[str], dict[str, int], dict[str, int], dict[str, int]]:
    """What the store already holds of these entries, read inside the write transaction in
    one query per chunk (every round trip here is time the fleet's write lock is held): this
    feed's known keys, and article ids by canonical URL, by content hash (long texts), and by
    content hash among this feed's own articles (short texts)."""
    known: set[str] = set()
    found: dict[str, dict[str, int]] = {"u": {}, "h": {}, "f": {}}
    for start in range(0, len(entries), EXISTING_PER_QUERY):
        chunk = entries[start:start + EXISTING_PER_QUERY]
        keys = list(dict.fromkeys(e.key for e in chunk))
        urls = list(dict.fromkeys(e.canonical_url for e in chunk if e.canonical_url))
        # a stored article's hash is looked up store-wide for a long text, among this feed's own
        # articles for a short one (see store_entries): each list only where it is used
        long = list(dict.fromkeys(e.content_hash for e in chunk if len(e.text) >= MIN_TEXT_FOR_HASH_MATCH))
        short = list(dict.fromkeys(e.content_hash for e in chunk if len(e.text) < MIN_TEXT_FOR_HASH_MATCH))
        parts = [f"SELECT 'k', entry_key, 0 FROM entries WHERE feed_id = ? AND entry_key IN ({_marks(keys)})"]
        params: list[object] = [feed_id, *keys]
        if long:
            parts.append(f"SELECT 'h', content_hash, MIN(id) FROM articles WHERE content_hash IN ({_marks(long)}) "
                         "GROUP BY content_hash")
            params += long
        if short:
            parts.append("SELECT 'f', a.content_hash, MIN(a.id) FROM articles a JOIN entries e ON e.article_id = a.id "
                         f"WHERE e.feed_id = ? AND a.content_hash IN ({_marks(short)}) GROUP BY a.content_hash")
            params += [feed_id, *short]
        if urls:
            parts.append(f"SELECT 'u', canonical_url, MIN(id) FROM articles WHERE canonical_url IN ({_marks(urls)}) "
                         "GROUP BY canonical_url")
            params += urls
        for kind, value, article_id in await rows_of(conn, " UNION ALL ".join(parts), params):
            if kind == "k":
                known.add(value)
            else:
                ids = found[kind]
                ids[value] = min(ids.get(value, article_id), int(article_id))
    return known, found["u"], found["h"], found["f"]


def _marks(values: list) -> str:
    return ",".join("?" * len(values))


NO_LIMIT = 1 << 62  # LIMIT for "all the rest": SQLite needs a LIMIT before OFFSET, PostgreSQL a non-negative one


async def baseline(conn, channel_id: int, feed_id: int, backfill: int, now: datetime) -> None:
    """Mark a new subscription's pre-existing entries as seen, keeping the newest `backfill`."""
    await mark_baselined(conn, channel_id, feed_id)
    await skip_old_entries(conn, channel_id, feed_id, backfill, now)


async def mark_baselined(conn, channel_id: int, feed_id: int) -> None:
    await conn.execute("UPDATE subscriptions SET baselined = 1 WHERE channel_id = ? AND feed_id = ?",
                       (channel_id, feed_id))


async def skip_old_entries(conn, channel_id: int, feed_id: int, backfill: int, now: datetime) -> None:
    """The feed's entries this channel has no delivery row for, all but the newest `backfill`,
    marked skipped. This runs under the write lock, so the rows read are still the rows to mark
    when they are inserted. Read, then inserted by value: PostgreSQL's foreign-key checks of an
    INSERT … VALUES reuse their plans (see pg_sql.plan_free)."""
    rows = await rows_of(
        conn, "SELECT a.id FROM entries e JOIN articles a ON a.id = e.article_id WHERE e.feed_id = ? "
        "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.channel_id = ? AND d.article_id = a.id) "
        "ORDER BY COALESCE(a.published, e.first_seen) DESC, e.id DESC LIMIT ? OFFSET ?",
        (feed_id, channel_id, NO_LIMIT, backfill))
    created, ids = iso(now), dict.fromkeys(int(row[0]) for row in rows)
    await conn.executemany(
        "INSERT INTO deliveries (channel_id, article_id, state, created) VALUES (?, ?, 'skipped', ?) "
        "ON CONFLICT DO NOTHING", [(channel_id, article_id, created) for article_id in ids])
