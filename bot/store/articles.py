"""Articles and feed entries: everything ever seen, each article stored once.

An entry is (feed, key) → article. The article is shared: the same canonical URL or the
same substantial content from any feed maps to one row, so it is extracted and
summarized once and delivered to a channel once, however many feeds carry it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.store.db import Database, iso, parse_iso

MIN_TEXT_FOR_HASH_MATCH = 200  # below this, equal text (e.g. empty teasers) says nothing


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


def _article(row) -> ArticleRow:
    keys = row.keys()
    return ArticleRow(
        id=row["id"], url=row["url"], canonical_url=row["canonical_url"], title=row["title"],
        published=parse_iso(row["published"]), text=row["text"], is_teaser=bool(row["is_teaser"]),
        full_text_tried=bool(row["full_text_tried"]),
        feed_title=row["feed_title"] if "feed_title" in keys else None,
        first_seen=parse_iso(row["first_seen"]) if "first_seen" in keys else None,
    )


class Articles:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def known_keys(self, feed_id: int, keys: list[str]) -> set[str]:
        known: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self.db.fetchall(
                f"SELECT entry_key FROM entries WHERE feed_id = ? AND entry_key IN ({marks})",  # noqa: S608
                (feed_id, *chunk))
            known.update(r[0] for r in rows)
        return known

    async def store_entries(self, feed_id: int, entries: list[NewEntry], now: datetime,
                            backfill_for: dict[int, int]) -> int:
        """Store new entries in one transaction; return how many were new to this feed.

        `backfill_for` maps channel_id → backfill for subscriptions of this feed that have
        not been baselined: everything but the newest `backfill` entries is marked skipped
        for them, so adding a feed never floods a channel.
        """
        new = 0
        async with self.db.transaction() as conn:
            for entry in entries:
                async with conn.execute("SELECT 1 FROM entries WHERE feed_id = ? AND entry_key = ?",
                                        (feed_id, entry.key)) as cur:
                    if await cur.fetchone():
                        continue
                article_id = await self._match(conn, entry)
                if article_id is None:
                    cur = await conn.execute(
                        "INSERT INTO articles (canonical_url, url, title, published, fetched, content_hash, "
                        "text, is_teaser) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (entry.canonical_url, entry.url, entry.title, iso(entry.published), iso(now),
                         entry.content_hash, entry.text, int(entry.is_teaser)))
                    article_id = cur.lastrowid
                await conn.execute(
                    "INSERT OR IGNORE INTO entries (feed_id, entry_key, article_id, first_seen) "
                    "VALUES (?, ?, ?, ?)", (feed_id, entry.key, article_id, iso(now)))
                new += 1
            for channel_id, backfill in backfill_for.items():
                await baseline(conn, channel_id, feed_id, backfill, now)
        return new

    async def _match(self, conn, entry: NewEntry) -> int | None:
        if entry.canonical_url:
            async with conn.execute("SELECT id FROM articles WHERE canonical_url = ?",
                                    (entry.canonical_url,)) as cur:
                row = await cur.fetchone()
            if row:
                return int(row[0])
        if len(entry.text) >= MIN_TEXT_FOR_HASH_MATCH:
            async with conn.execute("SELECT id FROM articles WHERE content_hash = ? LIMIT 1",
                                    (entry.content_hash,)) as cur:
                row = await cur.fetchone()
            if row:
                return int(row[0])
        return None

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
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO summaries (article_id, algorithm, sentences, language, body) "
                "VALUES (?, ?, ?, ?, ?)", (article_id, algorithm, sentences, language, json.dumps(summary)))

    async def count(self) -> int:
        return int(await self.db.scalar("SELECT COUNT(*) FROM articles") or 0)


async def baseline(conn, channel_id: int, feed_id: int, backfill: int, now: datetime) -> None:
    """Mark a new subscription's pre-existing entries as seen, keeping the newest `backfill`."""
    async with conn.execute(
        "SELECT a.id FROM entries e JOIN articles a ON a.id = e.article_id WHERE e.feed_id = ? "
        "AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.channel_id = ? AND d.article_id = a.id) "
        "ORDER BY COALESCE(a.published, e.first_seen) DESC, e.id DESC", (feed_id, channel_id)) as cur:
        ids = [int(r[0]) for r in await cur.fetchall()]
    await conn.executemany(
        "INSERT OR IGNORE INTO deliveries (channel_id, article_id, state, created) VALUES (?, ?, 'skipped', ?)",
        [(channel_id, article_id, iso(now)) for article_id in ids[backfill:]])
    await conn.execute("UPDATE subscriptions SET baselined = 1 WHERE channel_id = ? AND feed_id = ?",
                       (channel_id, feed_id))
