"""SQLite connection, pragmas and versioned migrations.

WAL lets readers run while the single writer commits; `synchronous=FULL` makes the
delivery ledger durable across power loss, not only across application crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

MIGRATIONS: list[str] = [
    # 1: the initial schema
    """
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        title TEXT,
        full_text TEXT,
        etag TEXT,
        last_modified TEXT,
        last_polled TEXT,
        last_success TEXT,
        next_poll TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        disabled_reason TEXT,
        created TEXT NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        canonical_url TEXT,
        url TEXT,
        title TEXT NOT NULL,
        published TEXT,
        fetched TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        text TEXT NOT NULL,
        is_teaser INTEGER NOT NULL DEFAULT 0,
        full_text_tried INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX articles_canonical_url ON articles(canonical_url) WHERE canonical_url IS NOT NULL;
    CREATE INDEX articles_content_hash ON articles(content_hash);
    CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        entry_key TEXT NOT NULL,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        first_seen TEXT NOT NULL,
        UNIQUE (feed_id, entry_key)
    );
    CREATE INDEX entries_article ON entries(article_id);
    CREATE TABLE summaries (
        article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        algorithm TEXT NOT NULL,
        sentences INTEGER NOT NULL,
        language TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (article_id, algorithm, sentences, language)
    );
    CREATE TABLE channels (
        id INTEGER PRIMARY KEY,
        ref TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL,
        external_id TEXT NOT NULL,
        name TEXT,
        timezone TEXT,
        schedule TEXT,
        max_items INTEGER,
        backfill INTEGER,
        sentences INTEGER,
        algorithm TEXT,
        language TEXT,
        schedule_anchor TEXT,
        last_error TEXT,
        created TEXT NOT NULL
    );
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        created TEXT NOT NULL,
        baselined INTEGER NOT NULL DEFAULT 0,
        UNIQUE (channel_id, feed_id)
    );
    CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        kind TEXT NOT NULL DEFAULT 'digest',
        created TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT,
        last_error TEXT,
        sent_at TEXT
    );
    CREATE INDEX digests_pending ON digests(state, id);
    CREATE TABLE digest_messages (
        digest_id INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
        part INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (digest_id, part)
    );
    CREATE TABLE deliveries (
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        digest_id INTEGER REFERENCES digests(id) ON DELETE SET NULL,
        state TEXT NOT NULL,
        created TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (channel_id, article_id)
    );
    CREATE INDEX deliveries_digest ON deliveries(digest_id);
    """,
    # 2: config feeds are subscribed once, so a removal from the CLI or chat sticks
    """
    CREATE TABLE config_applied (
        item TEXT PRIMARY KEY,
        applied TEXT NOT NULL
    );
    """,
    # 3: a sender leases a digest, so `run` and a CLI `digest` never post the same one twice
    """
    ALTER TABLE digests ADD COLUMN lease_owner TEXT;
    ALTER TABLE digests ADD COLUMN lease_until TEXT;
    """,
]


def iso(when: datetime | None) -> str | None:
    """Store times as ISO-8601 UTC text so they sort and compare as strings."""
    if when is None:
        return None
    return when.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class StoreError(Exception):
    """The database file cannot be opened or used."""


class Database:
    """One aiosqlite connection; writes go through `transaction()` (BEGIN IMMEDIATE)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()  # one writer at a time on the shared connection

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def open(self) -> None:
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            pending = aiosqlite.connect(self.path, isolation_level=None)
            try:
                self._conn = await pending
            except sqlite3.Error:
                # aiosqlite stops its thread without waiting; let it finish while the loop runs
                thread = getattr(pending, "_thread", None)
                if thread is not None:
                    await asyncio.to_thread(thread.join, 5)
                raise
            await self._setup()
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            reason = getattr(exc, "strerror", None) or str(exc)
            raise StoreError(f"cannot use database {self.path}: {reason}") from None

    async def _setup(self) -> None:
        assert self._conn is not None
        self._conn.row_factory = aiosqlite.Row
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
            await self._conn.execute(f"PRAGMA {pragma}")
        await self._migrate()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _migrate(self) -> None:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(
                f"database schema version {version} is newer than this newsdigest ({len(MIGRATIONS)})"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self.transaction():
                for statement in filter(str.strip, script.split(";")):
                    await self.conn.execute(statement)
                await self.conn.execute(f"PRAGMA user_version = {number}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error or cancellation.

        aiosqlite runs statements in order on its own thread, so a statement whose awaiting
        task was cancelled still runs; the ROLLBACK is shielded and queued behind it, and a
        transaction somehow left open is closed before the next one starts."""
        async with self._write_lock:
            conn = self.conn
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except asyncio.CancelledError:
                await self._rollback(conn)
                raise
            try:
                yield conn
            except BaseException:
                await self._rollback(conn)
                raise
            else:
                await asyncio.shield(conn.execute("COMMIT"))

    @staticmethod
    async def _rollback(conn: aiosqlite.Connection) -> None:
        with contextlib.suppress(Exception):
            await asyncio.shield(conn.execute("ROLLBACK"))

    async def fetchall(self, sql: str, params: tuple | list = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: tuple | list = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def scalar(self, sql: str, params: tuple | list = ()) -> object:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]
