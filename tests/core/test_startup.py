"""Start-up laziness: a command imports only what it uses. These check *which* modules a
command loads (never how long it takes; speed is measured in bench/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from bot.workers import Workers, parse_source
from tests.conftest import write_config
from tests.support.feedserver import make_items, rss

HEAVY = ("aiohttp", "trafilatura", "numpy", "sumy", "nltk", "discord", "slack_bolt", "slack_sdk")
PARSERS = ("feedparser", "lxml", "trafilatura")

# Runs bot.cli.main in a fresh interpreter, then prints which watched top-level packages it loaded.
SCRIPT = textwrap.dedent("""
    import contextlib, io, json, sys
    from bot.cli import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(sys.argv[2:])
    watched = set(json.loads(sys.argv[1]))
    loaded = sorted({name.split(".")[0] for name in sys.modules} & watched)
    print(json.dumps({"code": code, "loaded": loaded, "stdout": out.getvalue()}))
""")


def run_cli(tmp_path: Path, *args: str, watch: tuple[str, ...] = HEAVY + PARSERS) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(watch), *args], cwd=tmp_path,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout.decode().splitlines()[-1])


def test_feeds_list_imports_no_network_parser_summarizer_or_platform_library(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", "[fetch]\nallow_private_addresses = true\n"
                          "[[feeds]]\nurl = \"https://news.example/feed.xml\"\nchannels = [\"console\"]\n")
    db = str(tmp_path / "t.db")
    for extra in ((), ("--json",)):
        result = run_cli(tmp_path, "--config", str(config), "--db", db, "feeds", "list", *extra)
        assert result["code"] == 0 and "news.example" in result["stdout"]
        assert [m for m in result["loaded"] if m in HEAVY + ("feedparser", "trafilatura")] == [], result["loaded"]


def test_feeds_list_with_the_embedded_default_loads_nothing_heavy(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--db", str(tmp_path / "t.db"), "feeds", "list")
    assert result["code"] == 0 and "Sample news" in result["stdout"]
    assert [m for m in result["loaded"] if m in HEAVY] == [], result["loaded"]


def test_summarize_a_text_file_loads_no_network_extractor_or_platform_library(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("A title\n\n" + " ".join(f"Sentence number {n} tells the council about the harbour."
                                                 for n in range(12)))
    result = run_cli(tmp_path, "summarize", str(article), "--sentences", "2")
    assert result["code"] == 0 and result["stdout"].count("- ") == 2
    assert [m for m in result["loaded"] if m in ("aiohttp", "trafilatura", "discord", "slack_bolt",
                                                 "slack_sdk")] == [], result["loaded"]


def test_the_default_summarizer_loads_neither_nltk_nor_pydantic(tmp_path: Path) -> None:
    """Importing NLTK (through sumy's stemmers) pulls scipy in when it is installed: two
    seconds before the first summary. Only the sumy algorithms may pay that, on first use."""
    article = tmp_path / "a.txt"
    article.write_text("Harbour opens\n\n" + " ".join(f"The harbour took {n} years to build, the mayor said."
                                                       for n in range(3, 12)))
    watch = ("nltk", "scipy", "pydantic", "sumy", "numpy")
    news = run_cli(tmp_path, "summarize", str(article), "--sentences", "2", watch=watch)
    assert news["code"] == 0 and news["stdout"].count("- ") == 2
    assert [m for m in news["loaded"] if m in ("nltk", "scipy", "pydantic", "numpy")] == [], news["loaded"]
    german = run_cli(tmp_path, "summarize", str(article), "--sentences", "2", "--language", "de", watch=watch)
    assert german["code"] == 0 and "nltk" not in german["loaded"]  # Snowball through PyStemmer
    luhn = run_cli(tmp_path, "summarize", str(article), "--sentences", "2", "--algorithm", "luhn", watch=watch)
    assert luhn["code"] == 0 and "sumy" in luhn["loaded"]  # the sumy algorithms still load sumy


POLL = textwrap.dedent("""
    import asyncio, json, sys
    from bot.app import App
    from bot.config import load_settings
    from bot.models import ChannelRef
    from bot.workers import Workers

    async def main():
        app = App(load_settings(sys.argv[1]), sys.argv[2], workers=Workers(1))
        await app.open()
        try:
            await app.add_feed(sys.argv[3], ChannelRef.parse("console"), poll=False)
            new = sum(o.new for o in await app.ingest())
            # evaluated in the worker: what the worker process has imported by now
            worker = await app.workers.run(eval, "sorted({m.split('.')[0] for m in __import__('sys').modules})")
        finally:
            await app.close()
        return new, worker

    new, worker = asyncio.run(main())
    mine = sorted({m.split(".")[0] for m in sys.modules})
    print(json.dumps({"new": new, "main": mine, "worker": sorted(set(worker))}))
""")


def test_a_poll_parses_in_the_worker_and_the_worker_loads_only_the_parsers(tmp_path: Path, feed_server) -> None:
    feed_server.set("/feed", body=rss(make_items(1, 5)))
    config = write_config(tmp_path / "c.toml")
    done = subprocess.run([sys.executable, "-c", POLL, str(config), str(tmp_path / "p.db"), feed_server.url("/feed")],
                          cwd=tmp_path, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout.decode().splitlines()[-1])
    assert result["new"] == 5
    assert "feedparser" in result["worker"]
    assert [m for m in result["worker"] if m in HEAVY] == []  # a parse-only worker
    assert [m for m in result["main"] if m in PARSERS + ("numpy", "sumy")] == []  # the loop's process parses nothing


async def test_parse_job_returns_plain_rows_that_match_the_parser() -> None:
    from bot.pipeline.dedupe import canonical_url, content_hash
    from bot.sources.page_source import parse_source as real

    body = rss(make_items(1, 3))
    now = datetime(2026, 1, 5, tzinfo=UTC)
    workers = Workers(0)
    try:
        title, warning, rows = await workers.run(parse_source, body, "https://news.example/feed", None, None, now)
        identified = (await workers.run(parse_source, body, "https://news.example/feed", None, None, now, True))[2]
    finally:
        workers.close()
    expected = real(body, "https://news.example/feed", None, None, now)
    assert title == expected.title and warning == expected.warning
    assert [r[0] for r in rows] == [e.key for e in expected.entries]
    assert [(r[1], r[2], r[4]) for r in rows] == [(e.title, e.url, e.text) for e in expected.entries]
    assert all(r[8] is None and r[9] is None for r in rows)  # a later poll: the caller hashes only new entries
    # a first poll: identified in the worker, exactly as the store's dedupe would
    assert [r[8:] for r in identified] == [(canonical_url(e.url), content_hash(e.title, e.text))
                                           for e in expected.entries]
