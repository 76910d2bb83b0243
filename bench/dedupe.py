"""Dedupe lookup cost at 1,000,000 stored articles, through the real schema and code (bot.store).

    python bench/dedupe.py [--articles 1000000] [--rounds 200]

Builds a database with the production migrations, bulk-loads N articles spread over 2,000
feeds (one entry each), then times, per feed-sized batch of 50 items:
 - known_keys: "which of these entry keys has this feed stored?" (every poll asks this);
 - store_entries: one poll's write with 40 known items, 5 new ones carrying the canonical
   URL of an article another feed already has (matched, not duplicated) and 5 new ones,
   in one transaction (commit with synchronous=FULL included);
and reports the cost per item. Target: under 1 ms per item. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.store import NewEntry, Store  # noqa: E402

FEEDS = 2000
BATCH = 50
NOW = datetime(2026, 1, 5, tzinfo=UTC)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def url(n: int) -> str:
    return f"https://site{n % FEEDS}.example/news/{n}"


async def create(path: Path) -> None:
    store = Store(path)
    await store.open()  # the production schema and indexes
    await store.close()


def bulk_load(path: Path, articles: int) -> float:
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")  # loading only; the timed part runs with the app's settings
    now = NOW.isoformat()
    db.executemany("INSERT INTO feeds (id, url, created) VALUES (?, ?, ?)",
                   [(f + 1, f"https://site{f}.example/feed", now) for f in range(FEEDS)])
    step = 50_000
    for start in range(0, articles, step):
        rows = range(start, min(start + step, articles))
        db.executemany(
            "INSERT INTO articles (id, canonical_url, url, title, published, fetched, content_hash, text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(n + 1, url(n), url(n), f"Story {n}", now, now, digest(f"story {n}"), f"Text of story {n}.")
             for n in rows])
        db.executemany("INSERT INTO entries (feed_id, entry_key, article_id, first_seen) VALUES (?, ?, ?, ?)",
                       [(n % FEEDS + 1, f"g:site-{n}", n + 1, now) for n in rows])
        db.commit()
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return time.perf_counter() - started


def known_numbers(feed: int, articles: int, count: int, rng: random.Random) -> list[int]:
    """Article numbers that belong to `feed` (n % FEEDS == feed)."""
    per_feed = articles // FEEDS
    return [feed + FEEDS * k for k in rng.sample(range(per_feed), count)]


def entry(n: int, key: str, link: str) -> NewEntry:
    text = f"Body of story {n}. " * 15  # over 200 characters: the content hash is consulted too
    return NewEntry(key=key, canonical_url=link, url=link, title=f"Story {n}", published=NOW, text=text,
                    content_hash=digest(text), is_teaser=False)


async def measure(path: Path, articles: int, rounds: int) -> dict[str, list[float]]:
    store = Store(path)
    await store.open()
    rng = random.Random(7)
    times: dict[str, list[float]] = {"known_keys": [], "store_entries": []}
    fresh = articles + 10
    try:
        for _ in range(rounds):
            feed = rng.randrange(FEEDS)
            numbers = known_numbers(feed, articles, BATCH, rng)
            keys = [f"g:site-{n}" for n in numbers]
            started = time.perf_counter()
            found = await store.articles.known_keys(feed + 1, keys)
            times["known_keys"].append((time.perf_counter() - started) / BATCH)
            assert len(found) == BATCH
            other = rng.randrange(articles)  # an article another feed already has
            batch = [entry(n, f"g:site-{n}", url(n)) for n in numbers[:40]]
            batch += [entry(other + k, f"g:copy-{fresh}-{k}", url(other + k)) for k in range(5)]
            batch += [entry(fresh + k, f"g:new-{fresh + k}", f"https://fresh.example/{fresh + k}") for k in range(5)]
            fresh += 10
            started = time.perf_counter()
            new = await store.articles.store_entries(feed + 1, batch, NOW, {})
            times["store_entries"].append((time.perf_counter() - started) / BATCH)
            assert new == 10, new  # 40 known skipped, 5 linked to existing articles, 5 created
        created = await store.db.scalar("SELECT COUNT(*) FROM articles")
        assert created == articles + 5 * rounds, created  # the cross-feed copies made no new article
    finally:
        await store.close()
    return times


def report(name: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"{name:14} mean {statistics.mean(ms):.4f} ms/item, median {statistics.median(ms):.4f}, p95 {p95:.4f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nd-dedupe-") as tmp:
        path = Path(tmp) / "dedupe.db"
        asyncio.run(create(path))
        load = bulk_load(path, args.articles)
        size = path.stat().st_size / 1e6
        print(f"{args.articles:,} articles in {FEEDS:,} feeds loaded in {load:.0f} s ({size:.0f} MB)")
        times = asyncio.run(measure(path, args.articles, args.rounds))
    for name, values in times.items():
        print(report(name, values))
    worst = max(statistics.mean(v) for v in times.values()) * 1000
    print(f"target < 1 ms per item: {'met' if worst < 1 else 'MISSED'} ({worst:.3f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
