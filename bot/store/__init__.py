"""Persistence: one Database (SQLite by default, PostgreSQL for a `postgresql://` URL) and
the repositories over it."""

from __future__ import annotations

from pathlib import Path

from bot.store.articles import ArticleRow, Articles, NewEntry
from bot.store.catalog import Catalog, ChannelRow, FeedRow
from bot.store.db import Database, DatabaseUnavailable, StoreError, is_postgres_url
from bot.store.filters import FilterRow, Filters
from bot.store.history import History
from bot.store.installations import Installations
from bot.store.leases import Leases
from bot.store.ledger import Ledger, PendingDigest
from bot.store.stories import Received, Stories

__all__ = ["ArticleRow", "Articles", "Catalog", "ChannelRow", "Database", "DatabaseUnavailable", "FeedRow",
           "FilterRow", "Filters", "History", "Installations", "Leases", "Ledger", "NewEntry", "PendingDigest",
           "Received", "Store", "StoreError", "Stories", "open_database"]


class Store:
    """The facade the service and commands use."""

    def __init__(self, path: str | Path, *, migrations: list[str] | None = None) -> None:
        self.db: Database = open_database(path, migrations)
        self.catalog = Catalog(self.db)
        self.articles = Articles(self.db)
        self.ledger = Ledger(self.db)
        self.filters = Filters(self.db)
        self.stories = Stories(self.db)
        self.history = History(self.db)
        self.installations = Installations(self.db)
        self.leases = Leases(self.db)

    async def open(self) -> Store:
        await self.db.open()
        return self

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def open_database(target: str | Path, migrations: list[str] | None = None) -> Database:
    """A `postgresql://` URL selects PostgreSQL; anything else is an SQLite file path."""
    if isinstance(target, str) and is_postgres_url(target):
        from bot.store.postgres import PostgresDatabase  # asyncpg only when it is used

        return PostgresDatabase(target, migrations)
    from bot.store.sqlite import SqliteDatabase

    return SqliteDatabase(target, migrations)
