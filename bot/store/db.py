"""The shared part of both store backends: versioned migrations, time helpers, and the
`Database` seam that the SQLite (`sqlite.py`) and PostgreSQL (`postgres.py`) backends implement.

The migrations are written in SQLite's dialect; the PostgreSQL backend translates the few
type names that differ (see `postgres.pg_schema`). Both count applied migrations the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

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
    # 4: stories across outlets, filters, and the reasons `why` reads
    """
    ALTER TABLE articles ADD COLUMN story_id INTEGER;
    ALTER TABLE articles ADD COLUMN author TEXT;
    ALTER TABLE articles ADD COLUMN categories TEXT;
    CREATE INDEX articles_story ON articles(story_id);
    CREATE INDEX articles_fetched ON articles(fetched);
    ALTER TABLE channels ADD COLUMN repeat_stories TEXT;
    ALTER TABLE deliveries ADD COLUMN reason TEXT;
    CREATE TABLE filters (
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        feed_id INTEGER REFERENCES feeds(id) ON DELETE CASCADE,
        action TEXT NOT NULL,
        kind TEXT NOT NULL,
        field TEXT NOT NULL,
        pattern TEXT NOT NULL,
        origin TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX filters_channel ON filters(channel_id);
    """,
    # 5: many workspaces per platform (Slack OAuth installs); secrets are stored encrypted
    """
    CREATE TABLE installations (
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        enterprise TEXT NOT NULL DEFAULT '',
        bot_user_id TEXT,
        scopes TEXT,
        sealed BLOB,
        installed TEXT NOT NULL,
        revoked TEXT,
        revoked_reason TEXT,
        PRIMARY KEY (platform, workspace, enterprise)
    );
    CREATE TABLE channel_workspaces (
        channel_ref TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        enterprise TEXT NOT NULL DEFAULT '',
        updated TEXT NOT NULL
    );
    CREATE INDEX channel_workspaces_workspace ON channel_workspaces(platform, workspace, enterprise);
    CREATE TABLE oauth_states (
        state TEXT PRIMARY KEY,
        created TEXT NOT NULL
    );
    """,
    # 6: many workers on one PostgreSQL store: time-bounded leases on feed polls and digest
    # builds, and named leases for fleet-wide roles (e.g. registering Discord commands)
    """
    ALTER TABLE feeds ADD COLUMN lease_owner TEXT;
    ALTER TABLE feeds ADD COLUMN lease_until TEXT;
    ALTER TABLE channels ADD COLUMN build_owner TEXT;
    ALTER TABLE channels ADD COLUMN build_until TEXT;
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        lease_until TEXT NOT NULL
    );
    CREATE TABLE rate_slots (
        bucket TEXT NOT NULL,
        slot INTEGER NOT NULL,
        taken REAL NOT NULL,
        PRIMARY KEY (bucket, slot)
    );
    """,
    # 7: subscriptions by feed. Every poll asks for a feed's unbaselined channels, and the
    # due-feeds claim joins feeds to their subscriptions; with only (channel_id, feed_id) both
    # scanned the whole table (PostgreSQL's claim turned into a nested loop over it: 18 ms)
    """
    CREATE INDEX subscriptions_feed ON subscriptions(feed_id);
    """,
]


def iso(when: datetime | None) -> str | None:
    """Store times as ISO-8601 UTC text so they sort and compare as strings."""
    if when is None:
        return None
    if when.tzinfo is not UTC:  # most times are UTC already (a first poll formats 25,000)
        when = when.astimezone(UTC)
    return when.isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def feed_key(feed_id: int) -> str:
    """The write key of a feed's rows (its entries, its poll bookkeeping): see `Database`."""
    return f"feed:{feed_id}"


def summary_key(article_id: int) -> str:
    """The write key of an article's cached summaries: nothing else writes them, so a summary
    saved during a digest build need not wait for (or hold up) the fleet's other writes."""
    return f"summary:{article_id}"


def channel_key(channel_id: int) -> str:
    """The write key of a channel's delivery rows while a subscription is baselined."""
    return f"channel:{channel_id}"


class StoreError(Exception):
    """The database cannot be opened or used."""


class DatabaseUnavailable(StoreError):
    """The connection to the database server was lost in the middle of a transaction (rolled back)."""


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


class Cursor(Protocol):
    async def fetchone(self) -> Any: ...
    async def fetchall(self) -> list[Any]: ...


class Conn(Protocol):
    """What a repository may do inside `transaction()`: `await conn.execute(...)` (for
    `rowcount`) or `async with conn.execute(...) as cur` (for rows), and `executemany`."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...


class Database(Protocol):
    """The seam both backends implement; SQL is written with `?` placeholders.

    `single_host` is True only where every writer shares one machine (SQLite), so a lease
    may be judged by whether its holder's PID is alive; elsewhere only its time counts.
    A transaction with `durable=False` may commit before its changes reach the disk (only
    for work that is simply redone if a server crash loses it: what a feed poll stores; a
    later durable commit, such as a digest's, makes every earlier one durable too).
    `keys` name everything a write may conflict on (`feed:1`, `url:…`): a backend may then run
    it beside other keyed writes that share none of them, never beside an unkeyed write."""

    dialect: str
    single_host: bool

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    def transaction(self, *, lock: bool = True, durable: bool = True,
                    keys: Sequence[str] = ()) -> AbstractAsyncContextManager[Any]: ...
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> object: ...
    async def schema_version(self) -> int: ...
    def group_concat(self, expr: str) -> str: ...
    def skip_locked(self) -> str: ...
    def now_sql(self) -> str: ...
    async def reserve_ids(self, conn: Any, table: str, count: int) -> list[int]: ...


async def rows_of(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """All rows of a query run on a transaction's connection (either backend)."""
    async with conn.execute(sql, params) as cur:
        return list(await cur.fetchall())


def split_script(script: str) -> list[str]:
    return [s for s in (part.strip() for part in script.split(";")) if s]
