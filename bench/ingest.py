"""Ingest load: 500 feeds × 50 items on a local server, newsdigest against `reader`, side by side.

    python bench/ingest.py [--runs 3] [--feeds 500] [--items 50] [--variant clean|faulty] [--reader-workers 1]

A local aiohttp server (in this process, on 100 loopback addresses 127.0.0.2-101, so
per-host politeness works as it would across real hosts) serves pre-built feed bytes with
ETag and Last-Modified, answering 304 to a matching conditional request. The `faulty`
variant makes one feed in 20 slow (3 s), one in 20 answer 500 and one in 50 serve bytes
that are not a feed.

Both contenders run as whole subprocesses (start-up included), each in its own process
group whose summed PSS is sampled every 20 ms (by bench/pss.py, in a process of its own),
so our worker processes count against us:
 - newsdigest: `feeds import feeds.opml`, then `ingest` twice (the second is all 304),
   then `digest --dry-run` (counts how many summaries a first digest computes); the same
   polls also run in a small driver that times `App.ingest()` alone (no start-up);
 - reader (pip install reader sgmllib3k): add the same feeds, then one process per poll
   running `update_feeds(scheduled=False)`, timed whole and inside.
Each of `--runs` rounds is paired (both contenders on fresh databases, the order alternating
so a load change hits both alike); the table gives the median of the rounds with each
issue-14 target beside it, then every round's figures. The first digest is also timed alone
(`App.make_digests` on a copy of the database right after the first poll), and the quick
commands' start-up comes from bench/startup.py. Subprocesses run from compiled bytecode, as
an installed package does (see `startup.bytecode_env`).
Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import signal
import sqlite3
import statistics
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
sys.path.insert(0, str(ROOT / "bench"))
from startup import TARGET_SECONDS, bytecode_env  # noqa: E402
from startup import measure as measure_startup  # noqa: E402

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
    app = App(settings, sys.argv[2], workers=workers)  # as `ingest` does for 20+ feeds
    await app.open()
    started = time.perf_counter()
    outcomes = await app.ingest()
    inner = time.perf_counter() - started
    await app.close()
    print(json.dumps({"inner": inner, "new": sum(o.new for o in outcomes),
                      "errors": sum(1 for o in outcomes if o.error)}))

if __name__ == "__main__":
    workers = Workers(os.cpu_count() or 1)
    workers.prefork()  # as the CLI does, before any thread
    asyncio.run(main())
"""
DIGEST_SCRIPT = r"""
import asyncio, json, sys, time
from bot.app import App
from bot.config import load_settings
from bot.workers import Workers

async def main():
    app = App(load_settings(sys.argv[1]), sys.argv[2], workers=Workers(0))  # as `digest` summarizes
    await app.open()
    started = time.perf_counter()
    digests = await app.make_digests(dry_run=True)
    inner = time.perf_counter() - started
    await app.close()
    print(json.dumps({"inner": inner, "shown": sum(len(d.items) for d in digests)}))

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
class Sampler:
    """bench/pss.py in a process of its own (not on the feed server's GIL), ready before the
    measured command starts."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "pss.py")],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None and self._proc.stdout.readline().strip() == "ready"

    def watch(self, pgid: int) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(f"{pgid}\n")
        self._proc.stdin.flush()

    def stop(self) -> int:
        out, _ = self._proc.communicate()
        return int(out)


CACHE = Path(tempfile.gettempdir()) / "nd-bench-pycache"  # kept between runs, like an install's .pyc


def run_measured(cmd: list[str], cwd: Path, pythonpath: str = str(ROOT)
                 ) -> tuple[float, int, subprocess.CompletedProcess, float]:
    """(wall seconds, peak PSS bytes, the finished process, CPU seconds). CPU is user + system
    of the command and every process it waited for (its parse workers), from getrusage."""
    env = bytecode_env(CACHE, pythonpath)
    sampler = Sampler()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    sampler.watch(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # before the sampler is reaped
    peak = sampler.stop()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, peak, subprocess.CompletedProcess(cmd, proc.returncode, out, err), cpu


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
        seconds, peak, done, cpu = run_measured([*base, "ingest", "--json"], work)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        report = json.loads(done.stdout)
        inner = run_measured([sys.executable, "-c", OURS_SCRIPT, str(config), str(inner_db)], work)[2]
        assert inner.returncode == 0, inner.stderr.decode()[-2000:]
        result[name] = {"seconds": seconds, "peak": peak, "cpu": cpu, "new": report["new_articles"],
                        "errors": len(report["errors"]), "inner": json.loads(inner.stdout)["inner"]}
        if name == "first":  # a stored first poll, for the digest timed alone
            with sqlite3.connect(work / "ours.db") as db, sqlite3.connect(work / "digest.db") as copy:
                db.backup(copy)
    alone = run_measured([sys.executable, "-c", DIGEST_SCRIPT, str(config), str(work / "digest.db")], work)
    assert alone[2].returncode == 0, alone[2].stderr.decode()[-2000:]
    seconds, peak, done, _cpu = run_measured([*base, "digest", "--dry-run", "--json"], work)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    shown = sum(len(d["items"]) for d in json.loads(done.stdout))
    with sqlite3.connect(work / "ours.db") as db:
        result["articles"] = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        result["candidates"] = db.execute(
            "SELECT COUNT(DISTINCT e.article_id) FROM entries e JOIN subscriptions s ON s.feed_id = e.feed_id "
            "WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.article_id = e.article_id)").fetchone()[0]
        result["skipped"] = db.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'skipped'").fetchone()[0]
    result["digest"] = {"seconds": seconds, "peak": peak, "shown": shown,
                        "inner": json.loads(alone[2].stdout)["inner"], "inner_peak": alone[1]}
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
        seconds, peak, done, cpu = run_measured([*base, "update", str(workers)], work, pythonpath="")
        if done.returncode != 0:
            raise RuntimeError("reader failed: " + done.stderr.decode()[-2000:])
        result[name] = {"seconds": seconds, "peak": peak, "cpu": cpu, **json.loads(done.stdout)}
    result["entries"] = result["second"]["entries"]
    return result


MB = 1024 * 1024
# issue 14's targets: (row, check on the rounds, wording)
TARGETS = {
    "first_ratio": "≥ 2.0× reader, every round",
    "first_peak": "≤ 90 MB",
    "second_ratio": "≥ 4× reader",
    "second_inner_ratio": "≥ 10× reader",
    "digest_alone": "≤ 0.5 s",
    "digest_alone_peak": "≤ 120 MB",
    "startup": f"≤ {TARGET_SECONDS} s",
}


def one_round(server: Server, args: argparse.Namespace, index: int) -> dict:
    """Both contenders on fresh databases; reader goes first on odd rounds."""
    with tempfile.TemporaryDirectory(prefix="nd-bench-") as tmp:
        work = Path(tmp)
        them = None
        if index % 2 and not args.skip_reader:
            them = theirs(work, server, args.feeds, args.reader_workers)
        before = dict(server.requests)
        us = ours(work, server, args.feeds)
        served = {k: v - before.get(k, 0) for k, v in server.requests.items()}
        if them is None and not args.skip_reader:
            them = theirs(work, server, args.feeds, args.reader_workers)
    return {"us": us, "them": them, "served": served}


def figures(r: dict) -> dict[str, float]:
    """The numbers of one round that the table shows."""
    us, them = r["us"], r["them"]
    out = {}
    for poll in ("first", "second"):
        out[f"{poll}_seconds"] = us[poll]["seconds"]
        out[f"{poll}_inner"] = us[poll]["inner"]
        out[f"{poll}_peak"] = us[poll]["peak"] / MB
        out[f"{poll}_cpu"] = us[poll]["cpu"]
        if them:
            out[f"{poll}_reader_seconds"] = them[poll]["seconds"]
            out[f"{poll}_reader_inner"] = them[poll]["inner"]
            out[f"{poll}_reader_peak"] = them[poll]["peak"] / MB
            out[f"{poll}_reader_cpu"] = them[poll]["cpu"]
            out[f"{poll}_ratio"] = them[poll]["seconds"] / us[poll]["seconds"]
            out[f"{poll}_inner_ratio"] = them[poll]["inner"] / us[poll]["inner"]
    out["digest_seconds"] = us["digest"]["seconds"]
    out["digest_peak"] = us["digest"]["peak"] / MB
    out["digest_alone"] = us["digest"]["inner"]
    out["digest_alone_peak"] = us["digest"]["inner_peak"] / MB
    return out


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "NOT met")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="paired rounds (the table shows their median)")
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--variant", choices=("clean", "faulty"), default="clean")
    parser.add_argument("--reader-workers", type=int, default=1)
    parser.add_argument("--skip-reader", action="store_true")
    parser.add_argument("--startup-runs", type=int, default=7)
    args = parser.parse_args(argv)
    server = Server(args.feeds, args.items, args.variant).start()
    size = sum(len(b) for b in server.bodies.values())
    print(f"{args.feeds} feeds × {args.items} items ({size / 1e6:.1f} MB), variant {args.variant}, "
          f"{os.cpu_count()} cores, {args.runs} paired round(s)", flush=True)
    # compile this checkout into the bench's bytecode cache first, as `pip install` does
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bot"), str(ROOT / "adapters")],
                   env=bytecode_env(CACHE), check=True)
    # ... and the libraries both contenders import (the cache prefix covers site-packages too):
    # every measured command once on a few feeds, untimed, so round 1 pays no compiling either
    with tempfile.TemporaryDirectory(prefix="nd-bench-warm-") as tmp:
        ours(Path(tmp), server, min(5, args.feeds))
        if not args.skip_reader:
            theirs(Path(tmp), server, min(5, args.feeds), args.reader_workers)
    rounds = []
    for index in range(args.runs):
        rounds.append(one_round(server, args, index))
        f = figures(rounds[-1])
        print(f"  round {index + 1}: first {f['first_seconds']:.2f} s"
              + (f" vs reader {f['first_reader_seconds']:.2f} s ({f['first_ratio']:.2f}×)" if rounds[-1]["them"]
                 else "") + f", {f['first_peak']:.0f} MB; digest alone {f['digest_alone']:.2f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="nd-startup-") as tmp:
        work = Path(tmp)
        opml = work / "feeds.opml"
        opml.write_text('<?xml version="1.0"?><opml version="2.0"><body>' + "".join(
            f'<outline xmlUrl="{escape(server.url(i))}"/>' for i in range(args.feeds)) + "</body></opml>")
        config = work / "bench.toml"
        config.write_text("[fetch]\nallow_private_addresses = true\nallowed_ports = []\n")
        run_measured([sys.executable, "-m", "bot", "--config", str(config), "--db", str(work / "s.db"), "feeds",
                      "import", str(opml)], work)
        startup = measure_startup(work, args.startup_runs, db=work / "s.db", config=config)

    per_round = [figures(r) for r in rounds]
    med = {k: statistics.median(f[k] for f in per_round) for k in per_round[0]}
    has_reader = rounds[0]["them"] is not None
    print(f"\nmedian of {len(rounds)} round(s)\n{'':38}{'newsdigest':>11}{'reader':>9}{'ratio':>8}"
          f"   {'target':28}")

    def row(label: str, ours_value: str, reader_value: str = "", ratio: str = "", target: str = "",
            ok: bool | None = None) -> None:
        print(f"{label:38}{ours_value:>11}{reader_value:>9}{ratio:>8}   {target:28}{verdict(ok)}")

    for poll in ("first", "second"):
        ratio_key = f"{poll}_ratio"
        ratios = [f[ratio_key] for f in per_round] if has_reader else []
        if poll == "first":
            target, ok = TARGETS["first_ratio"], (min(ratios) >= 2.0 if ratios else None)
        else:
            target, ok = TARGETS["second_ratio"], (med[ratio_key] >= 4.0 if ratios else None)
        row(f"{poll} poll, whole command (s)", f"{med[f'{poll}_seconds']:.2f}",
            f"{med[f'{poll}_reader_seconds']:.2f}" if has_reader else "-",
            f"{med[ratio_key]:.1f}×" if has_reader else "-", target, ok)
        inner_ok = med[f"{poll}_inner_ratio"] >= 10.0 if has_reader and poll == "second" else None
        row(f"{poll} poll, the poll itself (s)", f"{med[f'{poll}_inner']:.2f}",
            f"{med[f'{poll}_reader_inner']:.2f}" if has_reader else "-",
            f"{med[f'{poll}_inner_ratio']:.1f}×" if has_reader else "-",
            TARGETS["second_inner_ratio"] if poll == "second" else "", inner_ok)
        peak_ok = max(f["first_peak"] for f in per_round) <= 90 if poll == "first" else None
        row(f"{poll} poll, peak PSS (all processes, MB)", f"{med[f'{poll}_peak']:.0f}",
            f"{med[f'{poll}_reader_peak']:.0f}" if has_reader else "-", "",
            TARGETS["first_peak"] + " (every round)" if poll == "first" else "", peak_ok)
        row(f"{poll} poll, CPU (all processes, s)", f"{med[f'{poll}_cpu']:.2f}",
            f"{med[f'{poll}_reader_cpu']:.2f}" if has_reader else "-")
    row("first digest alone, 10 items (s)", f"{med['digest_alone']:.2f}", target=TARGETS["digest_alone"],
        ok=med["digest_alone"] <= 0.5)
    row("first digest alone, peak PSS (MB)", f"{med['digest_alone_peak']:.0f}",
        target=TARGETS["digest_alone_peak"], ok=med["digest_alone_peak"] <= 120)
    row("`digest --dry-run`, whole command (s)", f"{med['digest_seconds']:.2f}", target="(a 304 poll + the above)")
    row("`digest --dry-run`, peak PSS (MB)", f"{med['digest_peak']:.0f}")
    for name, r in startup.items():
        target = TARGETS["startup"] if name in ("summarize FILE", "feeds list (500 feeds)") else ""
        row(f"{name} (s)", f"{r['median']:.2f}", target=target, ok=r["median"] <= TARGET_SECONDS if target else None)

    print("\nevery round (first poll: us / reader / ratio / our PSS / CPU us, reader; second: us / reader / ratio;"
          " digest alone):")
    for index, f in enumerate(per_round, 1):
        reader_first = (f"{f['first_reader_seconds']:.2f} / {f['first_ratio']:.2f}×" if has_reader else "- / -")
        reader_second = (f"{f['second_reader_seconds']:.2f} / {f['second_ratio']:.1f}× "
                         f"(poll itself {f['second_inner']:.3f} / {f['second_reader_inner']:.3f} s, "
                         f"{f['second_inner_ratio']:.1f}×)" if has_reader else "- / -")
        cpu = f"{f['first_cpu']:.1f}, " + (f"{f['first_reader_cpu']:.1f} s" if has_reader else "- s")
        print(f"  {index}: first {f['first_seconds']:.2f} / {reader_first} / {f['first_peak']:.0f} MB / CPU {cpu}; "
              f"second {f['second_seconds']:.2f} / {reader_second}; digest alone {f['digest_alone']:.2f} s, "
              f"{f['digest_alone_peak']:.0f} MB; digest command {f['digest_seconds']:.2f} s, {f['digest_peak']:.0f} MB")
    for name, r in startup.items():
        runs = ", ".join(f"{t:.2f}" for t in r["runs"])
        print(f"  {name}: {runs} s; imported: {', '.join(r['loaded']) or '-'}")
    us = rounds[-1]["us"]
    print(f"\nnewsdigest: {us['import']}; {us['articles']} articles stored (reader: "
          f"{rounds[-1]['them']['entries'] if has_reader else '-'} entries); first poll {us['first']['new']} new, "
          f"second {us['second']['new']}; feeds failed: first {us['first']['errors']}, second {us['second']['errors']}")
    print(f"first digest (dry run): {us['digest']['shown']} items summarized; {us['skipped']} items marked seen "
          f"by the backfill, {us['candidates']} candidates left (≤ feeds × backfill)")
    print(f"server answers to newsdigest (last round): {rounds[-1]['served']}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
