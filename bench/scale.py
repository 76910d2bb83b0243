"""Scale: one process on SQLite, then 1, 2 and 4 workers on PostgreSQL, on the same work.

    python bench/scale.py [--feeds 10000] [--items 20] [--channels 1000] [--workers 1,2,4]
                          [--worker-processes N] [--skip-sqlite] [--skip-postgres] [--skip-digests]

A local aiohttp server (in this process, in a thread) serves pre-built feeds with an ETag and
answers 304 to a matching conditional request. The store is filled directly (feeds, channels,
each feed subscribed by one channel), so command start-up does not include a config of 10,000
feeds.

(a) SQLite, one process: `newsdigest ingest` twice as whole subprocesses (the first poll: wall
and peak PSS of the process group, sampled every 20 ms; the second, all 304: wall and CPU of the
process and its children), then building and sending every channel's digest through the console
adapter (to /dev/null) in a driver subprocess.
(b) PostgreSQL (NEWSDIGEST_BENCH_POSTGRES_URL, else a throwaway cluster from `pg_config --bindir`):
for each worker count a fresh database with the same feeds and channels, N `newsdigest run`
workers (console adapter), and the rates of the first poll round (feeds polled per second) and
of the digests that follow (digests sent per second), as ratios to one worker, and the CPU each
party used per feed until every feed was polled (the workers with their start-up, PostgreSQL,
and this process: the feed server and the sampling, on one kept connection). It also counts the
digests built by the time every feed was polled, and in all. With
`--worker-processes N` each worker parses and summarizes in N processes (`[bot]
worker_processes`; 0: in its own process); unset, each has one per core. Digests use the
default summarizer ("news", 3 sentences).
Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from pss import group_memory  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
DRIVER = r"""
import asyncio, io, json, sys, time
from adapters.console import ConsoleAdapter
from bot.app import App
from bot.config import load_settings
from bot.outbox import Sender
async def main():
    settings = load_settings(sys.argv[1])
    settings = settings.replace(bot=settings.bot.replace(database=sys.argv[2]))
    app = await App(settings).open()
    try:
        started = time.perf_counter()
        digests = await app.make_digests()
        built = time.perf_counter() - started
        sender = Sender(app.store, {"console": ConsoleAdapter(stream=io.StringIO())}, app.clock)
        sent = await sender.send_due()
        print(json.dumps({"digests": len(digests), "sent": sent, "build": built,
                          "total": time.perf_counter() - started}))
    finally:
        await app.close()
asyncio.run(main())
"""


def feed_bytes(feed: int, items: int) -> bytes:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    parts = [f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>']
    for n in range(items):
        body = " ".join(f"Sentence {s} of item {n} of feed {feed} reports on topic {(feed * 31 + n * 7 + s) % 97}."
                        for s in range(8))
        parts.append(f"<item><title>Feed {feed} item {n} on topic {(feed + n) % 89}</title>"
                     f"<link>https://f{feed}.example/{n}</link><guid>f{feed}-{n}</guid>"
                     f"<pubDate>{format_datetime(when + timedelta(minutes=n))}</pubDate>"
                     f"<description>{body}</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


class FeedServer:
    def __init__(self, feeds: int, items: int) -> None:
        self.bodies = {f"/f{i}": feed_bytes(i, items) for i in range(feeds)}
        self.etags = {p: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for p, b in self.bodies.items()}  # noqa: S324
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = self.bodies.get(request.path)
        if body is None:
            return web.Response(status=404)
        etag = self.etags[request.path]
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    def start(self) -> FeedServer:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_get("/{tail:.*}", self.handle)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(30)
        return self


def config(path: Path, adapters: str = "console", worker_processes: int | None = None) -> Path:
    """The default summarizer and digest settings; `worker_processes` as `[bot] worker_processes`."""
    processes = "" if worker_processes is None else f"worker_processes = {worker_processes}\n"
    path.write_text(f'[bot]\npoll_interval = 3600\nadapters = ["{adapters}"]\nlog_level = "WARNING"\n{processes}'
                    '[fetch]\nallow_private_addresses = true\nallowed_ports = []\nfull_text = "never"\n'
                    "per_host_concurrency = 64\n")
    return path


async def fill(target: str, server: FeedServer, feeds: int, channels: int) -> None:
    from bot.store import Store

    now = datetime.now(UTC).isoformat(timespec="seconds")
    async with Store(target) as store, store.db.transaction() as conn:
        await conn.executemany("INSERT INTO feeds (id, url, created, next_poll) VALUES (?, ?, ?, ?)",
                               [(i + 1, f"http://127.0.0.1:{server.port}/f{i}", now, now) for i in range(feeds)])
        await conn.executemany(
            "INSERT INTO channels (id, ref, platform, external_id, created, schedule_anchor, schedule) "
            "VALUES (?, ?, 'console', ?, ?, ?, 'immediate')",
            [(c + 1, f"console:c{c}", f"c{c}", now, now) for c in range(channels)])
        await conn.executemany("INSERT INTO subscriptions (channel_id, feed_id, created) VALUES (?, ?, ?)",
                               [(i % channels + 1, i + 1, now) for i in range(feeds)])
        if store.db.dialect == "postgresql":
            for table in ("feeds", "channels"):
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                   f"(SELECT MAX(id) FROM {table}))")


def timed(cmd: list[str]) -> dict[str, float]:
    """Wall, CPU (process and children) and peak PSS of the process group."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, group_memory(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "peak_mb": peak / 2 ** 20}


def sqlite_round(server: FeedServer, args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    db = tmp / "scale.db"
    asyncio.run(fill(str(db), server, args.feeds, args.channels))
    cfg = config(tmp / "sqlite.toml")
    base = [sys.executable, "-m", "bot", "--config", str(cfg), "--db", str(db), "ingest"]
    first = timed(base)
    second = timed(base)
    result: dict[str, object] = {"first_poll": first, "unchanged_poll": second}
    if not args.skip_digests:
        out = subprocess.run([sys.executable, "-c", DRIVER, str(cfg), str(db)], env=ENV, capture_output=True,
                             check=True)
        result["digests"] = json.loads(out.stdout)
    return result


def cpu_seconds(wanted) -> float:  # noqa: ANN001 - wanted(comm, pgrp) -> bool
    """User + system CPU of the processes `wanted` picks, their reaped children included."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        comm, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if wanted(comm, int(fields[2])):
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


def cpu_by_party(worker_groups: list[int]) -> dict[str, float]:
    """CPU seconds so far of the workers (their process groups), of PostgreSQL's processes, and of
    this process (the feed server and the sampling)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {"workers": cpu_seconds(lambda comm, pgrp: pgrp in worker_groups),
            "postgres": cpu_seconds(lambda comm, pgrp: comm == "postgres"),
            "bench": own.ru_utime + own.ru_stime}


def pg_round(server: FeedServer, args: argparse.Namespace, tmp: Path, url: str, workers: int) -> dict[str, float]:
    asyncio.run(fill(url, server, args.feeds, args.channels))
    cfg = config(tmp / "pg.toml", worker_processes=args.worker_processes)
    env = {**ENV, "NEWSDIGEST_DATABASE_URL": url}
    before = cpu_by_party([])
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg), "run"], env=env, cwd=tmp,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
             for _ in range(workers)]
    polled_at: list[tuple[float, int]] = []
    sent_at: list[tuple[float, int]] = []
    poll_cpu: dict[str, float] = {}
    counts: dict[str, int] = {}

    async def watch() -> None:
        """One connection for all the sampling (a new one per sample would cost PostgreSQL a fork)."""
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                polled = await conn.fetchval("SELECT COUNT(*) FROM feeds WHERE last_success IS NOT NULL")
                sent = await conn.fetchval("SELECT COUNT(DISTINCT channel_id) FROM digests WHERE state = 'sent'")
                now = time.monotonic()
                polled_at.append((now, polled))
                sent_at.append((now, sent))
                if polled >= args.feeds and not poll_cpu:
                    after = cpu_by_party([p.pid for p in procs])
                    poll_cpu.update({k: after[k] - before[k] for k in after})
                    poll_cpu["wall"] = now - started
                    counts["digests_built_while_polling"] = await conn.fetchval("SELECT COUNT(*) FROM digests")
                if polled >= args.feeds and sent >= args.channels:
                    counts["digests_built"] = await conn.fetchval("SELECT COUNT(*) FROM digests")
                    break
                await asyncio.sleep(0.25)
        finally:
            await conn.close()

    try:
        asyncio.run(watch())
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # CPU from the workers' start until every feed was polled: per feed in ms, and how many of
    # the machine's cores the parties kept busy together over that time
    wall = poll_cpu.pop("wall", float("nan"))
    per_feed = {f"poll_cpu_ms_per_feed_{k}": 1000 * v / args.feeds for k, v in poll_cpu.items()}
    per_feed["poll_cores_busy"] = sum(poll_cpu.values()) / wall if poll_cpu else float("nan")
    return {"feeds_per_s": rate(polled_at, args.feeds), "digests_per_s": rate(sent_at, args.channels), **per_feed,
            **counts}


def rate(samples: list[tuple[float, int]], total: int) -> float:
    """Items per second between the first sample that saw progress and the one that saw all."""
    start = next((t for t, n in samples if n > 0), None)
    end = next((t for t, n in samples if n >= total), None)
    if start is None or end is None:
        return float("nan")
    done = next(n for t, n in samples if t == start)
    return (total - done) / max(end - start, 1e-3)


def postgres_url(tmp: Path):  # noqa: ANN201 - (admin url, cluster or None)
    given = os.environ.get("NEWSDIGEST_BENCH_POSTGRES_URL")
    if given:
        return given, None
    from tests.store.pg import Cluster, _bindir

    bindir = _bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL: set NEWSDIGEST_BENCH_POSTGRES_URL or install postgresql-15")
    cluster = Cluster(bindir).start()
    return cluster.url, cluster


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--feeds", type=int, default=10_000)
    p.add_argument("--items", type=int, default=20)
    p.add_argument("--channels", type=int, default=1_000)
    p.add_argument("--workers", default="1,2,4")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--worker-processes", type=int, default=None,
                   help="(b) [bot] worker_processes of each worker (default: unset, one per core)")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument("--skip-digests", action="store_true", help="(a) without building and sending the digests")
    args = p.parse_args()
    server = FeedServer(args.feeds, args.items).start()
    results: dict[str, object] = {"feeds": args.feeds, "items": args.items, "channels": args.channels,
                                  "worker_processes": args.worker_processes, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if not args.skip_sqlite:
            results["sqlite"] = sqlite_round(server, args, tmp)
            print(json.dumps(results["sqlite"], indent=2), flush=True)
        if not args.skip_postgres:
            from tests.store.pg import new_database

            admin, cluster = postgres_url(tmp)
            try:
                rounds = {}
                for n in (int(w) for w in args.workers.split(",")):
                    rounds[n] = pg_round(server, args, tmp, new_database(admin), n)
                    print(n, "worker(s):", rounds[n], flush=True)
                one = rounds.get(1)
                results["postgres"] = {n: {**r, "poll_ratio": r["feeds_per_s"] / one["feeds_per_s"] if one else None,
                                           "digest_ratio": r["digests_per_s"] / one["digests_per_s"] if one else None}
                                       for n, r in rounds.items()}
            finally:
                if cluster is not None:
                    cluster.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
