"""`newsdigest db copy --to postgresql://…`: move a store from its SQLite file to PostgreSQL.

Every table is copied row for row (ids included), so digests, their sent parts and the
delivery ledger arrive as they were: nothing already delivered is delivered again, and a
digest that was half posted resumes with the same nonces. Leases are dropped (the old process
must be stopped first), and the identity sequences continue after the copied ids.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import UserError
from bot.config import Settings
from bot.store import Store, StoreError, is_postgres_url

if TYPE_CHECKING:
    from bot.store.postgres import PgConn

# parents before children, so foreign keys hold at every step
TABLES = ("feeds", "articles", "entries", "summaries", "channels", "subscriptions", "digests", "digest_messages",
          "deliveries", "config_applied", "filters", "installations", "channel_workspaces", "oauth_states")
CLEARED = {"feeds": ("lease_owner", "lease_until"), "channels": ("build_owner", "build_until"),
           "digests": ("lease_owner", "lease_until")}
BATCH = 5000


def add_parser(sub: Any, parser_class: type) -> None:
    """`db copy` under the main parser's subcommands."""
    db = sub.add_parser("db", help="move the store between backends")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=parser_class)
    cp = db_sub.add_parser("copy", help="copy this SQLite store into an empty PostgreSQL database")
    cp.add_argument("--to", required=True, metavar="URL",
                    help="postgresql://user@host:port/db (the password from PGPASSWORD)")
    cp.add_argument("--json", action="store_true")


def _convert(kind: str, value: object) -> object:
    """SQLite keeps any value in any column; PostgreSQL's binary COPY wants the declared type."""
    if value is None:
        return None
    kind = kind.upper()
    if "INT" in kind:
        return int(value)  # type: ignore[call-overload]
    if "BLOB" in kind:
        return bytes(value)  # type: ignore[call-overload]
    return value if isinstance(value, str) else str(value)


def safe_url(url: str) -> str:
    from bot.store.postgres import safe_url as without_password  # asyncpg only for this command

    return without_password(url)


async def copy_store(source: str, target: str) -> dict[str, int]:
    """Copy every table; returns the row counts, checked equal on both sides."""
    if is_postgres_url(source):
        raise UserError("db copy: the source must be an SQLite file (give it with --db)")
    if not is_postgres_url(target):
        raise UserError("db copy: --to must be a postgresql:// URL")
    if not Path(source).is_file():
        raise UserError(f"db copy: no SQLite store at {source}")
    async with Store(source) as old, Store(target) as new:
        for table in TABLES:
            if await new.db.scalar(f"SELECT COUNT(*) FROM {table}"):  # noqa: S608
                raise UserError(f"db copy: {safe_url(target)} is not empty (table {table} has rows); "
                                "copy into a new database")
        counts: dict[str, int] = {}
        async with new.db.transaction() as conn:
            for table in TABLES:
                counts[table] = await _copy_table(old, conn, table)
                if await _has_id(conn, table):
                    await conn.raw.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"COALESCE((SELECT MAX(id) FROM {table}), 1), (SELECT COUNT(*) > 0 FROM {table}))")
        for table in TABLES:
            copied = int(await new.db.scalar(f"SELECT COUNT(*) FROM {table}") or 0)  # noqa: S608
            if copied != counts[table]:
                raise StoreError(f"db copy: {table} has {copied} rows in the target, {counts[table]} in the source")
    return counts


async def _has_id(conn: PgConn, table: str) -> bool:
    return bool(await conn.raw.fetchval(
        "SELECT pg_get_serial_sequence($1, 'id') IS NOT NULL FROM information_schema.columns "
        "WHERE table_name = $1 AND column_name = 'id'", table))


async def _copy_table(old: Store, conn: PgConn, table: str) -> int:
    info = await old.db.fetchall(f"PRAGMA table_info({table})")
    columns = [r["name"] for r in info]
    kinds = [r["type"] for r in info]
    cleared = {columns.index(c) for c in CLEARED.get(table, ()) if c in columns}
    total, last = 0, None
    order = "rowid"
    while True:
        where = f"WHERE {order} > ?" if last is not None else ""
        rows = await old.db.fetchall(
            f"SELECT {order} AS _rowid, * FROM {table} {where} ORDER BY {order} LIMIT {BATCH}",  # noqa: S608
            (last,) if last is not None else ())
        if not rows:
            return total
        records = [tuple(None if i in cleared else _convert(kinds[i], row[i + 1]) for i in range(len(columns)))
                   for row in rows]
        await conn.raw.copy_records_to_table(table, records=records, columns=columns)
        total += len(records)
        last = rows[-1]["_rowid"]


async def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli import emit

    counts = await copy_store(settings.bot.database, args.to)
    if args.json:
        emit({"to": safe_url(args.to), "copied": counts})
    else:
        for table, count in counts.items():
            print(f"{table:20} {count:>9}")  # noqa: T201
        print(f"copied to {safe_url(args.to)}; point [bot] database (or NEWSDIGEST_DATABASE_URL) at it")  # noqa: T201
    return 0
