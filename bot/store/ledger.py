"""The delivery ledger: a digest and its delivery rows are written in one transaction
before anything is posted; the sender marks parts sent only after the platform answers.

States of a delivery row: `pending` (in an unsent digest), `sent`, `rolled` (counted in a
digest's "and N more"), `skipped` (existed before the subscription, beyond the backfill).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime

from bot.store.articles import ArticleRow, _article
from bot.store.db import Database, iso, parse_iso


@dataclass(slots=True)
class PendingDigest:
    id: int
    channel_id: int
    kind: str
    payload: dict
    attempts: int
    next_attempt: datetime | None
    sent_parts: dict[int, str]


def owner_alive(owner: str) -> bool:
    """Whether the process named `host:pid` (or `host:pid:token`) still runs (always assumed
    for another host). Only the SQLite backend, whose writers share one machine, asks this."""
    parts = owner.split(":")
    host, pid = (":".join(parts[:-1]), parts[-1]) if len(parts) < 3 else (":".join(parts[:-2]), parts[-2])
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Ledger:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def candidates(self, channel_id: int) -> list[ArticleRow]:
        """Undelivered articles of the channel's baselined subscriptions, newest first. The
        ledger is asked by the entry's article id: SQLite then skips a delivered entry before
        reading its article row (after a first poll that is nearly every row of the table)."""
        feed_ids = self.db.group_concat("DISTINCT e.feed_id")
        rows = await self.db.fetchall(
            f"""
            SELECT a.*, MIN(e.first_seen) AS first_seen, {feed_ids} AS feed_ids,
                   (SELECT COALESCE(f.title, f.url) FROM entries e2 JOIN feeds f ON f.id = e2.feed_id
                     JOIN subscriptions s2 ON s2.feed_id = f.id AND s2.channel_id = ?
                     WHERE e2.article_id = a.id ORDER BY e2.id LIMIT 1) AS feed_title
            FROM subscriptions s
            JOIN entries e ON e.feed_id = s.feed_id
            JOIN articles a ON a.id = e.article_id
            WHERE s.channel_id = ? AND s.baselined = 1
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.channel_id = ? AND d.article_id = e.article_id)
            GROUP BY a.id
            ORDER BY COALESCE(a.published, MIN(e.first_seen)) DESC, a.id DESC
            """, (channel_id, channel_id, channel_id))  # noqa: S608 - a fixed SQL fragment
        return [_article(r) for r in rows]

    async def record_digest(self, channel_id: int, payload: dict, shown: list[int], rolled: list[int],
                            now: datetime, kind: str = "digest",
                            outcomes: list[tuple[int, str, str]] = ()) -> int | None:  # type: ignore[assignment]
        """Write the digest and its delivery rows atomically. Returns None when another
        digest already took any of these articles (nothing is written then). `outcomes` are
        (article id, state, reason) rows for articles the digest decided not to show
        (`filtered`, `merged`): recorded with it, so `why` can answer from the ledger."""
        async with self.db.transaction() as conn:
            ids = shown + rolled + [a for a, _, _ in outcomes]
            if ids:
                marks = ",".join("?" * len(ids))
                async with conn.execute(
                    f"SELECT 1 FROM deliveries WHERE channel_id = ? AND article_id IN ({marks}) LIMIT 1",  # noqa: S608
                    (channel_id, *ids)) as cur:
                    if await cur.fetchone():
                        return None
            async with conn.execute(
                    "INSERT INTO digests (channel_id, kind, created, payload, next_attempt) VALUES (?, ?, ?, ?, ?) "
                    "RETURNING id", (channel_id, kind, iso(now), json.dumps(payload), iso(now))) as cur:
                digest_id = int((await cur.fetchone())[0])
            await conn.executemany(
                "INSERT INTO deliveries (channel_id, article_id, digest_id, state, created) VALUES (?, ?, ?, ?, ?)",
                [(channel_id, a, digest_id, "pending", iso(now)) for a in shown]
                + [(channel_id, a, digest_id, "rolled", iso(now)) for a in rolled])
            await conn.executemany(
                "INSERT INTO deliveries (channel_id, article_id, digest_id, state, created, reason) "
                "VALUES (?, ?, NULL, ?, ?, ?)", [(channel_id, a, state, iso(now), why) for a, state, why in outcomes])
            return digest_id

    async def record_outcomes(self, channel_id: int, outcomes: list[tuple[int, str, str]], now: datetime) -> None:
        """Articles decided without a digest (all filtered or merged): remembered as seen."""
        if not outcomes:
            return
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO deliveries (channel_id, article_id, digest_id, state, created, reason) "
                "VALUES (?, ?, NULL, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(channel_id, a, state, iso(now), why) for a, state, why in outcomes])

    async def pending(self) -> list[PendingDigest]:
        rows = await self.db.fetchall("SELECT * FROM digests WHERE state = 'pending' ORDER BY id")
        result = []
        for row in rows:
            parts = await self.db.fetchall(
                "SELECT part, message_id FROM digest_messages WHERE digest_id = ?", (row["id"],))
            result.append(PendingDigest(
                id=row["id"], channel_id=row["channel_id"], kind=row["kind"], payload=json.loads(row["payload"]),
                attempts=row["attempts"], next_attempt=parse_iso(row["next_attempt"]),
                sent_parts={int(p[0]): p[1] for p in parts}))
        return result

    async def claim(self, digest_id: int, owner: str, now: datetime, until: datetime) -> bool:
        """Lease a pending digest for sending. Another sender's unexpired lease wins; with
        SQLite (one host) a lease held by a process that is gone (a crash) is taken over at
        once, while on PostgreSQL only the lease's time counts (renewed while sending)."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT state, lease_owner, lease_until FROM digests WHERE id = ?",
                                    (digest_id,)) as cur:
                row = await cur.fetchone()
            if row is None or row[0] != "pending":
                return False
            held_by, held_until = row[1], parse_iso(row[2])
            if held_by and held_by != owner and held_until and held_until > now \
                    and (not self.db.single_host or owner_alive(held_by)):
                return False
            await conn.execute("UPDATE digests SET lease_owner = ?, lease_until = ? WHERE id = ?",
                               (owner, iso(until), digest_id))
            return True

    async def renew(self, digest_id: int, owner: str, until: datetime) -> bool:
        """Extend our lease while sending; False when it was lost (lapsed and taken over)."""
        async with self.db.transaction(lock=False) as conn:
            cur = await conn.execute(
                "UPDATE digests SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'pending'",
                (iso(until), digest_id, owner))
            return cur.rowcount == 1

    async def mark_part_sent(self, digest_id: int, part: int, message_id: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO digest_messages (digest_id, part, message_id, sent_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (digest_id, part, message_id, iso(now)))

    async def mark_sent(self, digest_id: int, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE digests SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                               (iso(now), digest_id))
            await conn.execute(
                "UPDATE deliveries SET state = 'sent', sent_at = ? WHERE digest_id = ? AND state = 'pending'",
                (iso(now), digest_id))

    async def mark_retry(self, digest_id: int, error: str, next_attempt: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE digests SET attempts = attempts + 1, last_error = ?, next_attempt = ?, lease_owner = NULL "
                "WHERE id = ?", (error, iso(next_attempt), digest_id))

    async def mark_failed(self, digest_id: int, error: str) -> None:
        """Set a digest aside (kept for audit; its delivery rows stay pending)."""
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE digests SET state = 'failed', last_error = ? WHERE id = ?", (error, digest_id))

    async def stats(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT state, COUNT(*) FROM deliveries GROUP BY state")
        return {r[0]: int(r[1]) for r in rows}
