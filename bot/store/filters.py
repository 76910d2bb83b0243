"""Stored filters: per channel, optionally narrowed to one subscribed feed.

Config filters are the config's: each start replaces them with what the file says. Filters
added from chat or the CLI are kept until removed the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.filters import CompiledFilter, FilterSpec
from bot.store.db import Database, iso


@dataclass(frozen=True, slots=True)
class FilterRow:
    id: int
    channel_id: int
    feed_id: int | None
    spec: FilterSpec
    origin: str

    def compiled(self) -> CompiledFilter:
        return CompiledFilter(self.spec, self.id, self.feed_id)


def _row(row) -> FilterRow:
    spec = FilterSpec(action=row["action"], kind=row["kind"], field=row["field"], pattern=row["pattern"])
    return FilterRow(id=row["id"], channel_id=row["channel_id"], feed_id=row["feed_id"], spec=spec,
                     origin=row["origin"])


class Filters:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, channel_id: int, feed_id: int | None, spec: FilterSpec, now: datetime,
                  origin: str = "chat") -> tuple[FilterRow, bool]:
        """Add a filter unless the same one exists; returns (filter, added)."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                    "SELECT * FROM filters WHERE channel_id = ? AND feed_id IS NOT DISTINCT FROM ? AND action = ? "
                    "AND kind = ? "
                    "AND field = ? AND pattern = ?",
                    (channel_id, feed_id, spec.action, spec.kind, spec.field, spec.pattern)) as cur:
                existing = await cur.fetchone()
            if existing is not None:
                return _row(existing), False
            async with conn.execute(
                    "INSERT INTO filters (channel_id, feed_id, action, kind, field, pattern, origin, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (channel_id, feed_id, spec.action, spec.kind, spec.field, spec.pattern, origin, iso(now))) as cur:
                new_id = int((await cur.fetchone())[0])
        return FilterRow(new_id, channel_id, feed_id, spec, origin), True

    async def remove(self, channel_id: int, filter_id: int) -> bool:
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM filters WHERE id = ? AND channel_id = ?", (filter_id, channel_id))
            return cur.rowcount == 1

    async def of_channel(self, channel_id: int) -> list[FilterRow]:
        """Every filter of the channel, its own and its subscriptions'."""
        rows = await self.db.fetchall("SELECT * FROM filters WHERE channel_id = ? ORDER BY id", (channel_id,))
        return [_row(r) for r in rows]

    async def replace_config(self, wanted: list[tuple[int, int | None, FilterSpec]], now: datetime) -> None:
        """Make the config-made filters exactly `wanted` (channel id, feed id or None, spec);
        filters that stay keep their ids, so `why` and `filters list` stay stable across starts."""
        key = "channel_id, feed_id, action, kind, field, pattern"
        async with self.db.transaction() as conn:
            async with conn.execute(f"SELECT id, {key} FROM filters WHERE origin = 'config'") as cur:  # noqa: S608
                have = {tuple(r)[1:]: r[0] for r in await cur.fetchall()}
            want = list(dict.fromkeys((ch, feed, s.action, s.kind, s.field, s.pattern) for ch, feed, s in wanted))
            await conn.executemany("DELETE FROM filters WHERE id = ?", [(i,) for k, i in have.items() if k not in want])
            await conn.executemany(
                f"INSERT INTO filters ({key}, origin, created) VALUES (?, ?, ?, ?, ?, ?, 'config', ?)",  # noqa: S608
                [(*k, iso(now)) for k in want if k not in have])
