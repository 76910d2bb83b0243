"""Ingest load: 500 feeds × 50 items on a local server, newsdigest against `reader`, side by side.

    python bench/ingest.py [--feeds 500] [--items 50] [--variant clean|faulty] [--reader-workers 1]

A local aiohttp server (in this process, on 100 loopback addresses 127.0.0.2-101, so
per-host politeness works as it would across real hosts) serves pre-built feed bytes with
ETag and Last-Modified, answering 304 to a matching conditional request. The `faulty`
variant makes one feed in 20 slow (3 s), one in 20 answer 500 and one in 50 serve bytes
that are not a feed.

Both contenders run as whole subprocesses (start-up included), each in its own process
group whose summed PSS is sampled every 20 ms, so our worker processes count against us:
 - newsdigest: `feeds import feeds.opml`, then `ingest` twice (the second is all 304),
   then `digest --dry-run` (counts how many summaries a first digest computes); the same
   polls also run in a small driver that times `App.ingest()` alone (no start-up);
 - reader (pip install reader sgmllib3k): add the same feeds, then one process per poll
   running `update_feeds(scheduled=False)`, timed whole and inside.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
HOSTS = 100
LAST_MODIFIED = "Mon, 05 Jan 2026 07:00:00 GMT"
READER_SCRIPT = r"""
import json, sys, time
from reader import make_reader
db, action = sys.argv[1], sys.argv[2]
reader = make_reader(db)
if action == "add":
    for url in open(sys.argv[3]).read().split():
        reader.add_feed(url, exist_ok=True)
else:
    started = time.perf_counter()
    errors = sum(1 for r in reader.update_feeds_iter(scheduled=False, workers=int(sys.argv[3]))
                 if isinstance(r.value, Exception))
    print(json.dumps({"inner": time.perf_counter() - started, "errors": errors,
                      "entries": reader.get_entry_counts().total}))
"""
OURS_SCRIPT = r"""
import asyncio, json, os, sys, time
from bot.app import App
from bot.config import load_settings
from bot.workers import Workers

async def main():
    settings = load_settings(sys.argv[1])
    app = App(settings, sys.argv[2], workers=Workers(os.cpu_count() or 1))  # as `ingest` does for 20+ feeds
    await app.open()
    started = time.perf_counter()
    outcomes = await app.ingest()
    inner = time.perf_counter() - started
    await app.close()
    print(json.dumps({"inner": inner, "new": sum(o.new for o in outcomes),
                      "errors": sum(1 for o in outcomes if o.error)}))

if __name__ == "__main__":
    asyncio.run(main())
"""


# ---- the feeds ------------------------------------------------------------------------
VOCAB = ("harbour ferry solar library robot river volunteer council budget school bridge museum orchard railway "
         "bakery stadium glacier vineyard lighthouse market theatre clinic canal festival tunnel meadow quarry "
         "observatory aquarium monastery windmill tramway archive garden brewery airport bicycle factory harvest "
         "election minister strike court drought flood vaccine satellite startup merger tariff").split()


def headline(feed: int, n: int) -> str:
    """Six words drawn per item, so stories from different feeds are rarely 'the same story'."""
    rng = random.Random(feed * 100_003 + n)
    return " ".join(rng.sample(VOCAB, 6)).capitalize() + f" ({feed}.{n})"


def feed_bytes(feed: int, items: int) -> bytes:
    when = datetime(2026, 1, 5, tzinfo=UTC)
    out = [f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench feed {feed}</title>'
           f"<link>https://site{feed}.example/</link><description>Feed {feed}</description>"]
    for n in range(items):
        body = "".join(f"<p>Paragraph {p} of story {n} from feed {feed}: the council met on Tuesday and agreed "
                       f"the budget for the harbour, the library and the new tram line after a long debate.</p>"
                       for p in range(8))
        out.append(f"<item><title>{headline(feed, n)}</title>"
                   f"<link>https://site{feed}.example/news/{n}</link><guid>site{feed}-{n}</guid>"
                   f"<pubDate>{format_datetime(when - timedelta(hours=n))}</pubDate>"
                   f"<description>{escape(body)}</description></item>")
    out.append("</channel></rss>")
    return "".join(out).encode()


class Server:
    """Pre-built bytes on 100 loopback hosts, in a thread with its own event loop."""

    def __init__(self, feeds: int, items: int, variant: str) -> None:
        self.bodies = {i: feed_bytes(i, items) for i in range(feeds)}
        self.etags = {i: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for i, b in self.bodies.items()}  # noqa: S324
        self.variant = variant
        self.ports: dict[str, int] = {}
        self.requests = {"200": 0, "304": 0, "500": 0, "garbage": 0}

    def url(self, feed: int) -> str:
        host = f"127.0.0.{2 + feed % HOSTS}"
        return f"http://{host}:{self.ports[host]}/feed/{feed}.xml"

    async def handle(self, request: web.Request) -> web.Response:
        feed = int(request.match_info["n"])
        if self.variant == "faulty":
            if feed % 20 == 5:
                await asyncio.sleep(3.0)
            if feed % 20 == 15:
                self.requests["500"] += 1
                return web.Response(status=500, text="server error")
            if feed % 50 == 25:
                self.requests["garbage"] += 1
                return web.Response(body=b"<html><body>Not a feed" * 100, content_type="text/plain")
        headers = {"ETag": self.etags[feed], "Last-Modified": LAST_MODIFIED}
        if (request.headers.get("If-None-Match") == self.etags[feed]
                or request.headers.get("If-Modified-Since") == LAST_MODIFIED):
            self.requests["304"] += 1
            return web.Response(status=304, headers=headers)
        self.requests["200"] += 1
        return web.Response(body=self.bodies[feed], headers={**headers, "Content-Type": "application/rss+xml"})

    def start(self) -> Server:
        ready = threading.Event()

        def serve() -> None:
            self.loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_get("/feed/{n}.xml", self.handle)
            self.runner = web.AppRunner(app, access_log=None)
            self.loop.run_until_complete(self.runner.setup())
            for h in range(HOSTS):
                host = f"127.0.0.{2 + h}"
                site = web.TCPSite(self.runner, host, 0)
                self.loop.run_until_complete(site.start())
                self.ports[host] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(30)
        return self


# ---- measuring a subprocess tree -----------------------------------------------------
def group_memory(pgid: int) -> int:
    """Summed proportional set size (bytes) of every process in the group: pages shared by
    the forkserver and its workers are counted once, not once per process as RSS would."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat[stat.rindex(")") + 2:].split()[2]) != pgid:  # field 5 of stat: the process group
                continue
            for line in Path(f"/proc/{entry}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError, IndexError):
            continue
    return total


class Sampler:
    def __init__(self, pgid: int) -> None:
        self.pgid, self.peak, self._stop = pgid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, group_memory(self.pgid))
            self._stop.wait(0.02)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_measured(cmd: list[str], cwd: Path, pythonpath: str = str(ROOT)
                 ) -> tuple[float, int, subprocess.CompletedProcess]:
    env = {**os.environ, "PYTHONPATH": pythonpath}
    env = {k: v for k, v in env.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    sampler = Sampler(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    return seconds, peak, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def ours(work: Path, server: Server, feeds: int) -> dict:
    opml = work / "feeds.opml"
    outlines = "".join(f'<outline type="rss" text="Bench feed {i}" xmlUrl="{escape(server.url(i))}"/>'
                       for i in range(feeds))
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>')
    config = work / "bench.toml"
    config.write_text("[fetch]\nallow_private_addresses = true\nallowed_ports = []\n"
                      "[summary]\nalgorithm = \"news\"\n")
    base = [sys.executable, "-m", "bot", "--config", str(config), "--db", str(work / "ours.db")]
    imported = run_measured([*base, "feeds", "import", str(opml), "--channel", "console"], work)[2]
    assert imported.returncode == 0, imported.stderr.decode()[-2000:]
    result: dict = {"import": imported.stdout.decode().strip()}
    inner_db = work / "ours-inner.db"
    again = run_measured([*base[:-1], str(inner_db), "feeds", "import", str(opml), "--channel", "console"], work)[2]
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    for name in ("first", "second"):
        seconds, peak, done = run_measured([*base, "ingest", "--json"], work)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        report = json.loads(done.stdout)
        inner = run_measured([sys.executable, "-c", OURS_SCRIPT, str(config), str(inner_db)], work)[2]
        assert inner.returncode == 0, inner.stderr.decode()[-2000:]
        result[name] = {"seconds": seconds, "peak": peak, "new": report["new_articles"],
                        "errors": len(report["errors"]), "inner": json.loads(inner.stdout)["inner"]}
    seconds, peak, done = run_measured([*base, "digest", "--dry-run", "--json"], work)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    shown = sum(len(d["items"]) for d in json.loads(done.stdout))
    with sqlite3.connect(work / "ours.db") as db:
        result["articles"] = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        result["candidates"] = db.execute(
            "SELECT COUNT(DISTINCT e.article_id) FROM entries e JOIN subscriptions s ON s.feed_id = e.feed_id "
            "WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.article_id = e.article_id)").fetchone()[0]
        result["skipped"] = db.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'skipped'").fetchone()[0]
    result["digest"] = {"seconds": seconds, "peak": peak, "shown": shown}
    return result


def theirs(work: Path, server: Server, feeds: int, workers: int) -> dict:
    """reader, one fresh process per poll like our CLI (its update timed inside as well)."""
    urls = work / "urls.txt"
    urls.write_text("\n".join(server.url(i) for i in range(feeds)))
    base = [sys.executable, "-c", READER_SCRIPT, str(work / "reader.db")]
    added = run_measured([*base, "add", str(urls)], work, pythonpath="")[2]
    if added.returncode != 0:
        raise RuntimeError("reader failed: " + added.stderr.decode()[-2000:])
    result: dict = {}
    for name in ("first", "second"):
        seconds, peak, done = run_measured([*base, "update", str(workers)], work, pythonpath="")
        if done.returncode != 0:
            raise RuntimeError("reader failed: " + done.stderr.decode()[-2000:])
        result[name] = {"seconds": seconds, "peak": peak, **json.loads(done.stdout)}
    result["entries"] = result["second"]["entries"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--variant", choices=("clean", "faulty"), default="clean")
    parser.add_argument("--reader-workers", type=int, default=1)
    parser.add_argument("--skip-reader", action="store_true")
    args = parser.parse_args(argv)
    server = Server(args.feeds, args.items, args.variant).start()
    size = sum(len(b) for b in server.bodies.values())
    print(f"{args.feeds} feeds × {args.items} items ({size / 1e6:.1f} MB), variant {args.variant}, "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="nd-bench-") as tmp:
        work = Path(tmp)
        us = ours(work, server, args.feeds)
        served = dict(server.requests)
        them = None if args.skip_reader else theirs(work, server, args.feeds, args.reader_workers)
    mb = 1024 * 1024
    print(f"\n{'':34}{'newsdigest':>12}{'reader':>12}{'reader / us':>13}")
    for name in ("first", "second"):
        a = us[name]
        b = them[name] if them else {"seconds": 0.0, "inner": 0.0, "peak": 0, "errors": 0}
        for label, key in (("whole command, wall s", "seconds"), ("the poll inside it, s", "inner")):
            ratio = f"{b[key] / a[key]:.1f}×" if them else "-"
            print(f"{name + ' poll: ' + label:34}{a[key]:>12.2f}{b[key]:>12.2f}{ratio:>13}")
        print(f"{name + ' poll: peak PSS, MB':34}{a['peak'] / mb:>12.0f}{b['peak'] / mb:>12.0f}")
        print(f"{name + ' poll: feeds failed':34}{a['errors']:>12}{b['errors']:>12}")
    print(f"\nnewsdigest: {us['import']}; {us['articles']} articles stored (reader: "
          f"{them['entries'] if them else '-'} entries); first poll {us['first']['new']} new, second "
          f"{us['second']['new']}")
    print(f"first digest (dry run): {us['digest']['shown']} items summarized in {us['digest']['seconds']:.2f} s, "
          f"peak {us['digest']['peak'] / mb:.0f} MB; {us['skipped']} items marked seen by the backfill, "
          f"{us['candidates']} candidates left (≤ feeds × backfill)")
    print(f"server answers to newsdigest: {served}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
