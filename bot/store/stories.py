"""Story ids on articles, and what a channel already received of each story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import defaults
from bot.store.articles import CHUNK
from bot.store.db import Database, iso, parse_iso

RECEIVED = ("sent", "pending")  # a story the channel has seen, or will see in a queued digest
LEAD_CHARS = defaults.STORY_LEAD_CHARS  # all of a text that story grouping reads


@dataclass(frozen=True, slots=True)
class RecentArticle:
    """What story grouping needs of a stored article: no full text, no feed bookkeeping."""

    id: int
    title: str
    lead: str  # the first LEAD_CHARS characters of the text
    published: datetime | None
    fetched: datetime | None
    story_id: int | None
    source: int  # the feed that first carried it


@dataclass(frozen=True, slots=True)
class Received:
    """The article of a story that reached a channel: who showed it, in which digest, when."""

    article_id: int
    story_id: int
    title: str
    url: str | None
    feed: str | None
    digest_id: int | None
    at: datetime | None


class Stories:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def recent(self, since: datetime, limit: int) -> list[RecentArticle]:
        """Articles fetched since `since` (newest first, at most `limit`) with the feed that
        first carried each: the context that new articles are grouped against. Only the lead
        of each text is read: every digest reads up to `limit` of them."""
        rows = await self.db.fetchall(
            f"SELECT a.id, a.title, substr(a.text, 1, {LEAD_CHARS}) AS lead, a.published, a.fetched, a.story_id, "
            # `+ 0`: MIN over the bare column tempts PostgreSQL into walking the (feed_id, …)
            # index of all entries for each article instead of the few rows of entries_article
            "(SELECT MIN(e.feed_id + 0) FROM entries e WHERE e.article_id = a.id) AS source "
            "FROM articles a WHERE a.fetched >= ? ORDER BY a.id DESC LIMIT ?", (iso(since), limit))  # noqa: S608
        return [RecentArticle(r["id"], r["title"], r["lead"] or "", parse_iso(r["published"]), parse_iso(r["fetched"]),
                              r["story_id"], int(r["source"] or 0)) for r in rows]

    async def set_story_ids(self, assignments: dict[int, int]) -> None:
        if not assignments:
            return
        async with self.db.transaction() as conn:
            await conn.executemany("UPDATE articles SET story_id = ? WHERE id = ? AND story_id IS NULL",
                                   [(story, article) for article, story in assignments.items()])

    async def received(self, channel_id: int, story_ids: list[int]) -> dict[int, Received]:
        """For each story the channel already got, the earliest article of it that it got."""
        found: dict[int, Received] = {}
        unique = sorted(set(story_ids))
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start:start + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self.db.fetchall(
                f"""
                SELECT a.id, a.story_id, a.title, a.url, d.digest_id, COALESCE(d.sent_at, d.created) AS at,
                       (SELECT COALESCE(f.title, f.url) FROM entries e JOIN feeds f ON f.id = e.feed_id
                         WHERE e.article_id = a.id ORDER BY e.id LIMIT 1) AS feed
                FROM deliveries d JOIN articles a ON a.id = d.article_id
                WHERE d.channel_id = ? AND d.state IN ('sent', 'pending') AND a.story_id IN ({marks})
                ORDER BY d.created, a.id
                """, (channel_id, *chunk))  # noqa: S608 - placeholders only
            for r in rows:
                found.setdefault(int(r["story_id"]), Received(
                    article_id=int(r["id"]), story_id=int(r["story_id"]), title=r["title"], url=r["url"],
                    feed=r["feed"], digest_id=r["digest_id"], at=parse_iso(r["at"])))
        return found
