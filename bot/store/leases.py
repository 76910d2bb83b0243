"""Time-bounded leases, so many workers on one store share the work and never duplicate it.

A lease names its holder (`host:pid:token`) and when it lapses; the holder renews it while the
work runs, and another worker takes the work over once it has lapsed (the holder crashed or
hung). Claims of due feeds skip rows another worker is claiming at that instant
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), so claiming never waits on another worker.
"""

from __future__ import annotations

from datetime import datetime

from bot.store.catalog import FeedRow, _feed
from bot.store.db import Database, iso, rows_of

DUE = ("disabled_reason IS NULL AND (next_poll IS NULL OR next_poll <= ?) "
       "AND id IN (SELECT feed_id FROM subscriptions)")


class Leases:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._seeded: dict[str, int] = {}

    # ---- feed polls ----------------------------------------------------------------------
    async def claim_due_feeds(self, owner: str, now: datetime, until: datetime, limit: int) -> list[FeedRow]:
        """Lease up to `limit` due feeds that no other worker holds; the leased feeds."""
        sql = (f"UPDATE feeds SET lease_owner = ?, lease_until = ? WHERE id IN ("  # noqa: S608
               f"SELECT id FROM feeds WHERE {DUE} AND (lease_until IS NULL OR lease_until <= ? OR lease_owner = ?) "
               f"ORDER BY next_poll LIMIT ?{self.db.skip_locked()}) RETURNING *")
        async with self.db.transaction(lock=False) as conn:
            rows = await rows_of(conn, sql, (owner, iso(until), iso(now), iso(now), owner, limit))
        return sorted((_feed(r) for r in rows), key=lambda f: (iso(f.next_poll) or "", f.id))  # the most overdue first

    async def renew_feeds(self, feed_ids: list[int], owner: str, until: datetime) -> None:
        if not feed_ids:
            return
        marks = ",".join("?" * len(feed_ids))
        async with self.db.transaction(lock=False) as conn:
            await conn.execute(f"UPDATE feeds SET lease_until = ? WHERE lease_owner = ? AND id IN ({marks})",  # noqa: S608
                               (iso(until), owner, *feed_ids))

    async def release_feeds(self, feed_ids: list[int], owner: str) -> None:
        if not feed_ids:
            return
        marks = ",".join("?" * len(feed_ids))
        async with self.db.transaction(lock=False) as conn:
            await conn.execute(
                f"UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ? "  # noqa: S608
                f"AND id IN ({marks})", (owner, *feed_ids))

    async def release_all(self) -> None:
        """Forget every poll and build lease (the single SQLite worker, at start)."""
        async with self.db.transaction(lock=False) as conn:
            await conn.execute("UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL")
            await conn.execute("UPDATE channels SET build_owner = NULL, build_until = NULL "
                               "WHERE build_owner IS NOT NULL")

    # ---- digest builds -------------------------------------------------------------------
    async def claim_build(self, channel_id: int, owner: str, now: datetime, until: datetime) -> bool:
        """Lease building the channel's digest; False while another worker's lease runs."""
        async with self.db.transaction(lock=False) as conn:
            cur = await conn.execute(
                "UPDATE channels SET build_owner = ?, build_until = ? WHERE id = ? "
                "AND (build_until IS NULL OR build_until <= ? OR build_owner = ?)",
                (owner, iso(until), channel_id, iso(now), owner))
            return cur.rowcount == 1

    async def renew_build(self, channel_id: int, owner: str, until: datetime) -> bool:
        async with self.db.transaction(lock=False) as conn:
            cur = await conn.execute("UPDATE channels SET build_until = ? WHERE id = ? AND build_owner = ?",
                                     (iso(until), channel_id, owner))
            return cur.rowcount == 1

    async def release_build(self, channel_id: int, owner: str) -> None:
        async with self.db.transaction(lock=False) as conn:
            await conn.execute("UPDATE channels SET build_owner = NULL, build_until = NULL "
                               "WHERE id = ? AND build_owner = ?", (channel_id, owner))

    # ---- cron digests --------------------------------------------------------------------
    async def advance_anchor(self, channel_id: int, expected: datetime | None, when: datetime) -> bool:
        """Compare-and-set of the schedule anchor: exactly one worker moves it, and fires."""
        async with self.db.transaction(lock=False) as conn:
            cur = await conn.execute(
                "UPDATE channels SET schedule_anchor = ? WHERE id = ? AND schedule_anchor IS NOT DISTINCT FROM ?",
                (iso(when), channel_id, iso(expected)))
            return cur.rowcount == 1

    # ---- named roles (one worker of the fleet does it) -----------------------------------
    async def claim_role(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        """Hold the named role until `until`, unless another worker holds it unexpired."""
        async with self.db.transaction(lock=False) as conn:
            cur = await conn.execute(
                "INSERT INTO leases (name, owner, lease_until) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE "
                "SET owner = excluded.owner, lease_until = excluded.lease_until "
                "WHERE leases.lease_until <= ? OR leases.owner = excluded.owner",
                (name, owner, iso(until), iso(now)))
            return cur.rowcount == 1

    # ---- a fleet-wide request budget (a sliding window of `slots` requests per second) -----------
    async def take_slot(self, bucket: str, slots: int) -> float:
        """Take one of the bucket's slots unused for a second: 0.0, or how long to wait first.
        Times are the database's clock, so workers on hosts with skewed clocks still agree."""
        now = self.db.now_sql()
        async with self.db.transaction(lock=False) as conn:
            if self._seeded.get(bucket) != slots:  # the slots exist once per bucket and size
                await conn.executemany("INSERT INTO rate_slots (bucket, slot, taken) VALUES (?, ?, 0) "
                                       "ON CONFLICT DO NOTHING", [(bucket, n) for n in range(slots)])
                self._seeded[bucket] = slots
            async with conn.execute(
                    f"UPDATE rate_slots SET taken = {now} WHERE bucket = ? AND slot = (SELECT slot FROM rate_slots "  # noqa: S608
                    f"WHERE bucket = ? AND slot < ? AND taken <= {now} - 1.0 ORDER BY taken LIMIT 1"
                    f"{self.db.skip_locked()}) RETURNING slot", (bucket, bucket, slots)) as cur:
                if await cur.fetchone() is not None:
                    return 0.0
            async with conn.execute(f"SELECT MIN(taken) + 1.0 - {now} FROM rate_slots "  # noqa: S608
                                    "WHERE bucket = ? AND slot < ?", (bucket, slots)) as cur:
                row = await cur.fetchone()
        return max(0.005, float(row[0] or 0.0)) if row else 0.05

    async def holders(self, prefix: str, now: datetime) -> list[str]:
        """Unexpired holders of roles whose name starts with `prefix` (e.g. live workers)."""
        rows = await self.db.fetchall("SELECT owner FROM leases WHERE name LIKE ? AND lease_until > ?",
                                      (prefix + "%", iso(now)))
        return sorted(r[0] for r in rows)
