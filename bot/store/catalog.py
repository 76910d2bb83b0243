"""Feeds, channels and subscriptions: what is watched and who gets it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models import ChannelRef, FeedHealth
from bot.store.db import Database, feed_key, iso, parse_iso


@dataclass(slots=True)
class FeedRow:
    id: int
    url: str
    title: str | None
    full_text: str | None
    etag: str | None
    last_modified: str | None
    last_polled: datetime | None
    last_success: datetime | None
    next_poll: datetime | None
    failures: int
    last_error: str | None
    disabled_reason: str | None


@dataclass(slots=True)
class ChannelRow:
    id: int
    ref: ChannelRef
    name: str | None
    timezone: str | None
    schedule: str | None
    max_items: int | None
    backfill: int | None
    sentences: int | None
    algorithm: str | None
    language: str | None
    schedule_anchor: datetime | None
    last_error: str | None
    repeat_stories: str | None = None


@dataclass(slots=True, frozen=True)
class PollSuccess:
    """What a successful poll records on its feed."""
    now: datetime
    next_poll: datetime
    etag: str | None
    last_modified: str | None
    title: str | None  # filled in only while the feed has none


CHANNEL_SETTINGS = ("name", "timezone", "schedule", "max_items", "backfill", "sentences", "algorithm",
                    "language", "repeat_stories")


def _feed(row) -> FeedRow:
    return FeedRow(
        id=row["id"], url=row["url"], title=row["title"], full_text=row["full_text"], etag=row["etag"],
        last_modified=row["last_modified"], last_polled=parse_iso(row["last_polled"]),
        last_success=parse_iso(row["last_success"]), next_poll=parse_iso(row["next_poll"]),
        failures=row["failures"], last_error=row["last_error"], disabled_reason=row["disabled_reason"],
    )


def _channel(row) -> ChannelRow:
    return ChannelRow(
        id=row["id"], ref=ChannelRef(row["platform"], row["external_id"]), name=row["name"],
        timezone=row["timezone"], schedule=row["schedule"], max_items=row["max_items"],
        backfill=row["backfill"], sentences=row["sentences"], algorithm=row["algorithm"],
        language=row["language"], schedule_anchor=parse_iso(row["schedule_anchor"]),
        last_error=row["last_error"], repeat_stories=row["repeat_stories"],
    )


class Catalog:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- feeds ---------------------------------------------------------------------
    async def add_feed(self, url: str, now: datetime, title: str | None = None,
                       full_text: str | None = None) -> tuple[FeedRow, bool]:
        """Insert the feed if new; returns (feed, created)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO feeds (url, title, full_text, created, next_poll) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(url) DO NOTHING", (url, title, full_text, iso(now), iso(now)))
            created = cur.rowcount == 1
            if not created and (title or full_text):
                await conn.execute(
                    "UPDATE feeds SET title = COALESCE(?, title), full_text = COALESCE(?, full_text) "
                    "WHERE url = ?", (title, full_text, url))
        feed = await self.feed_by_url(url)
        assert feed is not None
        return feed, created

    async def feed_by_url(self, url: str) -> FeedRow | None:
        row = await self.db.fetchone("SELECT * FROM feeds WHERE url = ?", (url,))
        return _feed(row) if row else None

    async def feed(self, feed_id: int) -> FeedRow | None:
        row = await self.db.fetchone("SELECT * FROM feeds WHERE id = ?", (feed_id,))
        return _feed(row) if row else None

    async def find_feed(self, ident: str) -> FeedRow | None:
        """A feed by id, exact URL, or unique title."""
        ident = ident.strip()
        if ident.isdigit():
            found = await self.feed(int(ident))
            if found:
                return found
        found = await self.feed_by_url(ident)
        if found:
            return found
        rows = await self.db.fetchall("SELECT * FROM feeds WHERE lower(title) = lower(?)", (ident,))
        return _feed(rows[0]) if len(rows) == 1 else None

    async def all_feeds(self) -> list[FeedRow]:
        return [_feed(r) for r in await self.db.fetchall("SELECT * FROM feeds ORDER BY id")]

    async def remove_feed(self, feed_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))

    async def record_poll(self, feed_id: int, success: PollSuccess) -> None:
        # lost in a crash: the feed is polled again
        async with self.db.transaction(durable=False, keys=[feed_key(feed_id)]) as conn:
            await self.write_poll(conn, feed_id=feed_id, success=success)

    @staticmethod
    async def write_poll(conn, *, feed_id: int, success: PollSuccess) -> None:  # noqa: ANN001 - a Conn
        """A successful poll's bookkeeping, inside a write keyed by the feed (record_poll's, or
        the one that stores the poll's entries)."""
        await conn.execute(
            "UPDATE feeds SET last_polled = ?, last_success = ?, next_poll = ?, failures = 0, "
            "last_error = NULL, etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified), "
            "title = COALESCE(title, ?) WHERE id = ?",
            (iso(success.now), iso(success.now), iso(success.next_poll), success.etag, success.last_modified,
             success.title, feed_id))

    async def record_unchanged(self, polls: list[tuple]) -> None:
        """Many 304 answers, (feed id, now, next poll, etag, last modified), in one transaction
        (rows in feed order: two such writes never wait for each other's rows crosswise)."""
        polls = sorted(polls, key=lambda poll: poll[0])
        async with self.db.transaction(durable=False, keys=[feed_key(p[0]) for p in polls]) as conn:
            await conn.executemany(
                "UPDATE feeds SET last_polled = ?, last_success = ?, next_poll = ?, failures = 0, "
                "last_error = NULL, etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified) "
                "WHERE id = ?",
                [(iso(now), iso(now), iso(next_poll), etag, modified, feed_id)
                 for feed_id, now, next_poll, etag, modified in polls])

    async def record_failure(self, feed_id: int, now: datetime, next_poll: datetime, error: str,
                             disable_reason: str | None) -> int:
        async with self.db.transaction(keys=[feed_key(feed_id)]) as conn:
            await conn.execute(
                "UPDATE feeds SET last_polled = ?, next_poll = ?, failures = failures + 1, last_error = ?, "
                "disabled_reason = COALESCE(?, disabled_reason) WHERE id = ?",
                (iso(now), iso(next_poll), error, disable_reason, feed_id))
        return int(await self.db.scalar("SELECT failures FROM feeds WHERE id = ?", (feed_id,)) or 0)

    async def set_enabled(self, feed_id: int, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE feeds SET disabled_reason = NULL, failures = 0, next_poll = ? WHERE id = ?",
                (iso(now), feed_id))

    async def due_feeds(self, now: datetime) -> list[FeedRow]:
        rows = await self.db.fetchall(
            "SELECT * FROM feeds WHERE disabled_reason IS NULL AND (next_poll IS NULL OR next_poll <= ?) "
            "AND id IN (SELECT feed_id FROM subscriptions) ORDER BY next_poll", (iso(now),))
        return [_feed(r) for r in rows]

    async def next_poll_time(self) -> datetime | None:
        return parse_iso(await self.db.scalar(  # type: ignore[arg-type]
            "SELECT MIN(next_poll) FROM feeds WHERE disabled_reason IS NULL "
            "AND id IN (SELECT feed_id FROM subscriptions)"))

    # ---- channels ------------------------------------------------------------------
    async def ensure_channel(self, ref: ChannelRef, now: datetime, **settings: object) -> ChannelRow:
        """Create the channel if new; given settings (not None) overwrite stored ones."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO channels (ref, platform, external_id, created, schedule_anchor) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(ref) DO NOTHING",
                (str(ref), ref.platform, ref.external_id, iso(now), iso(now)))
            updates = {k: v for k, v in settings.items() if k in CHANNEL_SETTINGS and v is not None}
            if "schedule" in updates:  # a new schedule starts counting from now, not from long ago
                async with conn.execute("SELECT schedule FROM channels WHERE ref = ?", (str(ref),)) as cur:
                    row = await cur.fetchone()
                if row is not None and row[0] != updates["schedule"]:
                    updates["schedule_anchor"] = iso(now)
            if updates:
                assignments = ", ".join(f"{k} = ?" for k in updates)
                await conn.execute(f"UPDATE channels SET {assignments} WHERE ref = ?",
                                   (*updates.values(), str(ref)))
        found = await self.channel(ref)
        assert found is not None
        return found

    async def channel(self, ref: ChannelRef) -> ChannelRow | None:
        row = await self.db.fetchone("SELECT * FROM channels WHERE ref = ?", (str(ref),))
        return _channel(row) if row else None

    async def channel_by_id(self, channel_id: int) -> ChannelRow | None:
        row = await self.db.fetchone("SELECT * FROM channels WHERE id = ?", (channel_id,))
        return _channel(row) if row else None

    async def all_channels(self) -> list[ChannelRow]:
        return [_channel(r) for r in await self.db.fetchall("SELECT * FROM channels ORDER BY id")]

    async def set_schedule(self, channel_id: int, schedule: str, timezone: str | None, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE channels SET schedule = ?, timezone = COALESCE(?, timezone), schedule_anchor = ? "
                "WHERE id = ?", (schedule, timezone, iso(now), channel_id))

    async def set_schedule_anchor(self, channel_id: int, when: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE channels SET schedule_anchor = ? WHERE id = ?", (iso(when), channel_id))

    async def set_channel_error(self, channel_id: int, error: str | None) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE channels SET last_error = ? WHERE id = ?", (error, channel_id))

    async def claim_config_item(self, item: str, now: datetime) -> bool:
        """True the first time a config item (a feed-channel pair) is seen, False after."""
        async with self.db.transaction() as conn:
            cur = await conn.execute("INSERT INTO config_applied (item, applied) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                     (item, iso(now)))
            return cur.rowcount == 1

    # ---- subscriptions -------------------------------------------------------------
    async def subscribe(self, channel_id: int, feed_id: int, now: datetime) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO subscriptions (channel_id, feed_id, created) VALUES (?, ?, ?) "
                "ON CONFLICT(channel_id, feed_id) DO NOTHING", (channel_id, feed_id, iso(now)))
            return cur.rowcount == 1

    async def unsubscribe(self, channel_id: int, feed_id: int) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM subscriptions WHERE channel_id = ? AND feed_id = ?", (channel_id, feed_id))
            return cur.rowcount == 1

    async def channel_feeds(self, channel_id: int) -> list[FeedRow]:
        rows = await self.db.fetchall(
            "SELECT f.* FROM feeds f JOIN subscriptions s ON s.feed_id = f.id WHERE s.channel_id = ? "
            "ORDER BY f.id", (channel_id,))
        return [_feed(r) for r in rows]

    async def channel_feed(self, channel_id: int, ident: str) -> FeedRow | None:
        """One of the channel's feeds, named by id, URL or (case-insensitive) title."""
        ident = ident.strip()
        for feed in await self.channel_feeds(channel_id):
            if ident in (str(feed.id), feed.url) or (feed.title and ident.casefold() == feed.title.casefold()):
                return feed
        return None

    async def feed_channels(self, feed_id: int) -> list[ChannelRow]:
        rows = await self.db.fetchall(
            "SELECT c.* FROM channels c JOIN subscriptions s ON s.channel_id = c.id WHERE s.feed_id = ? "
            "ORDER BY c.id", (feed_id,))
        return [_channel(r) for r in rows]

    async def health(self, channel_id: int | None = None) -> list[FeedHealth]:
        feeds = await (self.channel_feeds(channel_id) if channel_id is not None else self.all_feeds())
        # every subscription in one query, not one per feed: `feeds list` of 500 feeds waited on 500
        only = "" if channel_id is None else \
            "WHERE s.feed_id IN (SELECT feed_id FROM subscriptions WHERE channel_id = ?) "
        rows = await self.db.fetchall(
            "SELECT s.feed_id, c.platform, c.external_id FROM subscriptions s "  # noqa: S608 - fixed fragments
            f"JOIN channels c ON c.id = s.channel_id {only}ORDER BY s.feed_id, c.id",
            () if channel_id is None else (channel_id,))
        channels: dict[int, list[str]] = {}
        for row in rows:
            channels.setdefault(row["feed_id"], []).append(str(ChannelRef(row["platform"], row["external_id"])))
        result = []
        for feed in feeds:
            refs = channels.get(feed.id, [])
            result.append(FeedHealth(
                id=feed.id, url=feed.url, title=feed.title, channels=refs, last_polled=feed.last_polled,
                last_error=feed.last_error, disabled=feed.disabled_reason, failures=feed.failures))
        return result
