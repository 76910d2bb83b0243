"""The SQLite backend: one aiosqlite connection, pragmas, BEGIN IMMEDIATE writes.

WAL lets readers run while the single writer commits; `synchronous=FULL` makes the
delivery ledger durable across power loss, not only across application crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.store.db import MIGRATIONS, StoreError, split_script


class SqliteDatabase:
    """One aiosqlite connection; writes go through `transaction()` (BEGIN IMMEDIATE)."""

    dialect = "sqlite"
    single_host = True  # every writer of one file runs on this machine: a dead PID frees a lease

    def __init__(self, path: str | Path, migrations: list[str] | None = None) -> None:
        self.path = str(path)
        self.migrations = MIGRATIONS if migrations is None else migrations
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()  # one writer at a time on the shared connection

    @property
    def display(self) -> str:
        return self.path

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

    async def schema_version(self) -> int:
        return int(await self.scalar("PRAGMA user_version") or 0)  # type: ignore[call-overload]

    async def _migrate(self) -> None:
        version = await self.schema_version()
        if version > len(self.migrations):
            raise StoreError(
                f"database schema version {version} is newer than this newsdigest ({len(self.migrations)})"
            )
        for number, script in enumerate(self.migrations[version:], start=version + 1):
            async with self.transaction():
                for statement in split_script(script):
                    await self.conn.execute(statement)
                await self.conn.execute(f"PRAGMA user_version = {number}")

    @asynccontextmanager
    async def transaction(self, *, lock: bool = True, durable: bool = True,
                          keys: Sequence[str] = ()) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error or cancellation.

        aiosqlite runs statements in order on its own thread, so a statement whose awaiting
        task was cancelled still runs; the ROLLBACK is shielded and queued behind it, and a
        transaction somehow left open is closed before the next one starts. `lock` is
        always implied and `keys` change nothing: SQLite has a single writer; every commit
        is durable here."""
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

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> object:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    # ---- the dialect -------------------------------------------------------------------
    @staticmethod
    def group_concat(expr: str) -> str:
        return f"GROUP_CONCAT({expr})"

    @staticmethod
    def skip_locked() -> str:
        return ""  # the single writer already serializes claims

    @staticmethod
    def now_sql() -> str:
        return "((julianday('now') - 2440587.5) * 86400.0)"

    async def reserve_ids(self, conn: aiosqlite.Connection, table: str, count: int) -> list[int]:
        """Ids for a bulk insert: we hold the only write lock, so MAX(id)+1… are free."""
        async with conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}") as cur:  # noqa: S608
            first = int((await cur.fetchone())[0]) + 1
        return list(range(first, first + count))
