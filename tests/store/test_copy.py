"""`newsdigest db copy`: a used SQLite store moves to PostgreSQL with nothing re-delivered."""

from __future__ import annotations

import asyncio
import sqlite3

from bot.store import Store
from bot.store.db import MIGRATIONS
from tests.conftest import Cli, write_config
from tests.support.feedserver import make_items, rss

TABLES = ("feeds", "articles", "entries", "summaries", "channels", "subscriptions", "digests", "digest_messages",
          "deliveries", "config_applied", "filters")


def sqlite_counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


async def pg_counts(url: str) -> dict[str, int]:
    async with Store(url) as store:
        return {t: int(await store.db.scalar(f"SELECT COUNT(*) FROM {t}")) for t in TABLES}


def titles(result: object) -> list[str]:
    return [item["title"] for digest in result for item in digest["items"]]  # type: ignore[union-attr]


def test_db_copy_moves_a_used_store_and_nothing_is_delivered_again(workdir, feed_server, postgres_url) -> None:
    cli = Cli(workdir, write_config(workdir / "c.toml", '[[channels]]\nref = "console"\nbackfill = 50\n'))
    for name in ("a", "b"):
        feed_server.set(f"/{name}", body=rss(make_items(1 if name == "a" else 100, 6, base=f"https://{name}.example")))
        assert cli("feeds", "add", feed_server.url(f"/{name}")).returncode == 0
    assert cli("filters", "add", "--exclude", "zzz-never").returncode == 0
    first = cli.json("digest", "--json")
    assert len(titles(first)) == 10  # max_items: the rest is counted in "…and N more"
    before = sqlite_counts(cli.db)
    assert before["deliveries"] == 12 and before["digest_messages"] >= 1

    copied = cli.json("db", "copy", "--to", postgres_url, "--json")
    assert copied["copied"]["articles"] == before["articles"] and copied["to"] == postgres_url
    assert asyncio.run(pg_counts(postgres_url)) == before
    again = cli("db", "copy", "--to", postgres_url)
    assert again.returncode == 2 and "not empty" in again.stderr.decode()

    on_pg = Cli(workdir, cli.config)
    on_pg.db = postgres_url  # type: ignore[assignment] - the CLI's --db takes a URL too
    assert titles(on_pg.json("digest", "--json")) == []  # already delivered stays delivered
    feed_server.set("/a", body=rss(make_items(1, 7, base="https://a.example")))  # one new item
    assert titles(on_pg.json("digest", "--json")) == ["Story number 7 about topic 10"]

    async def ids() -> tuple[int, int]:
        async with Store(postgres_url) as store:
            return (int(await store.db.scalar("SELECT MAX(id) FROM articles")),
                    await store.db.schema_version())

    newest, version = asyncio.run(ids())
    assert newest == before["articles"] + 1 and version == len(MIGRATIONS)  # the sequence went on after the copy
