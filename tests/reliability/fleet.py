"""Helpers for the fleet tests: `newsdigest run` workers on one PostgreSQL database, a sharded
fake Discord, many feeds on a local server, and a look into the shared ledger."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import asyncpg

from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.gateway import shard_of
from tests.reliability.items import WORDS

REPO = Path(__file__).resolve().parents[2]
ITEM = re.compile(r"\bItem(\d+)\b")


def title_for(n: int) -> str:
    """Three words, the middle one unique per item: no two items read as one story."""
    k = len(WORDS)
    return f"Item{n} {WORDS[n % k]}{WORDS[n // k % k]}{WORDS[n // k // k % k]} report"


def feed_xml(feed: int, numbers: list[int]) -> bytes:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed {feed}</title>']
    for n in numbers:
        rng = random.Random(n)
        body = " ".join(f"Sentence {s} about {' '.join(rng.sample(WORDS, 6))} in item {n}." for s in range(10))
        parts.append(f"<item><title>{title_for(n)}</title><link>https://feed{feed}.example/item/{n}</link>"
                     f'<guid isPermaLink="false">item-{n}</guid>'
                     f"<pubDate>{format_datetime(when + timedelta(minutes=n))}</pubDate>"
                     f"<description>{body}</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def guild_ids(count: int) -> list[str]:
    """Server ids that alternate between the two shards: (id >> 22) % 2 = 1, 0, 1, 0 …"""
    ids = [str(((k + 1) << 22) + 4321 + (1 << 55)) for k in range(count)]
    assert {shard_of(g, 2) for g in ids} == {0, 1}
    return ids


def sharded_fake(guilds: int, per_guild: int) -> FakeDiscord:
    layout = {g: tuple(str(10 ** 17 + n * 100 + i) for i in range(per_guild)) for n, g in enumerate(guild_ids(guilds))}
    return FakeDiscord(guilds=layout, shards=2)


class Worker:
    """One `newsdigest run` in its own process group; each run's stderr in its own file."""

    def __init__(self, tmp: Path, name: str, config: Path, env: dict[str, str]) -> None:
        self.tmp, self.name, self.config, self.env = tmp, name, config, env
        self.proc: subprocess.Popen | None = None
        self.runs: list[Path] = []

    def start(self) -> None:
        err = self.tmp / f"{self.name}-run{len(self.runs)}.err"
        self.runs.append(err)
        with err.open("wb") as e:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(self.config), "run"],
                                         cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=e, env=self.env,
                                         start_new_session=True)

    def kill(self) -> None:
        """A crash: SIGKILL to the worker, its fork server and parse processes at once."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    async def terminate(self) -> int | None:
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(10)

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.runs if p.exists())


def worker_env(url: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "NEWSDIGEST_"))}
    env.update(PYTHONPATH=str(REPO), DISCORD_TOKEN=token, NEWSDIGEST_DATABASE_URL=url)
    return env


@dataclass
class Feeds:
    """Feeds on the local server; item numbers are unique across all feeds."""

    server: Any
    count: int
    served: dict[int, list[int]] = field(default_factory=dict)
    baseline: set[int] = field(default_factory=set)

    def publish(self, feed: int, numbers: list[int]) -> None:
        self.served[feed] = self.served.get(feed, []) + numbers
        self.server.set(f"/f{feed}", body=feed_xml(feed, self.served[feed]))

    def url(self, feed: int) -> str:
        return self.server.url(f"/f{feed}")

    def fresh(self, feed: int) -> list[int]:
        return [n for n in self.served.get(feed, []) if n not in self.baseline]


def config_text(fake: FakeDiscord, feeds: Feeds, subscribers: dict[int, list[str]], cron: set[str],
                shard_ids: list[int], poll_interval: float) -> str:
    channels = "".join(f'[[channels]]\nref = "discord:{c}"\n' + ('schedule = "* * * * *"\n' if c in cron else "")
                       for c in fake.channel_ids)
    subs = "".join(f'[[feeds]]\nurl = "{feeds.url(f)}"\nchannels = {json.dumps([f"discord:{c}" for c in chans])}\n'
                   for f, chans in subscribers.items())
    return (f'[bot]\npoll_interval = {poll_interval}\nlease_seconds = 6\nadapters = ["discord"]\n'
            '[fetch]\nallow_private_addresses = true\nallowed_ports = []\nfull_text = "never"\n'
            '[summary]\nalgorithm = "luhn"\nsentences = 1\n'
            '[digest]\nmax_items = 200\nbackfill = 0\nschedule = "immediate"\ntimezone = "UTC"\n'
            f'[discord]\napi_base_url = "{fake.base_url}"\ngateway_url = "{fake.gateway_url}"\n'
            f"guild_ids = [{', '.join(fake.guilds)}]\nshard_count = 2\nshard_ids = {shard_ids}\n"
            f"rest_per_second = 45\n{channels}{subs}")


def received(fake: FakeDiscord) -> dict[str, Counter]:
    """Per channel: how often each item was shown, by the fake's own record."""
    out: dict[str, Counter] = {}
    for channel in fake.channel_ids:
        shown: Counter = Counter()
        for post in fake.posted(channel):
            for embed in post.body.get("embeds") or []:
                match = ITEM.search(embed.get("title") or "")
                if match:
                    shown[int(match.group(1))] += 1
        out[channel] = shown
    return out


def expected(feeds: Feeds, subscribers: dict[int, list[str]]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for feed, chans in subscribers.items():
        for channel in chans:
            out.setdefault(channel, set()).update(feeds.fresh(feed))
    return out


async def query(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def wait_until(check, timeout: float, what: str, workers: list[Worker]) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await check():
                return
        except (OSError, asyncpg.PostgresError):
            pass
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.name}\n{w.log()[-3000:]}" for w in workers)
            raise AssertionError(f"{what} not reached in {timeout:.0f} s\n{logs}")
        await asyncio.sleep(0.25)
