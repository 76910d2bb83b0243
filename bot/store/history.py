"""Read-only lookups behind "why wasn't it posted?": an article's ledger rows and carriers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.store.articles import ArticleRow, _article
from bot.store.db import Database, parse_iso


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    channel_id: int
    state: str
    digest_id: int | None
    created: datetime | None
    sent_at: datetime | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class DigestRecord:
    id: int
    state: str
    created: datetime | None
    sent_at: datetime | None
    last_error: str | None
    payload: dict


@dataclass(frozen=True, slots=True)
class Carrier:
    """A feed that carries the article, and when it first did."""

    feed_id: int
    feed: str
    first_seen: datetime | None


class History:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def find_article(self, canonical: str | None, url: str) -> ArticleRow | None:
        row = None
        if canonical:
            row = await self.db.fetchone("SELECT * FROM articles WHERE canonical_url = ?", (canonical,))
        if row is None:
            row = await self.db.fetchone("SELECT * FROM articles WHERE url = ? ORDER BY id LIMIT 1", (url,))
        return _article(row) if row else None

    async def deliveries(self, article_id: int) -> list[DeliveryRecord]:
        rows = await self.db.fetchall(
            "SELECT channel_id, state, digest_id, created, sent_at, reason FROM deliveries WHERE article_id = ? "
            "ORDER BY channel_id", (article_id,))
        return [DeliveryRecord(r[0], r[1], r[2], parse_iso(r[3]), parse_iso(r[4]), r[5]) for r in rows]

    async def digest(self, digest_id: int) -> DigestRecord | None:
        r = await self.db.fetchone(
            "SELECT id, state, created, sent_at, last_error, payload FROM digests WHERE id = ?", (digest_id,))
        if r is None:
            return None
        return DigestRecord(r[0], r[1], parse_iso(r[2]), parse_iso(r[3]), r[4], json.loads(r[5]))

    async def carriers(self, article_id: int) -> list[Carrier]:
        rows = await self.db.fetchall(
            "SELECT f.id, COALESCE(f.title, f.url), e.first_seen FROM entries e JOIN feeds f ON f.id = e.feed_id "
            "WHERE e.article_id = ? ORDER BY e.id", (article_id,))
        return [Carrier(r[0], r[1], parse_iso(r[2])) for r in rows]

    async def subscription_baselined(self, channel_id: int, feed_id: int) -> bool | None:
        value = await self.db.scalar(
            "SELECT baselined FROM subscriptions WHERE channel_id = ? AND feed_id = ?", (channel_id, feed_id))
        return None if value is None else bool(value)

    async def channels_with_rows(self, article_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT channel_id FROM deliveries WHERE article_id = ? UNION "
            "SELECT DISTINCT s.channel_id FROM subscriptions s JOIN entries e ON e.feed_id = s.feed_id "
            "WHERE e.article_id = ?", (article_id, article_id))
        return sorted(int(r[0]) for r in rows)
