"""Many workers, one PostgreSQL store: three `newsdigest run` processes share a few hundred feeds
and a few dozen Discord channels on two shards; one is SIGKILLed at a random moment and started
again. By the fake's own record every served article reaches each subscribed channel exactly
once, more than one worker polled, each cron digest fired once per minute, one worker registered
the commands, each shard had one session at a time, and the fleet stayed under 50 REST requests
in every second. A second test restarts PostgreSQL under running workers.

`FLEET_SEED=<n>` replays a run; the seed is in every failure message.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

import pytest

from tests.reliability.fleet import (
    Feeds,
    Worker,
    config_text,
    expected,
    query,
    received,
    sharded_fake,
    wait_until,
    worker_env,
)
from tests.store.pg import Cluster, _bindir, _missing, new_database
from tests.support.feedserver import ThreadedFeedServer

FEEDS = 240
GUILDS, PER_GUILD = 4, 6  # 24 channels, two servers on each shard
WAVES = 3


@pytest.fixture
def feed_server():
    server = ThreadedFeedServer().start()
    yield server
    server.stop()


def layout(channels: list[str], rng: random.Random) -> dict[int, list[str]]:
    """Each feed goes to two channels; every channel gets twenty feeds."""
    return {f: sorted({channels[f % len(channels)], channels[(f * 7 + 3) % len(channels)]}) for f in range(FEEDS)}


async def start_fleet(tmp: Path, url: str, fake, feeds: Feeds, subs, cron, shard_sets, poll: float) -> list[Worker]:  # noqa: ANN001
    env = worker_env(url, fake.token)
    workers = []
    for n, shards in enumerate(shard_sets):
        config = tmp / f"w{n}.toml"
        config.write_text(config_text(fake, feeds, subs, cron, shards, poll))
        workers.append(Worker(tmp, f"w{n}", config, env))
    for worker in workers:
        worker.start()
    return workers


async def baselined(url: str) -> bool:
    rows = await query(url, "SELECT COUNT(*) FILTER (WHERE baselined = 0), COUNT(*) FROM subscriptions")
    return rows[0][1] > 0 and rows[0][0] == 0


async def test_three_workers_two_shards_one_killed(tmp_path, feed_server, postgres_url) -> None:
    seed = int(os.environ.get("FLEET_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    ctx = f"FLEET_SEED={seed}"
    fake = await sharded_fake(GUILDS, PER_GUILD).start()
    feeds = Feeds(feed_server, FEEDS)
    for f in range(FEEDS):
        feeds.publish(f, [f * 100 + 1])  # what exists before: baselined away (backfill 0)
    feeds.baseline = {n for numbers in feeds.served.values() for n in numbers}
    subs = layout(fake.channel_ids, rng)
    cron = set(fake.channel_ids[:2])
    workers = await start_fleet(tmp_path, postgres_url, fake, feeds, subs, cron, [[0], [1], []], 3)
    try:
        await wait_until(lambda: baselined(postgres_url), 120, f"every subscription baselined ({ctx})", workers)
        victim = rng.randrange(len(workers))
        for wave in range(WAVES):
            for f in range(wave % 2, FEEDS, 2):  # half the feeds get a new item each wave
                feeds.publish(f, [f * 100 + 2 + wave])
            if wave == 1:  # somewhere in the middle of polling, building and posting
                await asyncio.sleep(rng.uniform(0.2, 4.0))
                workers[victim].kill()
                await asyncio.sleep(rng.uniform(0.5, 2.0))
                workers[victim].start()
            await asyncio.sleep(rng.uniform(2.0, 4.0))
        want = expected(feeds, subs)

        async def all_delivered() -> bool:
            got = received(fake)
            return all(want[c] <= set(got[c]) for c in want)

        await wait_until(all_delivered, 150, f"every article on every channel ({ctx})", workers)
        await asyncio.sleep(2)  # anything posted twice would arrive now
        got = received(fake)
        for channel, items in want.items():
            extra = {n: k for n, k in got[channel].items() if k != 1 or n not in items}
            assert not extra, f"{ctx}: channel {channel} got {extra} (count ≠ 1 or not served)"
        polled = [w.name for w in workers if "new item(s)" in w.log()]
        print(f"{ctx}: killed {workers[victim].name}; {sum(len(v) for v in want.values())} deliveries to "
              f"{len(want)} channels; polled by {polled}; max {fake.max_rest_per_second()} REST/s")
        assert len(polled) >= 2, f"{ctx}: only {polled} polled"
        fires = await query(postgres_url, "SELECT c.external_id, left(d.created, 16) AS minute, COUNT(*) AS n "
                            "FROM digests d JOIN channels c ON c.id = d.channel_id WHERE c.external_id = ANY($1) "
                            "AND d.kind = 'digest' GROUP BY 1, 2", sorted(cron))
        assert fires and all(r["n"] == 1 for r in fires), f"{ctx}: cron digests {[dict(r) for r in fires]}"
        assert {r["external_id"] for r in fires} == cron
        assert len(fake.calls("commands")) == GUILDS, f"{ctx}: commands registered more than once"
        assert fake.shard_conflicts == [], ctx
        assert sorted({tuple(p.get("shard") or ()) for p in fake.identify_payloads}) == [(0, 2), (1, 2)], ctx
        assert fake.max_rest_per_second() <= 50, f"{ctx}: {fake.max_rest_per_second()} requests in one second"
        assert fake.violations == [], ctx
        for guild in list(fake.guilds)[:2]:  # one server on each shard: its holder answers from the shared store
            channel = fake.guilds[guild][0]
            answer = await fake.invoke("feeds", channel_id=channel, guild_id=guild)
            await answer.wait_answered(15)
            mine = [f for f, chans in subs.items() if channel in chans]
            assert all(f"Feed {f}" in answer.final_text() for f in mine), f"{ctx}: {answer.final_text()[:500]}"
        pending = await query(postgres_url, "SELECT COUNT(*) FROM digests WHERE state != 'sent'")
        assert pending[0][0] == 0, ctx
        for worker in workers:
            assert await worker.terminate() == 0, f"{ctx}: {worker.name}\n{worker.log()[-2000:]}"
    finally:
        for worker in workers:
            worker.kill()
        await fake.stop()


@pytest.fixture(scope="module")
def own_cluster():
    """A cluster this module may restart (the CI server is shared with other tests)."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        _missing("the asyncpg package is not installed")
    bindir = _bindir()
    if bindir is None:
        _missing("no initdb under `pg_config --bindir` (install postgresql-15)")
    cluster = Cluster(bindir).start()  # type: ignore[arg-type]
    yield cluster
    cluster.stop()


async def test_postgres_restarted_under_running_workers(tmp_path, feed_server, own_cluster) -> None:
    url = new_database(own_cluster.url)
    fake = await sharded_fake(2, 2).start()
    feeds = Feeds(feed_server, 20)
    for f in range(20):
        feeds.publish(f, [f * 100 + 1])
    feeds.baseline = {n for numbers in feeds.served.values() for n in numbers}
    subs = {f: [fake.channel_ids[f % len(fake.channel_ids)]] for f in range(20)}
    workers = await start_fleet(tmp_path, url, fake, feeds, subs, set(), [[0, 1], []], 1)
    try:
        await wait_until(lambda: baselined(url), 90, "every subscription baselined", workers)
        for f in range(20):
            feeds.publish(f, [f * 100 + 2])
        await asyncio.sleep(0.5)
        await asyncio.to_thread(own_cluster.pg_ctl, "restart")  # cuts every connection, mid-work
        for f in range(20):
            feeds.publish(f, [f * 100 + 3])
        want = expected(feeds, subs)

        async def all_delivered() -> bool:
            got = received(fake)
            return all(want[c] <= set(got[c]) for c in want)

        await wait_until(all_delivered, 90, "every article delivered after the restart", workers)
        got = received(fake)
        assert all(k == 1 for c in want for k in got[c].values()), got
        async def all_said_so() -> bool:  # a worker busy starting its shards notices at its next query
            return all("database connection restored" in w.log() for w in workers)

        await wait_until(all_said_so, 30, "every worker reconnected", workers)
        logs = [w.log() for w in workers]
        assert all("database connection lost, reconnecting" in log for log in logs), logs[0][-2000:]
        assert all("Traceback" not in log for log in logs), next(log for log in logs if "Traceback" in log)[-3000:]
        for worker in workers:
            assert await worker.terminate() == 0, worker.log()[-2000:]
    finally:
        for worker in workers:
            worker.kill()
        await fake.stop()
