"""The PostgreSQL backend (asyncpg): the same tables, migrations and guarantees as SQLite.

Much of the store's reasoning relies on SQLite's single writer (BEGIN IMMEDIATE). Here every
write transaction takes one transaction-scoped advisory lock first, so writers are serialized
across the whole fleet exactly as they are in one SQLite file, and READ COMMITTED then shows
each writer everything committed before it. Claims of work (feed polls) run without it and use
`FOR UPDATE SKIP LOCKED`, so workers never wait on each other to find work.

What a feed poll writes names its keys (the feed, each article's canonical URL and content
hash, each channel it baselines). Such a keyed write takes the fleet lock *shared* and one
advisory lock per key, in sorted order: polls of different feeds then commit side by side,
two writes that share a key still run one after the other, and every other write (digests,
deliveries, commands) still runs alone, exactly as before. PostgreSQL queues a shared request
behind a waiting exclusive one, so polls cannot starve a digest.

A lost connection (the server restarted) is logged once and retried with backoff wherever the
work can simply be repeated (reads, the start of a transaction); a transaction cut off in the
middle is rolled back by the server and raised as `DatabaseUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.store.db import MIGRATIONS, DatabaseUnavailable, StoreError, split_script
from bot.store.pg_sql import PgConn, pg_schema, pg_sql, safe_url

__all__ = ["PgConn", "PostgresDatabase", "pg_schema", "pg_sql", "safe_url"]

log = logging.getLogger("bot.store")
WRITE_LOCK = 0x6E64_7772_6974_65  # "ndwrite": the fleet-wide single-writer lock
MIGRATE_LOCK = 0x6E64_6D69_6772  # "ndmigr": one worker migrates, the others wait for it
POOL_SIZE = 4
# asyncpg prepares every statement; a plan cached while the tables were still small (a new
# store's first poll) would scan whole tables for good, so each execution is planned afresh.
# JIT off: our queries are short, and a cost over jit_above_cost (the story context's
# correlated subquery is estimated high) made PostgreSQL spend ~110 ms compiling a 10 ms query.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan", "jit": "off"}
KEY_LOCKS = 0x6E64  # "nd": the class of per-key locks (two-int advisory locks: a space apart from WRITE_LOCK)
MAX_KEYS = 64  # a keyed write holds one lock per key in the server's shared lock table (room for
# max_locks_per_transaction × max_connections, 64 × 100 by default), so a write with more keys
# serializes with the others instead
STATEMENT_CACHE = 400  # prepared statements per connection (asyncpg's default is 100): a
# statement that drops out costs a round trip to prepare again, and multi-row INSERTs of up
# to EXACT_BATCH rows are a statement per size
CONNECT_TIMEOUT = 10.0
RETRY_MAX = 5.0  # seconds between reconnection attempts, at most
LOST = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
        asyncpg.exceptions.ConnectionDoesNotExistError, TimeoutError)


def key_locks(keys: Sequence[str]) -> list[int]:
    """The int4 lock ids of `keys`, sorted (every writer takes them in one order: no deadlock).
    Two keys may share an id (CRC-32): they then only wait for each other, never wrongly pass."""
    ids = {zlib.crc32(key.encode()) for key in keys}
    return sorted(i - (1 << 32) if i >= 1 << 31 else i for i in ids)


async def _keep_session(_raw: asyncpg.Connection) -> None:
    """What a connection needs before it goes back to the pool: nothing beyond what asyncpg
    always does (roll back a transaction left open). Every state we create is the transaction's
    own (SET LOCAL, pg_advisory_xact_lock) and ends with it; asyncpg's default reset would send
    `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release, a round trip
    per transaction and read (six or seven per feed poll)."""


class PostgresDatabase:
    """An asyncpg pool; writes are serialized fleet-wide by an advisory lock."""

    dialect = "postgresql"
    single_host = False  # workers on many machines: a lease counts only by its time

    def __init__(self, url: str, migrations: list[str] | None = None, *, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.migrations = MIGRATIONS if migrations is None else migrations
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._write_lock = asyncio.Lock()  # one waiter per process on the advisory lock
        # writes (keyed ones side by side, and the one exclusive) hold at most all connections
        # but one, which stays free for reads and lease renewals
        self._write_slots = asyncio.Semaphore(max(1, pool_size - 1))
        self._lost_since: float | None = None
        self._closing = False
        self._sequences: dict[str, int] = {}  # table → its id sequence's OID

    @property
    def display(self) -> str:
        return safe_url(self.url)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database is not open")
        return self._pool

    async def open(self) -> None:
        try:
            # no idle expiry: a connection that ends is then always news (the server went away)
            self._pool = await asyncpg.create_pool(self.url, min_size=0, max_size=self.pool_size,
                                                   timeout=CONNECT_TIMEOUT, command_timeout=None,
                                                   max_inactive_connection_lifetime=0, init=self._watch,
                                                   reset=_keep_session,
                                                   server_settings=SERVER_SETTINGS,
                                                   statement_cache_size=STATEMENT_CACHE)
            await self._migrate()
        except (*LOST, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
            await self.close()
            reason = str(exc).replace(self.url, self.display) or type(exc).__name__
            raise StoreError(f"cannot use database {self.display}: {reason}") from None

    async def _watch(self, raw: asyncpg.Connection) -> None:
        raw.add_termination_listener(self._ended)

    def _ended(self, _raw: asyncpg.Connection) -> None:
        if not self._closing:
            self._lost("the server closed the connection")

    async def close(self) -> None:
        self._closing = True
        if self._pool is not None:
            pool, self._pool = self._pool, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 10)

    # ---- schema ------------------------------------------------------------------------
    async def schema_version(self) -> int:
        exists = await self.scalar("SELECT to_regclass('newsdigest_schema') IS NOT NULL")
        if not exists:
            return 0
        return int(await self.scalar("SELECT COALESCE(MAX(version), 0) FROM newsdigest_schema") or 0)

    async def _migrate(self) -> None:
        async with self.pool.acquire() as raw, raw.transaction():
            await raw.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK)
            await raw.execute("CREATE TABLE IF NOT EXISTS newsdigest_schema "
                              "(version BIGINT PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())")
            version = int(await raw.fetchval("SELECT COALESCE(MAX(version), 0) FROM newsdigest_schema"))
            if version > len(self.migrations):
                raise StoreError(f"database schema version {version} is newer than this newsdigest "
                                 f"({len(self.migrations)})")
            for number, script in enumerate(self.migrations[version:], start=version + 1):
                for statement in split_script(pg_schema(script)):
                    await raw.execute(statement)
                await raw.execute("INSERT INTO newsdigest_schema (version) VALUES ($1)", number)

    # ---- connections and reconnection ----------------------------------------------------
    def _lost(self, why: BaseException | str) -> None:
        if self._lost_since is None:
            self._lost_since = time.monotonic()
            log.warning("database connection lost, reconnecting (%s)", why if isinstance(why, str)
                        else type(why).__name__)

    def _back(self) -> None:
        if self._lost_since is not None:
            log.warning("database connection restored after %.1f s", time.monotonic() - self._lost_since)
            self._lost_since = None

    async def _retrying(self, work):  # noqa: ANN001, ANN202 - a coroutine function and its result
        delay = 0.2
        while True:
            try:
                result = await work()
            except LOST as exc:
                self._lost(exc)
            except asyncpg.InterfaceError as exc:
                if "closed" not in str(exc):
                    raise
                self._lost(exc)
            else:
                self._back()
                return result
            await asyncio.sleep(delay)
            delay = min(RETRY_MAX, delay * 2)

    @asynccontextmanager
    async def transaction(self, *, lock: bool = True, durable: bool = True,
                          keys: Sequence[str] = ()) -> AsyncIterator[PgConn]:
        """A transaction; with `lock` (every write) it first takes the fleet-wide write lock:
        exclusively, or with `keys` shared plus a lock per key (see the module's docstring).
        `durable=False` commits without waiting for the WAL flush (synchronous_commit off for
        this transaction only): the write lock is then not held across a disk flush. A crash
        of the server can lose only a suffix of such commits, never one that a later durable
        commit (a digest, a delivery mark) came after, since that flush covers all WAL before it."""
        if not lock:
            async with self._transaction(False, durable) as conn:
                yield conn
            return
        ids = key_locks(keys)
        if 0 < len(ids) <= MAX_KEYS:
            async with self._write_slots, self._transaction(True, durable, ids) as conn:
                yield conn
            return
        async with self._write_lock, self._write_slots, self._transaction(True, durable) as conn:
            yield conn

    @asynccontextmanager
    async def _transaction(self, lock: bool, durable: bool = True, keys: list[int] | None = None
                           ) -> AsyncIterator[PgConn]:
        pool = self.pool

        async def begin() -> asyncpg.Connection:
            raw = await pool.acquire()
            try:
                # one simple-protocol round trip for the BEGIN and all of its set-up (no
                # arguments: every number is ours); COMMIT and ROLLBACK are ours too, and
                # a transaction left open is still rolled back when the pool takes it back
                setup = ["BEGIN"] if durable else ["BEGIN", "SET LOCAL synchronous_commit TO OFF"]
                if lock and keys:
                    setup += [f"SELECT pg_advisory_xact_lock_shared({WRITE_LOCK})",
                              f"SELECT pg_advisory_xact_lock({KEY_LOCKS}, k) "  # in the array's (sorted) order
                              f"FROM unnest('{{{','.join(map(str, keys))}}}'::int4[]) AS k"]
                elif lock:
                    setup.append(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
                await raw.execute("; ".join(setup))
            except BaseException:
                await asyncio.shield(self._release(pool, raw))
                raise
            return raw

        raw = await self._retrying(begin)
        try:
            try:
                yield PgConn(raw)
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await asyncio.shield(raw.execute("ROLLBACK"))
                if isinstance(exc, LOST):
                    self._lost(exc)
                    raise DatabaseUnavailable(f"database connection lost during a write ({type(exc).__name__})") \
                        from None
                raise
            try:
                await asyncio.shield(raw.execute("COMMIT"))
            except LOST as exc:
                self._lost(exc)
                raise DatabaseUnavailable(f"database connection lost at commit ({type(exc).__name__})") from None
        finally:
            await asyncio.shield(self._release(pool, raw))

    @staticmethod
    async def _release(pool: asyncpg.Pool, raw: asyncpg.Connection) -> None:
        try:
            await pool.release(raw, timeout=10)
        except Exception:  # a broken connection: make sure it is gone, the pool opens a new one
            raw.terminate()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[asyncpg.Record]:
        query, args = pg_sql(sql), tuple(params)
        return await self._retrying(lambda: self.pool.fetch(query, *args))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> asyncpg.Record | None:
        query, args = pg_sql(sql), tuple(params)
        return await self._retrying(lambda: self.pool.fetchrow(query, *args))

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> object:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    # ---- the dialect -------------------------------------------------------------------
    @staticmethod
    def group_concat(expr: str) -> str:
        distinct = expr.startswith("DISTINCT ")
        inner = expr.removeprefix("DISTINCT ")
        return f"string_agg({'DISTINCT ' if distinct else ''}({inner})::text, ',')"

    @staticmethod
    def skip_locked() -> str:
        return " FOR UPDATE SKIP LOCKED"

    @staticmethod
    def now_sql() -> str:
        return "EXTRACT(EPOCH FROM clock_timestamp())::float8"  # the server's clock: one for the fleet

    async def reserve_ids(self, conn: PgConn, table: str, count: int) -> list[int]:
        """Ids for a bulk insert, drawn from the table's identity sequence (its OID looked up
        once: resolving it by name for every id took half of the statement's time)."""
        if count <= 0:
            return []
        sequence = self._sequences.get(table)
        if sequence is None:
            sequence = int(await conn.raw.fetchval("SELECT pg_get_serial_sequence($1, 'id')::regclass::oid", table))
            self._sequences[table] = sequence
        rows = await conn.raw.fetch("SELECT nextval($1::oid::regclass) FROM generate_series(1, $2)", sequence, count)
        return [int(r[0]) for r in rows]
