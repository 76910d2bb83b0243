"""SQLite persistence: one Database, three repositories."""

from __future__ import annotations

from pathlib import Path

from bot.store.articles import ArticleRow, Articles, NewEntry
from bot.store.catalog import Catalog, ChannelRow, FeedRow
from bot.store.db import Database, StoreError
from bot.store.ledger import Ledger, PendingDigest

__all__ = ["ArticleRow", "Articles", "Catalog", "ChannelRow", "Database", "FeedRow", "Ledger", "NewEntry",
           "PendingDigest", "Store", "StoreError"]


class Store:
    """The facade the service and commands use."""

    def __init__(self, path: str | Path) -> None:
        self.db = Database(path)
        self.catalog = Catalog(self.db)
        self.articles = Articles(self.db)
        self.ledger = Ledger(self.db)

    async def open(self) -> Store:
        await self.db.open()
        return self

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
